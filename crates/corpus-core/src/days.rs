//! Calendar days as counts from 1970-01-01 (Howard Hinnant's civil-date algorithms), for the
//! dates GitHub's search takes and answers with; no time zone is involved.

/// Days since 1970-01-01 of a civil date.
pub fn from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day count.
pub fn to_civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD` of a day count.
pub fn format(days: i64) -> String {
    let (y, m, d) = to_civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The day count of `YYYY-MM-DD` (the first ten characters of a timestamp do too).
pub fn parse(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| from_civil(y, m, d))
}

/// Today, by the system clock.
pub fn today() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        .div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for (text, days) in [
            ("1970-01-01", 0),
            ("2008-01-01", 13_879),
            ("2024-02-29", 19_782),
            ("2026-12-06", 20_793),
        ] {
            assert_eq!(parse(text), Some(days), "{text}");
            assert_eq!(format(days), text);
        }
        for days in (-1000..30_000).step_by(7) {
            assert_eq!(parse(&format(days)), Some(days));
        }
        assert_eq!(parse("2024-13-01"), None);
        assert_eq!(parse("2024/01/01"), None);
    }
}
