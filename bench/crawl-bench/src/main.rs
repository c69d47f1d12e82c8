//! The crawl of a mock GitHub org under rate limits, through the real binary: `swe-corpus
//! crawl` is killed (SIGKILL) partway, then run again; every merged PR must arrive exactly
//! once. Prints requests per PR and per repository, the requests the resumed run repeated,
//! and the projected time to crawl 100k repositories of this shape with N tokens at
//! GitHub's 5,000 requests an hour per token.
//!
//! Usage: crawl-bench SWE_CORPUS_BINARY WORKDIR [REPOS] [PRS_PER_REPO]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use corpus_core::rows::PullRow;
use corpus_testkit::github::{MockFaults, MockGitHub, MockIssue, MockPull, MockRepo};

type Error = Box<dyn std::error::Error>;

const TOKENS: &str = "ghp_bench_token_one_0000,ghp_bench_token_two_1111";

fn org(repos: usize, prs: i64) -> Vec<MockRepo> {
    (0..repos)
        .map(|r| {
            let mut issues = BTreeMap::new();
            let pulls = (1..=prs)
                .map(|n| {
                    // One PR in ten closes an issue; one in twelve was closed unmerged.
                    let body = if n % 10 == 0 {
                        issues.insert(
                            100_000 + n,
                            MockIssue {
                                title: format!("Bug report {n}"),
                                body: format!("Steps to reproduce {n}."),
                                comments: vec!["Confirmed.".into(), "Same here.".into()],
                                ..Default::default()
                            },
                        );
                        format!("Fixes #{}", 100_000 + n)
                    } else {
                        format!("Change number {n}.")
                    };
                    MockPull {
                        number: n,
                        title: format!("Change {n}"),
                        body,
                        user: Some(format!("dev{}", n % 13)),
                        merged: n % 12 != 0,
                        merged_at: format!("2024-03-{:02}T12:00:00Z", 1 + n % 28),
                        base_ref: "main".into(),
                        base_sha: format!("{:040x}", r as i64 * 1_000_000 + n),
                        head_sha: format!("{:040x}", r as i64 * 1_000_000 + n + 500_000),
                        merge_sha: format!("{:040x}", r as i64 * 1_000_000 + n + 900_000),
                        ..Default::default()
                    }
                })
                .collect();
            MockRepo {
                full_name: format!("mockorg/repo{r:03}"),
                id: r as i64 + 1,
                stars: 100 - r as i64,
                license: Some("MIT".into()),
                default_branch: "main".into(),
                language: "Python".into(),
                pulls,
                issues,
                ..Default::default()
            }
        })
        .collect()
}

