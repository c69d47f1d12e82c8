//! Seeded repeats and shuffle keys: functions of (seed, sample id, repeat) only, so the
//! mixture is the same whatever the task split or thread count.

use xxhash_rust::xxh3::xxh3_64_with_seed;

fn hash(seed: u64, label: &[u8], sample_id: &str, extra: u64) -> u64 {
    let mut bytes = Vec::with_capacity(label.len() + sample_id.len() + 9);
    bytes.extend_from_slice(label);
    bytes.push(0);
    bytes.extend_from_slice(sample_id.as_bytes());
    bytes.extend_from_slice(&extra.to_le_bytes());
    xxh3_64_with_seed(&bytes, seed)
}

/// Copies of a sample under repeat factor `factor`: `floor(factor)`, plus one more for a
/// seeded `frac(factor)` share of the samples.
pub fn copies(seed: u64, sample_id: &str, factor: f64) -> u32 {
    if !factor.is_finite() || factor <= 0.0 {
        return 0;
    }
    let whole = factor.floor();
    let fraction = factor - whole;
    let draw = hash(seed, b"repeat", sample_id, 0) as f64 / (u64::MAX as f64 + 1.0);
    whole as u32 + u32::from(draw < fraction)
}

/// The place of copy `repeat` of a sample in the global shuffle.
pub fn shuffle_key(seed: u64, sample_id: &str, repeat: u32) -> u64 {
    hash(seed, b"shuffle", sample_id, u64::from(repeat))
}

/// The bucket of a key among `buckets` equal key ranges (monotone in the key).
pub fn bucket_of(key: u64, buckets: u32) -> u32 {
    ((u128::from(key) * u128::from(buckets.max(1))) >> 64) as u32
}

/// Buckets for `tokens` tokens when a bucket holds `target_bytes` of ids (4 bytes a token).
pub fn buckets_for(tokens: u64, target_bytes: u64) -> u32 {
    let bytes = tokens.saturating_mul(4);
    bytes
        .div_ceil(target_bytes.max(1))
        .clamp(1, u64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_follow_the_factor() {
        let ids: Vec<String> = (0..20_000).map(|i| format!("s{i}")).collect();
        let total = |f: f64| ids.iter().map(|id| copies(7, id, f) as u64).sum::<u64>();
        assert_eq!(total(1.0), 20_000);
        assert_eq!(total(3.0), 60_000);
        assert_eq!(total(0.0), 0);
        let fractional = total(1.25) as f64 / 20_000.0;
        assert!((fractional - 1.25).abs() < 0.01, "{fractional}");
        assert_eq!(copies(7, "x", 2.5), copies(7, "x", 2.5));
    }

    #[test]
    fn buckets_are_key_ranges() {
        let keys: Vec<u64> = (0..1000)
            .map(|i| shuffle_key(1, &format!("{i}"), 0))
            .collect();
        for buckets in [1, 3, 64] {
            let mut sorted = keys.clone();
            sorted.sort();
            let by_bucket: Vec<u32> = sorted.iter().map(|k| bucket_of(*k, buckets)).collect();
            assert!(by_bucket.windows(2).all(|w| w[0] <= w[1]));
            assert!(by_bucket.iter().all(|b| *b < buckets));
        }
        assert_eq!(bucket_of(u64::MAX, 4), 3);
        assert_eq!(buckets_for(0, 1 << 20), 1);
        assert_eq!(buckets_for(1 << 20, 1 << 20), 4);
    }

    #[test]
    fn keys_depend_on_seed_and_repeat() {
        assert_ne!(shuffle_key(1, "a", 0), shuffle_key(2, "a", 0));
        assert_ne!(shuffle_key(1, "a", 0), shuffle_key(1, "a", 1));
    }
}
