//! Stage `crawl`: the demo's offline replay, and a crawl of the mock GitHub on 127.0.0.1 that
//! stops on its request budget, resumes, mirrors, feeds extract and never leaks the token.

use std::collections::BTreeMap;
use std::time::Duration;

use corpus_testkit::github::{MockFaults, MockGitHub, MockIssue, MockPull, MockRepo};

use crate::common::{Scratch, files_under, git, stderr, text};

#[test]
fn demo_crawls_offline_and_samples_carry_the_linked_issue() {
    let s = Scratch::new();
    s.ok(&["run", "--until", "format"]);
    let pulls = s.query(
        "runs/demo",
        "select pr_number, cardinality(linked_issues) as issues from pulls where repo = 'acme/widgets' order by pr_number",
    );
    assert_eq!(pulls.len(), 15, "every demo PR once, over four pages");
    let issues: BTreeMap<i64, i64> = pulls
        .iter()
        .map(|r| {
            (
                r["pr_number"].as_i64().unwrap_or(0),
                r["issues"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(issues[&5], 1);
    assert_eq!(issues[&9], 1);
    assert_eq!(issues[&14], 0, "#3 is a pull request, not an issue");
    let comments = s.query(
        "runs/demo",
        "select cardinality(linked_issues[1]['comments']) as n from pulls where repo = 'acme/widgets' and pr_number = 5",
    );
    assert_eq!(
        comments[0]["n"].as_i64(),
        Some(3),
        "comments over two pages"
    );
    // The API's metadata joins the local rows: the fork's parent, the licence, the stars.
    let fork = s.query(
        "runs/demo",
        "select fork_parent, stars from repos where repo = 'forker/widgets' and origin = 'crawl'",
    );
    assert_eq!(text(&fork[0], "fork_parent"), "acme/widgets");
    // psf/requests: skipped by name, counted, before any request.
    let skipped = s.query(
        "runs/demo",
        "select count(*) as n from drops where stage = 'crawl' and reason = 'swe_bench_repo' and repo = 'psf/requests'",
    );
    assert_eq!(skipped[0]["n"].as_i64(), Some(1));
    // Samples of PR #5 state the problem with the issue's words, not the merge message's.
    let samples = s.query(
        "runs/demo",
        "select prompt from samples where repo = 'acme/widgets' and pr_number = 5 and sample_kind = 'bugfixer_localization'",
    );
    assert!(!samples.is_empty());
    for sample in &samples {
        assert!(
            text(sample, "prompt")
                .contains("Widget.resize(0) returns an empty widget instead of raising"),
            "{}",
            text(sample, "prompt")
        );
    }
}

/// The merge PRs of a bare repository, as a mock API lists them (real shas).
pub(crate) fn merge_pulls(repo: &std::path::Path) -> Vec<MockPull> {
    let log = git(repo, &["log", "--first-parent", "--format=%H %P|%s|%b%x00"]);
    log.split('\0')
        .filter_map(|entry| {
            let entry = entry.trim_start();
            let (shas, rest) = entry.split_once('|')?;
            let (subject, body) = rest.split_once('|')?;
            let number: i64 = subject
                .strip_prefix("Merge pull request #")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            let shas: Vec<&str> = shas.split_whitespace().collect();
            (shas.len() == 3).then(|| MockPull {
                number,
                title: body.lines().next().unwrap_or("").to_string(),
                body: match number {
                    1 => "Fixes #40".into(),
                    // An issue the token may not read: the link is lost, not the repository.
                    3 => "Fixes #41".into(),
                    _ => String::new(),
                },
                user: Some("alice".into()),
                merged: true,
                merged_at: "2024-01-05T10:00:00Z".into(),
                base_ref: "main".into(),
                base_sha: shas[1].into(),
                head_sha: shas[2].into(),
                merge_sha: shas[0].into(),
                ..Default::default()
            })
        })
        .collect()
}

#[test]
fn crawl_of_a_mock_github_stops_on_budget_resumes_mirrors_and_keeps_the_token_secret() {
    let s = Scratch::new();
    s.ok(&["demo", "--out", "data/demo"]);
    let widgets = s.demo_repo("acme+widgets");
    let gizmo = s.demo_repo("gizmo");
    let mut pulls = merge_pulls(&widgets);
    assert!(pulls.len() >= 8, "{} merge PRs", pulls.len());
    // A closed PR that was never merged is not a row.
    pulls.push(MockPull {
        number: 99,
        title: "Abandoned".into(),
        merged: false,
        base_sha: "0".repeat(40),
        head_sha: "1".repeat(40),
        ..Default::default()
    });
    let merged = pulls.iter().filter(|p| p.merged).count();
    let mut issues = BTreeMap::new();
    issues.insert(
        40,
        MockIssue {
            title: "parse_size rejects 2EM".into(),
            body: "Upper-case units fail.".into(),
            comments: vec!["Reproduced.".into()],
            ..Default::default()
        },
    );
    issues.insert(
        41,
        MockIssue {
            title: "Private report".into(),
            forbidden: true,
            ..Default::default()
        },
    );
    let repos = vec![
        MockRepo {
            full_name: "acme/widgets".into(),
            id: 1,
            stars: 40,
            license: Some("MIT".into()),
            default_branch: "main".into(),
            clone_url: Some(widgets.display().to_string()),
            pulls,
            issues,
            // Listed under both names: one repository, crawled once.
            renamed_from: vec!["acme/widgets-old".into()],
            ..Default::default()
        },
        MockRepo {
            full_name: "acme/gizmo".into(),
            id: 2,
            default_branch: "main".into(),
            renamed_from: vec!["acme/gizmo-old".into()],
            clone_url: Some(gizmo.display().to_string()),
            ..Default::default()
        },
    ];
    let faults = MockFaults {
        bad_gateway_at: vec![2],
        secondary_limit_at: vec![4],
        html_at: vec![6],
        truncated_at: vec![8],
        hang_for: Duration::ZERO,
        ..Default::default()
    };
    let server = MockGitHub::start(repos, faults).expect("mock server");
    let recipe = |budget: u64| {
        format!(
            "name = \"crawlmock\"\n[crawl]\nenabled = true\napi_url = \"{}\"\nper_page = 3\nretry_base_ms = 5\ntimeout_secs = 5\nmax_requests = {budget}\nrepos = [\"acme/widgets\", \"acme/widgets-old\", \"acme/gizmo-old\", \"ghost/missing\"]\n",
            server.url()
        )
    };
    let token = "ghp_e2e_secret_token_do_not_print";
    std::fs::write(s.path().join("crawl.toml"), recipe(5)).expect("recipe");
    let run = |until: &str| {
        s.cmd(&[
            "run",
            "--recipe",
            "crawl.toml",
            "--run",
            "runs/crawlmock",
            "--until",
            until,
        ])
        .env("GITHUB_TOKEN", token)
        .env("SWE_CORPUS_LOG", "info")
        .output()
        .expect("run")
    };
    // A request budget stops the crawl with a clear error; no table claims to be complete.
    let stopped = run("crawl");
    assert!(!stopped.status.success());
    let err = stderr(&stopped);
    assert!(
        err.contains("crawl budget spent") && err.contains("run the crawl again"),
        "{err}"
    );
    assert!(
        !s.path()
            .join("runs/crawlmock/tables/pulls/_manifest.json")
            .exists()
    );
    let asked_before = server.requests();

    // Without the budget it continues where it stopped, then extract reads the mirrors.
    std::fs::write(s.path().join("crawl.toml"), recipe(0)).expect("recipe");
    let done = run("extract");
    assert!(done.status.success(), "{}", stderr(&done));
    let rows = s.query(
        "runs/crawlmock",
        "select pr_number from pulls where repo = 'acme/widgets' order by pr_number",
    );
    assert_eq!(rows.len(), merged, "every merged PR exactly once");
    // The list API gives no file counts; the mirror does.
    let counted = s.query(
        "runs/crawlmock",
        "select count(*) as n from pulls where repo = 'acme/widgets' and changed_files > 0",
    );
    assert_eq!(counted[0]["n"].as_i64(), Some(merged as i64));
    let linked = s.query(
        "runs/crawlmock",
        "select linked_issues[1]['title'] as t from pulls where repo = 'acme/widgets' and pr_number = 1",
    );
    assert_eq!(text(&linked[0], "t"), "parse_size rejects 2EM");
    let renamed = s.query(
        "runs/crawlmock",
        "select aliases[1] as alias from repos where repo = 'acme/gizmo' and origin = 'crawl'",
    );
    assert_eq!(text(&renamed[0], "alias"), "acme/gizmo-old");
    let both_names = s.query(
        "runs/crawlmock",
        "select repo, aliases[1] as alias from repos where origin = 'crawl' and repo like 'acme/widgets%'",
    );
    assert_eq!(both_names.len(), 1, "{both_names:?}");
    assert_eq!(text(&both_names[0], "alias"), "acme/widgets-old");
    // The refused issue cost PR 3 its link only; the repository and its other links stay.
    let lost = s.query(
        "runs/crawlmock",
        "select pr_number, detail from drops where stage = 'crawl' and reason = 'linked_issue_unavailable'",
    );
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!(lost[0]["pr_number"].as_i64(), Some(3));
    assert!(text(&lost[0], "detail").contains("issue #41"), "{lost:?}");
    let unavailable = s.query(
        "runs/crawlmock",
        "select count(*) as n from drops where reason = 'repo_unavailable'",
    );
    assert_eq!(unavailable[0]["n"].as_i64(), Some(0));
    let missing = s.query(
        "runs/crawlmock",
        "select count(*) as n from drops where stage = 'crawl' and reason = 'repo_not_found' and repo = 'ghost/missing'",
    );
    assert_eq!(missing[0]["n"].as_i64(), Some(1));
    // The mirrors are bare clones with the PR refs fetched; extract made patches from them.
    let mirror = s.path().join("runs/crawlmock/mirrors/acme+widgets.git");
    assert_eq!(
        git(&mirror, &["rev-parse", "--is-bare-repository"]).trim(),
        "true"
    );
    let patches = s.query(
        "runs/crawlmock",
        "select count(*) as n from patches where repo = 'acme/widgets' and kind = 'merge_pr'",
    );
    assert!(patches[0]["n"].as_i64().unwrap_or(0) >= 5, "{patches:?}");
    // Pages fetched by the stopped run were not asked again (this run's session).
    let widgets_pages = server.requests_to("/repos/acme/widgets/pulls");
    let pages = (merged + 1).div_ceil(3) as u64;
    assert!(
        widgets_pages >= pages && widgets_pages <= pages + 4,
        "{widgets_pages} page requests for {pages} pages: only the faults' retries come twice (after {asked_before} requests)"
    );

    // The token went to the server and nowhere else.
    assert!(server.authorizations().iter().any(|a| a.contains(token)));
    let mut outputs = stderr(&stopped) + &stderr(&done);
    outputs.push_str(&String::from_utf8_lossy(&done.stdout));
    assert!(!outputs.contains(token), "token printed");
    for (path, bytes) in files_under(&s.path().join("runs/crawlmock")) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(token),
            "token in {path}"
        );
    }
}
