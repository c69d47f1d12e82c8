//! Discovery beyond the search API's 1,000 results a query, against the mock GitHub on
//! 127.0.0.1 holding tens of thousands of repositories: star ranges, then creation days for a
//! star count that alone holds more than 1,000; a limit that keeps the most-starred; the
//! search quota apart from the core one; a budget stop resumed from the cache.

use std::time::Duration;

use corpus_core::crawl_cache::ResponseCache;
use corpus_core::recipe::CrawlSearch;
use corpus_crawl::client::now_secs;
use corpus_crawl::{Client, ClientOptions, CrawlError, Tokens, days, discover};
use corpus_testkit::github::{MockFaults, MockGitHub, MockRepo};

/// `n` Python repositories: a heavy tail of stars, 3,000 of them at exactly 5 stars (more
/// than one query returns), created over 2012–2025; plus some Rust ones the search must
/// leave out.
fn population(n: usize) -> Vec<MockRepo> {
    let day0 = days::parse("2012-01-01").expect("day");
    (0..n)
        .map(|i| {
            let spread = (i as u64 * 7_919) % 10_007;
            let stars = if i < 3_000 {
                5
            } else {
                5 + spread * spread / 20_000
            };
            MockRepo {
                full_name: format!("org{}/repo{i}", i % 97),
                id: i as i64 + 1,
                stars: stars as i64,
                language: if i % 50 == 49 { "Rust" } else { "Python" }.into(),
                created: days::format(day0 + (i as i64 * 37) % 5_100),
                default_branch: "main".into(),
                ..Default::default()
            }
        })
        .collect()
}

fn search(max_repos: u64) -> CrawlSearch {
    CrawlSearch {
        language: "python".into(),
        min_stars: 5,
        pushed_after: None,
        max_repos,
        created_after: None,
        created_before: Some("2025-12-31".into()),
    }
}

fn client(server: &MockGitHub, cache: &std::path::Path, max_requests: u64) -> Client {
    client_with(
        server,
        cache,
        max_requests,
        &["ghp_discover_one", "ghp_discover_two"],
    )
}

fn client_with(
    server: &MockGitHub,
    cache: &std::path::Path,
    max_requests: u64,
    tokens: &[&str],
) -> Client {
    let options = ClientOptions {
        api_url: server.url().to_string(),
        retry_base: Duration::from_millis(5),
        max_retries: 6,
        timeout: Duration::from_secs(5),
        fresh_since: now_secs() - 3_600,
        max_requests,
        ..Default::default()
    };
    let tokens = Tokens::new(tokens.iter().map(|t| t.to_string()).collect());
    Client::new(options, ResponseCache::new(cache), tokens).expect("client")
}

#[test]
fn every_repository_of_a_search_far_beyond_1000_results_is_found_once() {
    let repos = population(30_000);
    let python: Vec<&MockRepo> = repos.iter().filter(|r| r.language == "Python").collect();
    let server = MockGitHub::start(repos.clone(), MockFaults::default()).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let (found, stats) = discover(&client(&server, dir.path(), 0), &search(0)).expect("discover");
    assert_eq!(found.len(), python.len(), "{stats:?}");
    let mut names: Vec<&str> = found.iter().map(|d| d.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), python.len(), "each once");
    assert!(stats.unreachable.is_empty(), "{stats:?}");
    // Most stars first, ties by name.
    assert!(found.windows(2).all(|w| w[0].stars > w[1].stars
        || (w[0].stars == w[1].stars && w[0].name < w[1].name)));
    // The 3,000 five-star repositories needed date slices.
    assert!(stats.slices > 30, "{stats:?}");
    assert!(stats.pages < 800, "{stats:?}");
}

#[test]
fn a_limit_keeps_exactly_the_most_starred_and_asks_less() {
    let repos = population(30_000);
    let mut python: Vec<(u64, String)> = repos
        .iter()
        .filter(|r| r.language == "Python")
        .map(|r| (r.stars as u64, r.full_name.clone()))
        .collect();
    python.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let server = MockGitHub::start(repos, MockFaults::default()).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let (found, stats) =
        discover(&client(&server, dir.path(), 0), &search(2_500)).expect("discover");
    let want: Vec<&str> = python.iter().take(2_500).map(|(_, n)| n.as_str()).collect();
    let got: Vec<&str> = found.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(got, want);
    assert!(
        stats.pages < 200,
        "the five-star slices were never read: {stats:?}"
    );
}

