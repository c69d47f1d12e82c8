//! The recipe's `[crawl]` section: which repositories to ask the GitHub API about, and how.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A GitHub repository search (the paper's "Python, at least 5 stars").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrawlSearch {
    pub language: String,
    #[serde(default = "default_min_stars")]
    pub min_stars: u64,
    /// `YYYY-MM-DD`: only repositories pushed after this day.
    #[serde(default)]
    pub pushed_after: Option<String>,
    /// At most this many repositories, most stars first (0: every one the search matches;
    /// the search is split into slices of at most 1,000 results to reach them all).
    #[serde(default = "default_max_repos")]
    pub max_repos: u64,
    /// `YYYY-MM-DD`: only repositories created on or after this day (default: 2008-01-01).
    #[serde(default)]
    pub created_after: Option<String>,
    /// `YYYY-MM-DD`: only repositories created on or before this day (default: today). Set
    /// it for a discovery that asks the same questions when it is run again.
    #[serde(default)]
    pub created_before: Option<String>,
}

fn default_min_stars() -> u64 {
    5
}
fn default_max_repos() -> u64 {
    1000
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrawlOptions {
    /// Run the stage.
    pub enabled: bool,
    /// `owner/name` of each repository.
    pub repos: Vec<String>,
    /// A file with one `owner/name` a line (`#` comments), relative to the recipe.
    pub repos_file: Option<PathBuf>,
    pub search: Option<CrawlSearch>,
    /// API base URL; `GITHUB_API_URL` overrides it.
    pub api_url: String,
    /// Rebuild the tables from the response cache alone: no request is sent.
    pub offline: bool,
    /// The response cache (raw bodies and ETags, never a token). Relative to the recipe;
    /// default `RUN/crawl_cache`.
    pub cache: Option<PathBuf>,
    /// Bare mirrors are cloned here (default `RUN/mirrors`); `mirror = false` skips cloning.
    pub mirrors: Option<PathBuf>,
    pub mirror: bool,
    /// Fetch the issues a PR closes, with their comments.
    pub linked_issues: bool,
    /// Also ask GraphQL for each PR's closing references (links made in GitHub's UI); only
    /// with a token, 50 PRs a query.
    pub graphql: bool,
    /// Fetch each merged PR's review comments (one request or more a PR).
    pub review_comments: bool,
    /// Stop after this many requests (0: no limit); a later run continues.
    pub max_requests: u64,
    /// Stop after this many minutes (0: no limit); a later run continues.
    pub max_minutes: f64,
    /// First retry delay; each retry doubles it, with jitter.
    pub retry_base_ms: u64,
    pub max_retries: u32,
    /// Seconds a request may take before it is retried.
    pub timeout_secs: f64,
    pub per_page: u32,
}

impl Default for CrawlOptions {
    fn default() -> Self {
        Self {
            enabled: false,
            repos: Vec::new(),
            repos_file: None,
            search: None,
            api_url: "https://api.github.com".into(),
            offline: false,
            cache: None,
            mirrors: None,
            mirror: true,
            linked_issues: true,
            review_comments: false,
            graphql: true,
            max_requests: 0,
            max_minutes: 0.0,
            retry_base_ms: 1000,
            max_retries: 8,
            timeout_secs: 30.0,
            per_page: 100,
        }
    }
}

pub fn semantic_errors(c: &CrawlOptions) -> Vec<String> {
    let mut errors = Vec::new();
    if !c.enabled {
        return errors;
    }
    if c.repos.is_empty() && c.repos_file.is_none() && c.search.is_none() {
        errors.push(
            "[crawl] is enabled but names no repositories: give repos, repos_file or search".into(),
        );
    }
    for repo in &c.repos {
        if crate::repo_name::normalize(repo).is_none() {
            errors.push(format!("[crawl] repos: `{repo}` is not owner/name"));
        }
    }
    if !(1..=100).contains(&c.per_page) {
        errors.push("[crawl] per_page must be between 1 and 100 (GitHub's limit)".into());
    }
    if c.timeout_secs.is_nan() || c.timeout_secs <= 0.0 {
        errors.push("[crawl] timeout_secs must be above 0".into());
    }
    if c.max_minutes < 0.0 {
        errors.push("[crawl] max_minutes must not be negative".into());
    }
    if !(c.api_url.starts_with("http://") || c.api_url.starts_with("https://")) {
        errors.push(format!(
            "[crawl] api_url `{}` is not an http(s) URL",
            c.api_url
        ));
    }
    if let Some(s) = &c.search {
        for (key, day) in [
            ("pushed_after", &s.pushed_after),
            ("created_after", &s.created_after),
            ("created_before", &s.created_before),
        ] {
            if let Some(day) = day
                && !valid_day(day)
            {
                errors.push(format!("[crawl] search.{key} `{day}` is not YYYY-MM-DD"));
            }
        }
        if let (Some(a), Some(b)) = (&s.created_after, &s.created_before)
            && a > b
        {
            errors.push(format!(
                "[crawl] search.created_after `{a}` is after created_before `{b}`"
            ));
        }
    }
    errors
}

fn valid_day(day: &str) -> bool {
    let b = day.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_crawl_needs_repositories_and_sane_limits() {
        let bad = CrawlOptions {
            enabled: true,
            per_page: 500,
            repos: vec!["not a repo".into()],
            search: Some(CrawlSearch {
                language: "python".into(),
                min_stars: 5,
                pushed_after: Some("2024/01/01".into()),
                max_repos: 10,
                created_after: Some("2020-01-01".into()),
                created_before: Some("2019-12-31".into()),
            }),
            ..Default::default()
        };
        let errors = semantic_errors(&bad).join("\n");
        assert!(errors.contains("per_page"), "{errors}");
        assert!(
            errors.contains("`not a repo` is not owner/name"),
            "{errors}"
        );
        assert!(errors.contains("pushed_after"), "{errors}");
        assert!(
            errors.contains("created_after `2020-01-01` is after"),
            "{errors}"
        );
        let none = CrawlOptions {
            enabled: true,
            ..Default::default()
        };
        assert!(semantic_errors(&none)[0].contains("names no repositories"));
        assert!(semantic_errors(&CrawlOptions::default()).is_empty());
    }
}
