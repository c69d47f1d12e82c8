//! Small parsers of what GitHub sends: `Link` headers, absolute URLs, ISO 8601 times, and
//! the closing keywords that tie a PR to the issues it fixes.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;

/// `url` relative to the API base (`https://host/api/v3/repos/x` → `/repos/x`).
pub fn relative_url(url: &str, base: &str) -> String {
    if let Some(rest) = url.strip_prefix(base) {
        return rest.to_string();
    }
    // Another origin (an API host behind a proxy): keep the path and query.
    let without_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = match without_scheme.find('/') {
        Some(i) if url.contains("://") => &without_scheme[i..],
        _ => url,
    };
    let base_path = base
        .split_once("://")
        .map(|(_, r)| r)
        .and_then(|r| r.find('/').map(|i| &r[i..]))
        .unwrap_or("");
    path.strip_prefix(base_path).unwrap_or(path).to_string()
}

/// The `rel="next"` target of a `Link` header, relative to the API base.
pub fn next_link(header: &str, base: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| relative_url(target, base))
    })
}

/// Unix seconds of `2024-01-02T03:04:05Z` (or with an offset such as `+02:00`).
pub fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = &text[19..];
    let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest {
        "Z" | "" => 0,
        _ => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            let hh = rest.get(1..3)?.parse::<i64>().ok()?;
            let mm = rest.get(4..6)?.parse::<i64>().ok()?;
            sign * (hh * 3600 + mm * 60)
        }
    };
    let days = crate::days::from_civil(y, mo, d);
    Some(days * 86_400 + h * 3600 + mi * 60 + s - offset)
}

fn closing_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)\b(?:close|closes|closed|fix|fixes|fixed|resolve|resolves|resolved)\s*:?\s+(?:([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+))?#(\d+)\b",
        )
        .expect("static regex")
    })
}

/// Issue numbers of `repo` that `text` closes with GitHub's keywords (`Fixes #12`,
/// `closes owner/name#3`); references to other repositories are left out.
pub fn closing_references(text: &str, repo: &str) -> BTreeSet<i64> {
    closing_re()
        .captures_iter(text)
        .filter(|c| {
            c.get(1)
                .is_none_or(|r| r.as_str().eq_ignore_ascii_case(repo))
        })
        .filter_map(|c| c[2].parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_give_the_next_page_relative_to_the_base() {
        let base = "http://127.0.0.1:8080";
        let header = r#"<http://127.0.0.1:8080/repos/a/b/pulls?page=3&per_page=100>; rel="next", <http://127.0.0.1:8080/repos/a/b/pulls?page=9&per_page=100>; rel="last""#;
        assert_eq!(
            next_link(header, base).as_deref(),
            Some("/repos/a/b/pulls?page=3&per_page=100")
        );
        let last_only = r#"<http://127.0.0.1:8080/x?page=1>; rel="prev""#;
        assert_eq!(next_link(last_only, base), None);
        assert_eq!(
            relative_url(
                "https://ghe.example/api/v3/repositories/7",
                "https://ghe.example/api/v3"
            ),
            "/repositories/7"
        );
        assert_eq!(
            relative_url(
                "https://other.example/api/v3/repositories/7",
                "https://ghe.example/api/v3"
            ),
            "/repositories/7"
        );
    }

    #[test]
    fn times_parse_to_unix_seconds() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2024-02-29T12:00:00Z"), Some(1_709_208_000));
        assert_eq!(parse_time("2024-02-29T14:00:00+02:00"), Some(1_709_208_000));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn closing_keywords_name_issues_of_this_repository_only() {
        let text = "Fixes #12, closes: #3 and resolved acme/widgets#7.\nSee #99; fixes other/repo#5; prefix#4";
        let refs: Vec<i64> = closing_references(text, "acme/widgets")
            .into_iter()
            .collect();
        assert_eq!(refs, vec![3, 7, 12]);
    }
}
