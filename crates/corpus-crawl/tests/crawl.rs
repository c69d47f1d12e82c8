//! The crawl against the mock GitHub on 127.0.0.1: pagination, rate limits, faults, renames,
//! resume after a stop, offline replay, ETags, and tokens that never leak.

use corpus_core::drop_reason::DropReason;
use std::collections::BTreeMap;
use std::time::Duration;

use corpus_core::benchmark::BenchmarkRepos;
use corpus_core::crawl_cache::ResponseCache;
use corpus_core::recipe::DecontamOptions;
use corpus_crawl::client::now_secs;
use corpus_crawl::{Client, ClientOptions, CrawlError, CrawlSettings, Tokens, crawl_repo};
use corpus_testkit::github::{MockFaults, MockGitHub, MockIssue, MockPull, MockRepo};

fn pull(number: i64, merged: bool) -> MockPull {
    MockPull {
        number,
        title: format!("Change {number}"),
        body: if number % 10 == 0 {
            format!("Fixes #{}", 1000 + number)
        } else {
            String::new()
        },
        user: Some(format!("dev{}", number % 7)),
        merged,
        merged_at: format!("2024-01-{:02}T10:00:00Z", 1 + number % 28),
        base_ref: "main".into(),
        base_sha: format!("{:040x}", number),
        head_sha: format!("{:040x}", number + 1_000_000),
        merge_sha: format!("{:040x}", number + 2_000_000),
        ..Default::default()
    }
}

fn repo(name: &str, id: i64, prs: i64) -> MockRepo {
    let mut issues = BTreeMap::new();
    for n in (10..=prs).step_by(10) {
        issues.insert(
            1000 + n,
            MockIssue {
                title: format!("Bug {n}"),
                body: format!("It breaks when {n}."),
                comments: vec![format!("Seen on {n}"), "me too".into()],
                ..Default::default()
            },
        );
    }
    MockRepo {
        full_name: name.into(),
        id,
        stars: 10 + id,
        license: Some("MIT".into()),
        default_branch: "main".into(),
        language: "Python".into(),
        pulls: (1..=prs).map(|n| pull(n, n % 9 != 0)).collect(),
        issues,
        ..Default::default()
    }
}

fn settings() -> CrawlSettings {
    CrawlSettings {
        per_page: 30,
        linked_issues: true,
        review_comments: false,
        graphql: true,
    }
}

fn options(server: &MockGitHub) -> ClientOptions {
    ClientOptions {
        api_url: server.url().to_string(),
        retry_base: Duration::from_millis(5),
        max_retries: 6,
        timeout: Duration::from_millis(800),
        fresh_since: now_secs() - 3600,
        ..Default::default()
    }
}

/// A client without tokens, caching under `dir`.
fn anonymous_client(server: &MockGitHub, dir: &std::path::Path) -> Client {
    Client::new(options(server), ResponseCache::new(dir), Tokens::default()).expect("client")
}

fn benchmark() -> BenchmarkRepos {
    BenchmarkRepos::from_options(&DecontamOptions::default())
}

fn merged_numbers(prs: i64) -> Vec<i64> {
    (1..=prs).filter(|n| n % 9 != 0).collect()
}