fn pulls_rows(run: &Path) -> Result<(u64, BTreeSet<(String, i64)>), Error> {
    let mut rows = 0u64;
    let mut unique = BTreeSet::new();
    corpus_core::table::for_each_table_batch(&run.join("tables/pulls"), 4096, |batch| {
        for p in PullRow::from_batch(&batch)? {
            rows += 1;
            unique.insert((p.repo, p.pr_number));
        }
        Ok(())
    })?;
    Ok((rows, unique))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: crawl-bench SWE_CORPUS_BINARY WORKDIR [REPOS] [PRS_PER_REPO]";
    let bin = PathBuf::from(args.get(1).ok_or(usage)?);
    let work = PathBuf::from(args.get(2).ok_or(usage)?);
    let repos: usize = args.get(3).map(|a| a.parse()).transpose()?.unwrap_or(50);
    let prs: i64 = args.get(4).map(|a| a.parse()).transpose()?.unwrap_or(436);
    let mock = org(repos, prs);
    let expected: BTreeSet<(String, i64)> = mock
        .iter()
        .flat_map(|r| {
            r.pulls
                .iter()
                .filter(|p| p.merged)
                .map(|p| (r.full_name.clone(), p.number))
        })
        .collect();
    let faults = MockFaults {
        // Each token gets 1,500 requests per 3-second window: the crawl hits the limit.
        quota_per_window: Some(1500),
        window_secs: 3,
        secondary_limit_at: vec![700, 4100],
        bad_gateway_at: vec![50, 51, 2600],
        html_at: vec![1200],
        truncated_at: vec![3300],
        ..Default::default()
    };
    let server = MockGitHub::start(mock, faults)?;
    std::fs::create_dir_all(&work)?;
    let run = work.join("run");
    let _ = std::fs::remove_dir_all(&run);
    let names: Vec<String> = (0..repos)
        .map(|r| format!("\"mockorg/repo{r:03}\""))
        .collect();
    let recipe = work.join("crawl-bench.toml");
    std::fs::write(
        &recipe,
        format!(
            "name = \"crawl-bench\"\n[crawl]\nenabled = true\nmirror = false\napi_url = \"{}\"\nretry_base_ms = 20\ntimeout_secs = 5\nrepos = [{}]\n",
            server.url(),
            names.join(", ")
        ),
    )?;
    let crawl = || {
        Command::new(&bin)
            .args(["crawl", "--recipe"])
            .arg(&recipe)
            .arg("--run")
            .arg(&run)
            .env("GITHUB_TOKENS", TOKENS)
            .env("SWE_CORPUS_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
    };
    // Per repository: metadata, the pages, and an issue plus its comments per tenth PR.
    let total_expected_requests = repos as u64 * (2 + prs as u64 / 100 + prs as u64 / 5);
    let started = Instant::now();
    let mut first = crawl()?;
    // Kill partway: once about 40% of the requests are made.
    while server.requests() < total_expected_requests * 4 / 10 && first.try_wait()?.is_none() {
        std::thread::sleep(Duration::from_millis(20));
    }
    first.kill()?;
    let killed = first.wait_with_output()?;
    let first_requests = server.requests();
    let second = crawl()?.wait_with_output()?;
    let elapsed = started.elapsed().as_secs_f64();
    if !second.status.success() {
        return Err(format!(
            "the resumed crawl failed: {}",
            String::from_utf8_lossy(&second.stderr)
        )
        .into());
    }
    let (rows, unique) = pulls_rows(&run)?;
    let requests = server.requests();
    let all_ok = rows == expected.len() as u64 && unique == expected;
    // No token in the run directory or in what the crawl printed.
    let mut leaked = Vec::new();
    let logs = [killed.stderr, second.stderr].concat();
    for token in TOKENS.split(',') {
        if String::from_utf8_lossy(&logs).contains(token) {
            leaked.push("stderr".to_string());
        }
        for file in files(&run) {
            if std::fs::read(&file)
                .map(|b| String::from_utf8_lossy(&b).contains(token))
                .unwrap_or(false)
            {
                leaked.push(file.display().to_string());
            }
        }
    }
    let per_repo = requests as f64 / repos as f64;
    println!(
        "crawl of a mock org: {repos} repositories, {} merged PRs ({} closed), killed after {first_requests} requests and resumed",
        expected.len(),
        repos as i64 * prs
    );
    println!(
        "  every merged PR exactly once: {} ({rows} rows, {} distinct); token leaks: {}",
        if all_ok { "yes" } else { "NO" },
        unique.len(),
        if leaked.is_empty() {
            "none".into()
        } else {
            leaked.join(", ")
        }
    );
    println!(
        "  {requests} requests in {elapsed:.1}s ({:.0} PRs/s with rate-limit waits): {:.3} requests per PR, {per_repo:.1} per repository; {} answered 403 by the primary limit",
        expected.len() as f64 / elapsed,
        requests as f64 / expected.len() as f64,
        server.rate_limited()
    );
    for tokens in [1.0, 10.0, 50.0] {
        let hours = 100_000.0 * per_repo / (5000.0 * tokens);
        println!(
            "  projected: 100k repositories of this shape with {tokens:.0} token(s): {hours:.0} hours ({:.1} days)",
            hours / 24.0
        );
    }
    if !all_ok || !leaked.is_empty() {
        return Err("the crawl lost, doubled or leaked something".into());
    }
    Ok(())
}
