//! Every repository a search matches, beyond the search API's limit of 1,000 results a
//! query: the search is split into slices (star ranges, then creation-date ranges for a star
//! count that alone holds more) until each slice reports at most 1,000, and every slice is
//! read page by page. Requests go through the crawl's client, so they are cached, resumed
//! after a kill, and held to the search API's own quota (30 a minute a token).
//!
//! Slices are read from the most stars down, and a star range is finished before the next,
//! so a `max_repos` limit keeps exactly the repositories with the most stars (ties by name).

use std::collections::BTreeMap;

use corpus_core::recipe::CrawlSearch;
use serde_json::Value;

use crate::client::Client;
use crate::days;
use crate::error::{CrawlError, Result};

/// The most results GitHub's search returns for one query.
const SEARCH_CAP: u64 = 1_000;
const PER_PAGE: u64 = 100;
/// Repositories created before GitHub opened cannot exist.
const GITHUB_FIRST_DAY: &str = "2008-01-01";

/// A repository the search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub name: String,
    pub stars: u64,
}

/// What the enumeration did, for the log and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoverStats {
    /// Search requests answered (pages), cached ones included.
    pub pages: u64,
    /// Slices read to the end.
    pub slices: u64,
    /// Slices that still held more than 1,000 at one star count and one day: the
    /// repositories past the first 1,000 of each are out of the search's reach.
    pub unreachable: Vec<(String, u64)>,
    /// Answers GitHub marked `incomplete_results` (a search that timed out on its side).
    pub incomplete: u64,
}

#[derive(Debug, Clone, Copy)]
struct Slice {
    stars: (u64, Option<u64>),
    /// Creation days, both ends included; None: any.
    created: Option<(i64, i64)>,
}

struct Enumeration<'a> {
    client: &'a Client,
    search: &'a CrawlSearch,
    /// Bounds used once a star count has to be split by creation date.
    days: (i64, i64),
    found: BTreeMap<String, u64>,
    stats: DiscoverStats,
}

/// Every repository `search` matches, most stars first (then by name), at most
/// `search.max_repos` (0: all).
pub fn discover(client: &Client, search: &CrawlSearch) -> Result<(Vec<Discovered>, DiscoverStats)> {
    let bad_day = |key: &str, text: &str| {
        CrawlError::Usage(format!(
            "[crawl.search] {key} `{text}` is not a YYYY-MM-DD date"
        ))
    };
    let first = search.created_after.as_deref().unwrap_or(GITHUB_FIRST_DAY);
    let first = days::parse(first).ok_or_else(|| bad_day("created_after", first))?;
    let last = match search.created_before.as_deref() {
        Some(text) => days::parse(text).ok_or_else(|| bad_day("created_before", text))?,
        None => days::today(),
    };
    let created = (search.created_after.is_some() || search.created_before.is_some())
        .then_some((first, last));
    let mut run = Enumeration {
        client,
        search,
        days: (first, last),
        found: BTreeMap::new(),
        stats: DiscoverStats::default(),
    };
    run.slice(Slice {
        stars: (search.min_stars, None),
        created,
    })?;
    let mut found: Vec<Discovered> = run
        .found
        .into_iter()
        .map(|(name, stars)| Discovered { name, stars })
        .collect();
    found.sort_by(|a, b| b.stars.cmp(&a.stars).then_with(|| a.name.cmp(&b.name)));
    if search.max_repos > 0 {
        found.truncate(search.max_repos as usize);
    }
    Ok((found, run.stats))
}

impl Enumeration<'_> {
    fn enough(&self) -> bool {
        self.search.max_repos > 0 && self.found.len() as u64 >= self.search.max_repos
    }

    /// Read one slice, or split it when it holds more than the search returns.
    fn slice(&mut self, slice: Slice) -> Result<()> {
        let first = self.page(&slice, 1)?;
        let total = first
            .get("total_count")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if total <= SEARCH_CAP {
            self.take(&first);
            for page in 2..=total.div_ceil(PER_PAGE) {
                let answer = self.page(&slice, page)?;
                self.take(&answer);
            }
            self.stats.slices += 1;
            return Ok(());
        }
        let (lo, hi) = slice.stars;
        if hi.is_none_or(|hi| hi > lo) {
            // Stars are heavy-tailed: an open range is cut near its low end.
            let mid = match hi {
                Some(hi) => lo + (hi - lo) / 2,
                None => lo.saturating_mul(4).saturating_add(3),
            };
            // The upper range first, and each range to its end before the next, so a limit
            // keeps exactly the most-starred repositories.
            self.slice(Slice {
                stars: (mid.saturating_add(1), hi),
                ..slice
            })?;
            if !self.enough() {
                self.slice(Slice {
                    stars: (lo, Some(mid)),
                    ..slice
                })?;
            }
            return Ok(());
        }
        let (d0, d1) = slice.created.unwrap_or(self.days);
        if d1 > d0 {
            let mid = d0 + (d1 - d0) / 2;
            for created in [(mid + 1, d1), (d0, mid)] {
                self.slice(Slice {
                    created: Some(created),
                    ..slice
                })?;
            }
            return Ok(());
        }
        // One star count, one day, still more than 1,000: the first 1,000 are all there is
        // to read.
        let query = self.query(&slice);
        tracing::warn!(
            "discovery: `{query}` holds {total} repositories; the search returns the first {SEARCH_CAP}"
        );
        self.stats.unreachable.push((query, total));
        self.take(&first);
        for page in 2..=SEARCH_CAP / PER_PAGE {
            let answer = self.page(&slice, page)?;
            self.take(&answer);
        }
        self.stats.slices += 1;
        Ok(())
    }

    fn query(&self, slice: &Slice) -> String {
        let mut query = format!("language:{}", self.search.language);
        match slice.stars {
            (lo, None) => query.push_str(&format!(" stars:>={lo}")),
            (lo, Some(hi)) => query.push_str(&format!(" stars:{lo}..{hi}")),
        }
        if let Some((d0, d1)) = slice.created {
            query.push_str(&format!(
                " created:{}..{}",
                days::format(d0),
                days::format(d1)
            ));
        }
        if let Some(day) = &self.search.pushed_after {
            query.push_str(&format!(" pushed:>{day}"));
        }
        query
    }

    fn page(&mut self, slice: &Slice, page: u64) -> Result<Value> {
        let url = format!(
            "/search/repositories?q={}&sort=stars&order=desc&per_page={PER_PAGE}&page={page}",
            encode_query(&self.query(slice))
        );
        let answer = self.client.get(&url)?.json()?;
        self.stats.pages += 1;
        if answer.get("incomplete_results").and_then(Value::as_bool) == Some(true) {
            self.stats.incomplete += 1;
        }
        Ok(answer)
    }

    fn take(&mut self, answer: &Value) {
        for item in answer
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = item.get("full_name").and_then(Value::as_str) {
                let stars = item
                    .get("stargazers_count")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                // A repository seen twice (its stars moved it between slices) counts once.
                self.found.entry(name.to_ascii_lowercase()).or_insert(stars);
            }
        }
    }
}

/// A search query as GitHub's `q` parameter takes it.
pub fn encode_query(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_encoded_as_github_takes_them() {
        assert_eq!(
            encode_query("language:python stars:>=5 created:2020-01-01..2020-06-30"),
            "language%3Apython+stars%3A%3E%3D5+created%3A2020-01-01..2020-06-30"
        );
    }
}