#[test]
fn every_merged_pr_arrives_once_through_pages_limits_and_faults() {
    let faults = MockFaults {
        quota_per_window: Some(9),
        window_secs: 1,
        hide_remaining: true,
        secondary_limit_at: vec![3],
        bad_gateway_at: vec![5, 6],
        html_at: vec![8],
        truncated_at: vec![11],
        hang_at: vec![14],
        hang_for: Duration::from_millis(2500),
        ..Default::default()
    };
    let server = MockGitHub::start(vec![repo("acme/big", 1, 130)], faults).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let tokens = Tokens::new(vec![
        "ghp_first_token_AAAA".into(),
        "ghp_second_token_BBBB".into(),
    ]);
    let client =
        Client::new(options(&server), ResponseCache::new(dir.path()), tokens).expect("client");
    let got = crawl_repo(&client, "acme/big", &settings(), &benchmark())
        .expect("crawl")
        .expect("not skipped");
    let numbers: Vec<i64> = got.pulls.iter().map(|p| p.pr_number).collect();
    assert_eq!(
        numbers,
        merged_numbers(130),
        "every merged PR once, in order"
    );
    assert_eq!(got.stats.pages, 5);
    let stats = client.stats();
    assert!(
        stats.retries >= 5,
        "502 ×2, HTML, truncated JSON, hang: {stats:?}"
    );
    assert!(
        stats.rate_limit_waits >= 2,
        "secondary and primary limits: {stats:?}"
    );
    assert!(server.rate_limited() >= 1, "the primary limit was hit");
    // Linked issues with their comments; the issue text is real.
    let pr10 = got.pulls.iter().find(|p| p.pr_number == 10).expect("#10");
    assert_eq!(pr10.linked_issues.len(), 1);
    assert_eq!(pr10.linked_issues[0].title, "Bug 10");
    assert_eq!(
        pr10.linked_issues[0].comments,
        vec!["Seen on 10".to_string(), "me too".into()]
    );
    // Both tokens were used, and neither is anywhere in the cache.
    assert_eq!(server.authorizations().len(), 2);
    for file in walk(dir.path()) {
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(
            !text.contains("ghp_first") && !text.contains("ghp_second"),
            "{}",
            file.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn renames_missing_repositories_pull_request_links_and_deleted_base_branches() {
    let mut moved = repo("newowner/tool", 2, 12);
    moved.renamed_from = vec!["oldowner/tool".into()];
    // "Fixes #3" where #3 is a pull request: not an issue.
    moved.pulls[0].body = "Fixes #3".into();
    moved.issues.insert(
        3,
        MockIssue {
            title: "a PR".into(),
            is_pull_request: true,
            ..Default::default()
        },
    );
    moved.pulls[1].base_ref = "feature-branch-deleted-since".into();
    let mut fork = repo("someone/requests", 3, 2);
    fork.fork_parent = Some("psf/requests".into());
    let server = MockGitHub::start(vec![moved, fork], MockFaults::default()).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let client = anonymous_client(&server, dir.path());

    let got = crawl_repo(&client, "oldowner/tool", &settings(), &benchmark())
        .expect("crawl")
        .expect("not skipped");
    assert_eq!(got.repo.repo, "newowner/tool");
    assert_eq!(got.repo.aliases, vec!["oldowner/tool".to_string()]);
    assert_eq!(got.repo.license.as_deref(), Some("MIT"));
    assert!(got.pulls[0].linked_issues.is_empty());
    assert_eq!(got.stats.linked_pull_requests, 1);
    assert_eq!(got.pulls[1].base_ref, "feature-branch-deleted-since");
    assert_eq!(got.pulls.len(), merged_numbers(12).len());

    let (row, skipped) = crawl_repo(&client, "nobody/nothing", &settings(), &benchmark())
        .expect("crawl")
        .expect_err("skipped");
    assert_eq!(skipped.reason, DropReason::RepoNotFound);
    assert_eq!(row.skipped_reason.as_deref(), Some("repo_not_found"));

    let before = server.requests();
    let (_, by_name) = crawl_repo(&client, "django/django", &settings(), &benchmark())
        .expect("crawl")
        .expect_err("benchmark");
    assert_eq!(by_name.reason, DropReason::SweBenchRepo);
    assert_eq!(
        server.requests(),
        before,
        "skipped by name before any request"
    );
    let (row, by_parent) = crawl_repo(&client, "someone/requests", &settings(), &benchmark())
        .expect("crawl")
        .expect_err("fork of a benchmark repository");
    assert_eq!(by_parent.reason, DropReason::SweBenchRepo);
    assert_eq!(row.fork_parent.as_deref(), Some("psf/requests"));
    assert_eq!(server.requests_to("/repos/someone/requests/pulls"), 0);
}

#[test]
fn a_stopped_crawl_resumes_without_asking_twice_and_replays_offline() {
    let server =
        MockGitHub::start(vec![repo("acme/mid", 4, 100)], MockFaults::default()).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let cache = ResponseCache::new(dir.path());
    let limited = ClientOptions {
        max_requests: 3,
        ..options(&server)
    };
    let client = Client::new(limited, cache.clone(), Tokens::default()).expect("client");
    let err = crawl_repo(&client, "acme/mid", &settings(), &benchmark()).expect_err("budget");
    assert!(matches!(err, CrawlError::Budget(_)), "{err}");
    assert!(err.to_string().contains("run the crawl again"), "{err}");
    assert_eq!(server.requests(), 3);

    // Continue: what was fetched is not fetched again.
    let client = Client::new(options(&server), cache.clone(), Tokens::default()).expect("client");
    let got = crawl_repo(&client, "acme/mid", &settings(), &benchmark())
        .expect("crawl")
        .expect("repo");
    assert_eq!(
        got.pulls.iter().map(|p| p.pr_number).collect::<Vec<_>>(),
        merged_numbers(100)
    );
    let total = server.requests();
    // 1 repo + 4 pages + 9 issues (#1090's PR is not merged) + 9 comment pages, each once.
    assert_eq!(total, 23, "no request was made twice");
    assert_eq!(client.stats().from_cache, 3);

    // Offline: the same rows from the cache, no request at all.
    let offline = ClientOptions {
        offline: true,
        api_url: "http://127.0.0.1:9".into(),
        ..options(&server)
    };
    let client = Client::new(offline, cache.clone(), Tokens::default()).expect("client");
    let replay = crawl_repo(&client, "acme/mid", &settings(), &benchmark())
        .expect("crawl")
        .expect("repo");
    assert_eq!(replay.pulls, got.pulls);
    assert_eq!(server.requests(), total);
    let missing =
        crawl_repo(&client, "acme/other", &settings(), &benchmark()).expect_err("not cached");
    assert!(
        missing
            .to_string()
            .contains("offline crawl: no cached response"),
        "{missing}"
    );

    // A later re-crawl revalidates with ETags: every answer is a 304.
    let stale = ClientOptions {
        fresh_since: i64::MAX,
        ..options(&server)
    };
    let client = Client::new(stale, cache, Tokens::default()).expect("client");
    let again = crawl_repo(&client, "acme/mid", &settings(), &benchmark())
        .expect("crawl")
        .expect("repo");
    assert_eq!(again.pulls, got.pulls);
    assert_eq!(client.stats().not_modified, 23);
    assert_eq!(server.not_modified(), 23);
}

#[test]
fn a_server_that_keeps_failing_is_a_clear_error_naming_the_url() {
    let faults = MockFaults {
        bad_gateway_at: (1..=20).collect(),
        ..Default::default()
    };
    let server = MockGitHub::start(vec![repo("acme/down", 5, 3)], faults).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let opts = ClientOptions {
        max_retries: 3,
        ..options(&server)
    };
    let client = Client::new(
        opts,
        ResponseCache::new(dir.path()),
        Tokens::new(vec!["ghp_secret_XYZ".into()]),
    )
    .expect("client");
    let err = crawl_repo(&client, "acme/down", &settings(), &benchmark()).expect_err("down");
    let text = err.to_string();
    assert!(
        text.contains("GET /repos/acme/down") && text.contains("HTTP 502"),
        "{text}"
    );
    assert!(!text.contains("ghp_secret"), "{text}");
    assert_eq!(server.requests(), 4);
}

#[test]
fn closing_keywords_in_commit_messages_link_issues_too() {
    let server =
        MockGitHub::start(vec![repo("acme/msgs", 6, 12)], MockFaults::default()).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let client = anonymous_client(&server, dir.path());
    let mut seen_clone_url = None;
    let mut hook = |row: &mut corpus_core::rows::RepoRow,
                    source: corpus_crawl::MirrorSource<'_>,
                    pulls: &[corpus_core::rows::PullRow]|
     -> corpus_crawl::Result<BTreeMap<i64, String>> {
        seen_clone_url = source.clone_url.map(str::to_string);
        row.path = Some("/mirrors/acme+msgs.git".into());
        assert_eq!(pulls.len(), merged_numbers(12).len());
        // PR 3's commit says it closes issue 1010 (its body does not).
        Ok(BTreeMap::from([(
            3,
            "Tidy up\n\nCloses #1010\n".to_string(),
        )]))
    };
    let got =
        corpus_crawl::crawl_repo_with(&client, "acme/msgs", &settings(), &benchmark(), &mut hook)
            .expect("crawl")
            .expect("repo");
    assert_eq!(
        seen_clone_url.as_deref(),
        Some("https://github.com/acme/msgs.git")
    );
    assert_eq!(got.repo.path.as_deref(), Some("/mirrors/acme+msgs.git"));
    let pr3 = got.pulls.iter().find(|p| p.pr_number == 3).expect("#3");
    assert_eq!(pr3.linked_issues.len(), 1);
    assert_eq!(pr3.linked_issues[0].title, "Bug 10");
}

#[test]
fn graphql_closing_references_link_issues_the_text_does_not_name() {
    let mut linked = repo("acme/linked", 8, 12);
    // PR 4 was linked to issue 1010 in GitHub's UI: no keyword anywhere.
    linked.pulls[3].closes = vec![1010];
    let server = MockGitHub::start(vec![linked], MockFaults::default()).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let cache = ResponseCache::new(dir.path());
    let client = Client::new(
        options(&server),
        cache.clone(),
        Tokens::new(vec!["ghp_graphql_token".into()]),
    )
    .expect("client");
    let got = crawl_repo(&client, "acme/linked", &settings(), &benchmark())
        .expect("crawl")
        .expect("repo");
    let pr4 = got.pulls.iter().find(|p| p.pr_number == 4).expect("#4");
    assert_eq!(
        pr4.linked_issues
            .iter()
            .map(|i| i.number)
            .collect::<Vec<_>>(),
        vec![1010]
    );
    assert_eq!(
        server.requests_to("/graphql"),
        1,
        "one query for the repository's 11 merged PRs"
    );
    // Offline, the recorded answer gives the same rows.
    let offline = ClientOptions {
        offline: true,
        ..options(&server)
    };
    let replay = crawl_repo(
        &Client::new(offline, cache, Tokens::default()).expect("client"),
        "acme/linked",
        &settings(),
        &benchmark(),
    )
    .expect("crawl")
    .expect("repo");
    assert_eq!(replay.pulls, got.pulls);
    // Without a token, GraphQL is not asked (it answers only authenticated requests).
    let dir = tempfile::tempdir().expect("tmp");
    let client = anonymous_client(&server, dir.path());
    let anonymous = crawl_repo(&client, "acme/linked", &settings(), &benchmark())
        .expect("crawl")
        .expect("repo");
    assert!(
        anonymous
            .pulls
            .iter()
            .find(|p| p.pr_number == 4)
            .expect("#4")
            .linked_issues
            .is_empty()
    );
    assert_eq!(server.requests_to("/graphql"), 1);
}

#[test]
fn review_comments_come_when_the_recipe_asks() {
    let mut reviewed = repo("acme/reviewed", 7, 3);
    reviewed.pulls[1].review_comments = vec![
        "nit: name this better".into(),
        "LGTM".into(),
        "one more".into(),
    ];
    let server = MockGitHub::start(vec![reviewed], MockFaults::default()).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let client = anonymous_client(&server, dir.path());
    let asked = CrawlSettings {
        per_page: 2,
        linked_issues: false,
        review_comments: true,
        graphql: false,
    };
    let got = crawl_repo(&client, "acme/reviewed", &asked, &benchmark())
        .expect("crawl")
        .expect("repo");
    assert_eq!(
        got.pulls[1].review_comments,
        vec![
            "nit: name this better".to_string(),
            "LGTM".into(),
            "one more".into()
        ],
        "over two pages"
    );
    assert!(got.pulls[0].review_comments.is_empty());
    assert_eq!(got.stats.review_comments, 3);
    // Off by default: no request for them.
    let before = server.requests();
    let dir = tempfile::tempdir().expect("tmp");
    let client = anonymous_client(&server, dir.path());
    crawl_repo(&client, "acme/reviewed", &settings(), &benchmark())
        .expect("crawl")
        .expect("repo");
    assert_eq!(
        server.requests_to("/repos/acme/reviewed/pulls/2/comments"),
        2
    );
    assert!(server.requests() > before);
}

#[test]
fn a_refused_linked_issue_costs_its_link_only() {
    let mut r = repo("acme/private-bits", 1, 30);
    r.issues.get_mut(&1010).expect("issue").forbidden = true;
    r.issues.get_mut(&1020).expect("issue").forbidden_comments = true;
    let server = MockGitHub::start(vec![r], MockFaults::default()).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let client = anonymous_client(&server, dir.path());
    let got = crawl_repo(&client, "acme/private-bits", &settings(), &benchmark())
        .expect("a 403 on an issue is not the repository's failure")
        .expect("not skipped");
    assert_eq!(got.pulls.len(), merged_numbers(30).len());
    let lost: Vec<(i64, i64)> = got
        .lost_links
        .iter()
        .map(|l| (l.pr_number, l.issue))
        .collect();
    assert_eq!(lost, [(10, 1010), (20, 1020)]);
    assert!(
        got.lost_links[0].detail.contains("HTTP 403"),
        "{:?}",
        got.lost_links
    );
    assert_eq!(got.stats.refused_issues, 2);
    let linked = |n: i64| {
        got.pulls
            .iter()
            .find(|p| p.pr_number == n)
            .map(|p| p.linked_issues.len())
    };
    assert_eq!(linked(10), Some(0));
    assert_eq!(linked(20), Some(0));
    assert_eq!(linked(30), Some(1), "the readable link stays");
}

#[test]
fn a_403_whose_body_says_rate_limit_is_a_rate_limit_without_headers() {
    let faults = MockFaults {
        bare_rate_limit_at: vec![2],
        ..Default::default()
    };
    let server = MockGitHub::start(vec![repo("acme/limited", 1, 40)], faults).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let tokens = Tokens::new(vec!["ghp_one_AAAA".into(), "ghp_two_BBBB".into()]);
    let client =
        Client::new(options(&server), ResponseCache::new(dir.path()), tokens).expect("client");
    let got = crawl_repo(&client, "acme/limited", &settings(), &benchmark())
        .expect("the limited request is asked again with the other token")
        .expect("not skipped");
    assert_eq!(got.pulls.len(), merged_numbers(40).len());
    let stats = client.stats();
    assert_eq!(stats.rate_limit_waits, 1, "{stats:?}");
    assert_eq!(stats.retries, 0, "a rate limit is no failure: {stats:?}");
}