#[test]
fn a_star_count_and_day_holding_more_than_1000_is_reported_unreachable() {
    let mut repos = population(2_000);
    for (i, r) in repos.iter_mut().enumerate().take(1_500) {
        r.stars = 7;
        r.created = "2020-02-02".into();
        r.language = "Python".into();
        r.full_name = format!("crowd/repo{i:04}");
    }
    let server = MockGitHub::start(repos, MockFaults::default()).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let (found, stats) = discover(&client(&server, dir.path(), 0), &search(0)).expect("discover");
    assert_eq!(stats.unreachable.len(), 1, "{stats:?}");
    assert_eq!(stats.unreachable[0].1, 1_500);
    assert!(
        stats.unreachable[0]
            .0
            .contains("stars:7..7 created:2020-02-02..2020-02-02")
    );
    let crowd = found
        .iter()
        .filter(|d| d.name.starts_with("crowd/"))
        .count();
    assert_eq!(crowd, 1_000, "the first 1,000 of the slice");
}

#[test]
fn the_search_quota_is_waited_for_and_a_budget_stop_resumes_from_the_cache() {
    let repos = population(4_000);
    // Twelve searches in three seconds: even a loaded machine asks them faster than that, so
    // the quota runs out within a window (with one-second windows a slow run never saw it).
    let faults = MockFaults {
        search_quota_per_window: Some(12),
        window_secs: 3,
        ..Default::default()
    };
    let server = MockGitHub::start(repos, faults).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let stopped = discover(&client(&server, dir.path(), 15), &search(0));
    assert!(matches!(stopped, Err(CrawlError::Budget(_))), "{stopped:?}");
    let asked = server.requests();
    let resumed = client(&server, dir.path(), 0);
    let (found, _) = discover(&resumed, &search(0)).expect("discover");
    assert_eq!(found.len(), 4_000 - 4_000 / 50);
    let stats = resumed.stats();
    assert!(
        stats.from_cache >= 14,
        "pages of the stopped run were not asked again: {stats:?}"
    );
    // The client saw the search quota run down in the answers' headers and waited for its
    // reset: no request was refused for it.
    assert!(
        stats.rate_limit_waits >= 1,
        "the search quota ran out: {stats:?}"
    );
    assert_eq!(server.rate_limited(), 0);
    assert!(server.requests() > asked);
}

#[test]
fn a_spent_search_quota_does_not_hold_back_other_requests() {
    let mut repos = population(50);
    repos[0].pulls = vec![corpus_testkit::github::MockPull {
        number: 1,
        merged: true,
        merged_at: "2024-01-02T00:00:00Z".into(),
        base_sha: "a".repeat(40),
        head_sha: "b".repeat(40),
        ..Default::default()
    }];
    let first = repos[0].full_name.clone();
    let faults = MockFaults {
        // One search a token per minute: the second search waits a minute.
        search_quota_per_window: Some(1),
        window_secs: 60,
        ..Default::default()
    };
    let server = MockGitHub::start(repos, faults).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    // One token: its search quota is spent by the search, its core quota untouched.
    let client = client_with(&server, dir.path(), 0, &["ghp_discover_only"]);
    let (found, _) = discover(&client, &search(0)).expect("one page");
    assert!(!found.is_empty());
    let started = std::time::Instant::now();
    let settings = corpus_crawl::CrawlSettings {
        per_page: 30,
        linked_issues: false,
        review_comments: false,
        graphql: false,
    };
    let benchmark = corpus_core::benchmark::BenchmarkRepos::from_options(&Default::default());
    let crawled = corpus_crawl::crawl_repo(&client, &first, &settings, &benchmark)
        .expect("crawl")
        .expect("not skipped");
    assert_eq!(crawled.pulls.len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the crawl waited for the search quota: {:?}",
        started.elapsed()
    );
}
