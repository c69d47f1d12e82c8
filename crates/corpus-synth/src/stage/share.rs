//! Which PRs a share of the stage's work goes to (`[synthesize] agentic_share`,
//! `reasoning_share`). A PR's place in `[0, 1)` is a hash of the seed, the repository and the
//! PR number; a share chooses the PRs placed below it. So the choice is the same for any task
//! count and order, a larger share chooses every PR a smaller one did, and the PRs chosen for
//! the smaller of the two shares are chosen for the other too (their exploration serves both).

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// PR `number`'s place in `[0, 1)`.
pub fn place(seed: u64, repo: &str, number: i64) -> f64 {
    let key = format!("{repo}\0{number}");
    // The top 53 bits as a fraction: exact in an f64.
    (xxh3_64_with_seed(key.as_bytes(), seed) >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether a PR at `place` is among the `share` chosen (a share of 1 chooses every PR).
pub fn chosen(place: f64, share: f64) -> bool {
    share >= 1.0 || place < share
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(share: f64) -> usize {
        (0..10_000)
            .filter(|n| chosen(place(7, "o/r", *n), share))
            .count()
    }

    #[test]
    fn a_share_chooses_about_that_share_and_a_larger_one_more() {
        assert_eq!(count(1.0), 10_000);
        assert_eq!(count(0.0), 0);
        assert_eq!(count(f64::NAN), 0);
        let tenth = count(0.1);
        assert!((900..1_100).contains(&tenth), "{tenth}");
        for n in 0..10_000 {
            let at = place(7, "o/r", n);
            assert!((0.0..1.0).contains(&at));
            if chosen(at, 0.1) {
                assert!(chosen(at, 0.5));
            }
        }
        // Another seed or repository, another choice.
        let moved = (0..1_000)
            .filter(|n| chosen(place(7, "o/r", *n), 0.5) != chosen(place(8, "o/r", *n), 0.5))
            .count();
        assert!(moved > 300, "{moved}");
        let moved = (0..1_000)
            .filter(|n| chosen(place(7, "o/r", *n), 0.5) != chosen(place(7, "o/s", *n), 0.5))
            .count();
        assert!(moved > 300, "{moved}");
    }
}
