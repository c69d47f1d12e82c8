//! Parquet's RLE / bit-packed hybrid encoding of levels, read as runs. A shard's repetition
//! levels are long runs of 1 broken by a 0 where each document starts, so walking the runs
//! finds the documents without expanding one level per token.

/// One run of levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run<'a> {
    /// `count` copies of `value`.
    Repeat { value: u16, count: usize },
    /// `count` values packed least significant bit first, `bit_width` bits each.
    Packed { bytes: &'a [u8], count: usize },
}

/// The runs of `num_values` levels of `bit_width` bits (at most 16) encoded in `data`.
pub struct Runs<'a> {
    data: &'a [u8],
    bit_width: usize,
    left: usize,
}

impl<'a> Runs<'a> {
    pub fn new(data: &'a [u8], bit_width: u8, num_values: usize) -> Self {
        Self {
            data,
            bit_width: usize::from(bit_width.min(16)),
            left: num_values,
        }
    }

    fn header(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for (i, byte) in self.data.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.data = &self.data[i + 1..];
                return Ok(value);
            }
        }
        Err("a level run header is cut short".into())
    }
}

impl<'a> Iterator for Runs<'a> {
    type Item = Result<Run<'a>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let run = self.header().and_then(|header| {
            let groups = usize::try_from(header >> 1).map_err(|_| "a level run too long")?;
            if header & 1 == 1 {
                // Bit-packed: groups of 8 values; the last group may pad past the levels.
                let len = groups.saturating_mul(self.bit_width);
                let bytes = self
                    .data
                    .get(..len)
                    .ok_or("bit-packed levels are cut short")?;
                self.data = &self.data[len..];
                Ok(Run::Packed {
                    bytes,
                    count: groups.saturating_mul(8).min(self.left),
                })
            } else {
                let width = self.bit_width.div_ceil(8);
                let bytes = self.data.get(..width).ok_or("a level run is cut short")?;
                self.data = &self.data[width..];
                let value = bytes
                    .iter()
                    .rev()
                    .fold(0u16, |v, b| (v << 8) | u16::from(*b));
                Ok(Run::Repeat {
                    value,
                    count: groups.min(self.left),
                })
            }
        });
        match run {
            Ok(run) => {
                let count = match run {
                    Run::Repeat { count, .. } | Run::Packed { count, .. } => count,
                };
                if count == 0 {
                    self.left = 0;
                    return Some(Err("an empty level run".into()));
                }
                self.left -= count;
                Some(Ok(run))
            }
            Err(e) => {
                self.left = 0;
                Some(Err(e))
            }
        }
    }
}

/// Value `i` of bit-packed levels.
pub fn packed_value(bytes: &[u8], bit_width: u8, i: usize) -> u16 {
    let width = usize::from(bit_width.min(16));
    let bit = i * width;
    let byte = bit / 8;
    let word = (0..3).fold(0u32, |w, k| {
        w | (u32::from(bytes.get(byte + k).copied().unwrap_or(0)) << (8 * k))
    });
    ((word >> (bit % 8)) & ((1u32 << width) - 1)) as u16
}

/// The bit width of levels up to `max_level`.
pub fn bit_width(max_level: i16) -> u8 {
    (16 - (max_level.max(0) as u16).leading_zeros()) as u8
}

/// Every level, expanded (for the rare page whose definition levels are not one run).
pub fn expand(data: &[u8], bit_width: u8, num_values: usize) -> Result<Vec<u16>, String> {
    let mut out = Vec::with_capacity(num_values);
    for run in Runs::new(data, bit_width, num_values) {
        match run? {
            Run::Repeat { value, count } => out.resize(out.len() + count, value),
            Run::Packed { bytes, count } => {
                out.extend((0..count).map(|i| packed_value(bytes, bit_width, i)))
            }
        }
    }
    if out.len() != num_values {
        return Err(format!("{} levels for {num_values} values", out.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_repeats_and_packed_groups() {
        // 10 × 1 (repeat), then 8 packed 1-bit values 0,1,1,1,0,1,1,1 (0xEE), then 3 × 0.
        let data = [10 << 1, 1, (1 << 1) | 1, 0xEE, 3 << 1, 0];
        let runs: Vec<_> = Runs::new(&data, 1, 21)
            .collect::<Result<_, _>>()
            .expect("runs");
        assert_eq!(
            runs,
            vec![
                Run::Repeat {
                    value: 1,
                    count: 10
                },
                Run::Packed {
                    bytes: &[0xEE],
                    count: 8
                },
                Run::Repeat { value: 0, count: 3 },
            ]
        );
        let levels = expand(&data, 1, 21).expect("expand");
        assert_eq!(&levels[10..18], &[0, 1, 1, 1, 0, 1, 1, 1]);
        assert_eq!(levels.iter().filter(|l| **l == 0).count(), 5);
    }

    #[test]
    fn a_last_packed_group_is_cut_to_the_levels_left() {
        let data = [(1 << 1) | 1, 0b0000_0101];
        let levels = expand(&data, 1, 3).expect("expand");
        assert_eq!(levels, vec![1, 0, 1]);
    }

    #[test]
    fn wider_levels_unpack_across_bytes() {
        // 2-bit values 0..=3 then 3,2,1,0: bytes 0b11_10_01_00, 0b00_01_10_11.
        let data = [(1 << 1) | 1, 0b1110_0100, 0b0001_1011];
        assert_eq!(
            expand(&data, 2, 8).expect("expand"),
            vec![0, 1, 2, 3, 3, 2, 1, 0]
        );
        assert_eq!(bit_width(0), 0);
        assert_eq!(bit_width(1), 1);
        assert_eq!(bit_width(2), 2);
        assert_eq!(bit_width(3), 2);
        assert_eq!(bit_width(4), 3);
    }

    #[test]
    fn cut_short_or_empty_runs_are_errors() {
        assert!(expand(&[(2 << 1) | 1, 0xFF], 1, 16).is_err());
        assert!(expand(&[0x80], 1, 4).is_err());
        assert!(expand(&[0, 1], 1, 4).is_err());
        assert!(expand(&[4 << 1], 1, 4).is_err());
        // Fewer levels than the page says.
        assert!(expand(&[2 << 1, 1], 1, 4).is_err());
    }
}
