//! `swe-corpus discover`: a search far beyond 1,000 results through the recipe's
//! `[crawl.search]` against the mock GitHub, GH Archive files of both payload shapes and a
//! CSV export; the list it writes is what `[crawl] repos_file` reads; bad input exits 2 and
//! leaves an earlier list untouched.

use std::io::Write;

use corpus_testkit::github::{MockFaults, MockGitHub, MockRepo};

use crate::common::{Scratch, stderr, text};

const TOKEN: &str = "ghp_discover_e2e_secret";

/// 2,400 repositories: 1,300 of them Python at 3 stars (one query cannot return them all),
/// the rest spread over stars; every tenth one is Rust.
fn population() -> Vec<MockRepo> {
    (0..2_400)
        .map(|i| MockRepo {
            full_name: format!("team{}/project{i}", i % 13),
            id: i as i64 + 1,
            stars: if i < 1_300 {
                3
            } else {
                3 + (i as i64 * 31) % 700
            },
            language: if i % 10 == 9 { "Rust" } else { "Python" }.into(),
            created: format!("20{:02}-{:02}-{:02}", 12 + i % 13, 1 + i % 12, 1 + i % 28),
            default_branch: "main".into(),
            ..Default::default()
        })
        .collect()
}

fn listed(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn discover_enumerates_a_search_beyond_1000_results_from_the_recipe() {
    let s = Scratch::new();
    let repos = population();
    let mut want: Vec<String> = repos
        .iter()
        .filter(|r| r.language == "Python")
        .map(|r| r.full_name.clone())
        .collect();
    want.sort();
    let server = MockGitHub::start(repos, MockFaults::default()).expect("mock server");
    std::fs::write(
        s.path().join("search.toml"),
        format!(
            "name = \"searchmock\"\n[crawl]\nenabled = true\napi_url = \"{}\"\nretry_base_ms = 5\ntimeout_secs = 5\n[crawl.search]\nlanguage = \"python\"\nmin_stars = 3\nmax_repos = 0\ncreated_before = \"2026-01-01\"\n",
            server.url()
        ),
    )
    .expect("recipe");
    let discover = || {
        s.cmd(&["discover", "--recipe", "search.toml", "--out", "list.txt"])
            .env("GITHUB_TOKEN", TOKEN)
            .output()
            .expect("discover")
    };
    let out = discover();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("discover: 2160 repositories"), "{err}");
    assert!(!err.contains(TOKEN) && !String::from_utf8_lossy(&out.stdout).contains(TOKEN));
    let text = std::fs::read_to_string(s.path().join("list.txt")).expect("list");
    let mut got = listed(&text);
    assert!(
        text.lines()
            .all(|l| l.contains("  # ") && l.ends_with(" stars"))
    );
    got.sort();
    assert_eq!(got, want, "every Python repository once, no Rust one");
    assert!(!text.contains(TOKEN));
    // The crawl cache under the run answers a second time without a request.
    let asked = server.requests();
    let again = discover();
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(server.requests(), asked);
    assert_eq!(
        std::fs::read_to_string(s.path().join("list.txt")).expect("list"),
        text
    );
}

fn gzip(path: &std::path::Path, lines: &[serde_json::Value]) {
    let file = std::fs::File::create(path).expect("create");
    let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    for line in lines {
        writeln!(encoder, "{line}").expect("write");
    }
    encoder.finish().expect("finish");
}

fn event(repo: &str, number: u64, action: &str, merged: Option<bool>) -> serde_json::Value {
    let pull_request = match merged {
        // The full payload of before late 2025.
        Some(merged) => serde_json::json!({ "number": number, "merged": merged, "title": "t" }),
        // The trimmed one: no merge flag.
        None => {
            serde_json::json!({ "url": format!("https://api.github.com/repos/{repo}/pulls/{number}") })
        }
    };
    serde_json::json!({
        "type": "PullRequestEvent",
        "repo": { "name": repo },
        "payload": { "action": action, "number": number, "pull_request": pull_request }
    })
}

#[test]
fn discover_counts_archives_and_csv_into_a_list_the_crawl_reads() {
    let s = Scratch::new();
    gzip(
        &s.path().join("2024-03-01-0.json.gz"),
        &[
            event("acme/rockets", 1, "closed", Some(true)),
            event("acme/rockets", 2, "closed", Some(true)),
            event("acme/rockets", 3, "closed", Some(false)),
            event("acme/rockets", 4, "opened", None),
            event("tiny/one", 1, "closed", Some(true)),
            serde_json::json!({ "type": "PushEvent", "repo": { "name": "acme/rockets" } }),
        ],
    );
    gzip(
        &s.path().join("2026-01-05-3.json.gz"),
        &[
            event("acme/rockets", 2, "closed", None),
            event("newco/engine", 10, "closed", None),
            event("newco/engine", 11, "closed", None),
        ],
    );
    std::fs::write(
        s.path().join("bq.csv"),
        "repo_name,merged_prs\nnewco/engine,40\nother/lib,5\n",
    )
    .expect("csv");
    s.ok(&[
        "discover",
        "--gharchive",
        "2024-03-01-0.json.gz",
        "2026-01-05-3.json.gz",
        "--csv",
        "bq.csv",
        "--min-prs",
        "2",
        "--out",
        "repos.txt",
    ]);
    let list = std::fs::read_to_string(s.path().join("repos.txt")).expect("list");
    assert_eq!(
        listed(&list),
        ["newco/engine", "other/lib", "acme/rockets"],
        "most merged first; tiny/one has fewer than 2: {list}"
    );
    assert!(
        list.starts_with("newco/engine  # 40 merged, 42 closed PRs\n"),
        "{list}"
    );
    assert!(
        list.contains("acme/rockets  # 2 merged, 3 closed PRs\n"),
        "{list}"
    );

    // The list is a `repos_file`: the crawl reads it, every repository on it once.
    let repos = ["newco/engine", "other/lib", "acme/rockets"]
        .iter()
        .enumerate()
        .map(|(i, name)| MockRepo {
            full_name: name.to_string(),
            id: i as i64 + 1,
            default_branch: "main".into(),
            ..Default::default()
        })
        .collect();
    let server = MockGitHub::start(repos, MockFaults::default()).expect("mock server");
    std::fs::write(
        s.path().join("listed.toml"),
        format!(
            "name = \"listed\"\n[crawl]\nenabled = true\nmirror = false\napi_url = \"{}\"\nretry_base_ms = 5\nrepos_file = \"repos.txt\"\n",
            server.url()
        ),
    )
    .expect("recipe");
    let crawl = s
        .cmd(&["crawl", "--recipe", "listed.toml", "--run", "runs/listed"])
        .env("GITHUB_TOKEN", TOKEN)
        .output()
        .expect("crawl");
    assert!(crawl.status.success(), "{}", stderr(&crawl));
    let crawled = s.query(
        "runs/listed",
        "select repo from repos where origin = 'crawl' order by repo",
    );
    let crawled: Vec<String> = crawled.iter().map(|r| text(r, "repo")).collect();
    assert_eq!(crawled, ["acme/rockets", "newco/engine", "other/lib"]);
}

#[test]
fn discover_refuses_bad_input_with_exit_2_and_keeps_the_earlier_list() {
    let s = Scratch::new();
    std::fs::write(s.path().join("repos.txt"), "kept/list\n").expect("list");
    let none = s.run(&["discover", "--out", "repos.txt"]);
    assert_eq!(none.status.code(), Some(2), "{}", stderr(&none));
    assert!(stderr(&none).contains("give --recipe"), "{}", stderr(&none));
    std::fs::write(
        s.path().join("bad.csv"),
        "repo_name,count\ngood/one,3\nnot-a-repo,4\n",
    )
    .expect("csv");
    let bad = s.run(&["discover", "--csv", "bad.csv", "--out", "repos.txt"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("bad.csv") && stderr(&bad).contains("not-a-repo"),
        "{}",
        stderr(&bad)
    );
    let no_search = s.run(&["discover", "--recipe", "missing.toml", "--out", "repos.txt"]);
    assert_eq!(no_search.status.code(), Some(2), "{}", stderr(&no_search));
    assert_eq!(
        std::fs::read_to_string(s.path().join("repos.txt")).expect("list"),
        "kept/list\n"
    );
}
