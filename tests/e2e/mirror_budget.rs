//! `[inputs] mirror_budget_gib`: crawled mirrors fetched, used and removed a repository at a
//! time within the budget, the same tables as a run without one, and a kill resumed.

use std::path::Path;

use corpus_testkit::github::{MockFaults, MockGitHub, MockRepo};

use crate::common::{Scratch, files_under, stderr};
use crate::crawl::merge_pulls;

/// The crawled repositories: (name on the mock, demo folder).
const REPOS: &[(&str, &str)] = &[
    ("acme/widgets", "acme+widgets"),
    ("forker/widgets", "forker+widgets"),
    ("acme/gizmo", "gizmo"),
    ("someone/reqs", "someone+reqs-renamed"),
];

/// Every parquet file of a run's tables (manifests left out: they name the fingerprints,
/// which a budget run computes without reading the mirrors' tips).
fn parquet_files(run: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    files_under(&run.join("tables"))
        .into_iter()
        .filter(|(name, _)| name.ends_with(".parquet"))
        .collect()
}

fn mirrors_on_disk(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_mirror_budget_bounds_the_mirrors_keeps_the_tables_and_resumes_after_a_kill() {
    let s = Scratch::new();
    s.ok(&["demo", "--out", "data/demo"]);
    let repos: Vec<MockRepo> = REPOS
        .iter()
        .enumerate()
        .map(|(i, (name, folder))| {
            let path = s.demo_repo(folder);
            MockRepo {
                full_name: name.to_string(),
                id: i as i64 + 1,
                default_branch: "main".into(),
                clone_url: Some(path.display().to_string()),
                pulls: merge_pulls(&path),
                ..Default::default()
            }
        })
        .collect();
    let server = MockGitHub::start(repos, MockFaults::default()).expect("mock server");
    // The mock's sizes (loose objects, KiB): widgets 700-odd each, the others about 100.
    // Both widgets never fit at once; either fits beside the small ones.
    let budget_gib = 1024.0 / (1u64 << 20) as f64;
    let budget_bytes = 1u64 << 20;
    let recipe = |budget: Option<f64>| {
        let names: Vec<String> = REPOS.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        format!(
            "name = \"budget\"\n[inputs]\n{}\n[crawl]\nenabled = true\napi_url = \"{}\"\nretry_base_ms = 5\ntimeout_secs = 5\nmirrors = \"mirrors\"\nrepos = [{}]\n[synthesize]\nenabled = true\nvariants = 2\n",
            budget
                .map(|g| format!("mirror_budget_gib = {g:.12}"))
                .unwrap_or_default(),
            server.url(),
            names.join(", ")
        )
    };
    let run = |recipe_file: &str, dir: &str, fault: Option<&str>| {
        std::fs::write(
            s.path().join(recipe_file),
            recipe((recipe_file == "bounded.toml").then_some(budget_gib)),
        )
        .expect("recipe");
        let mut cmd = s.cmd(&[
            "run",
            "--recipe",
            recipe_file,
            "--run",
            dir,
            "--until",
            "synthesize",
            "--tasks",
            "2",
        ]);
        if let Some(fault) = fault {
            cmd.env("SWE_CORPUS_FAULT", fault);
        }
        cmd.output().expect("run")
    };
    let mirrors = s.path().join("mirrors");

    // Killed (abort, no clean-up) after its second synthesize unit.
    let killed = run("bounded.toml", "runs/bounded", Some("synthesize:unit:2"));
    assert!(!killed.status.success(), "the fault should stop the run");
    let left: u64 = mirrors_on_disk(&mirrors)
        .iter()
        .map(|m| dir_bytes(&mirrors.join(m)))
        .sum();
    assert!(
        left <= budget_bytes,
        "{left} bytes of mirrors left by the kill"
    );
    // Killed again, just after a mirror is removed.
    let killed = run("bounded.toml", "runs/bounded", Some("mirrors:evict:1"));
    assert!(!killed.status.success(), "the fault should stop the run");
    // Resumed: the rest, each mirror removed once synthesize is done with it.
    let resumed = run("bounded.toml", "runs/bounded", None);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(mirrors_on_disk(&mirrors), Vec::<String>::new());
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(s.path().join("runs/bounded/report.json")).expect("report"),
    )
    .expect("json");
    let account = &report["mirrors"];
    let peak = account["peak_bytes"].as_u64().unwrap_or(u64::MAX);
    assert_eq!(account["budget_bytes"].as_u64(), Some(budget_bytes));
    assert!(peak > 0 && peak <= budget_bytes, "{account}");
    let count = |k: &str| account[k].as_u64().unwrap_or(0);
    assert!(count("found") > 0, "the kill left mirrors: {account}");
    assert_eq!(
        count("evicted"),
        count("fetched") + count("found"),
        "{account}"
    );

    // The same recipe without a budget: the mirrors stay, and the tables are the same bytes.
    let free = run("free.toml", "runs/free", None);
    assert!(free.status.success(), "{}", stderr(&free));
    let kept = mirrors_on_disk(&mirrors);
    assert_eq!(kept.len(), REPOS.len(), "{kept:?}");
    let all: u64 = kept.iter().map(|m| dir_bytes(&mirrors.join(m))).sum();
    assert!(
        peak < all,
        "the budget run held {peak} bytes at most, all mirrors take {all}"
    );
    let bounded = parquet_files(&s.path().join("runs/bounded"));
    let unbounded = parquet_files(&s.path().join("runs/free"));
    assert_eq!(
        bounded.keys().collect::<Vec<_>>(),
        unbounded.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &bounded {
        assert!(bytes == &unbounded[name], "{name} differs");
    }
    assert!(
        bounded.keys().any(|k| k.starts_with("trajectories/")),
        "synthesize wrote rows: {:?}",
        bounded.keys().collect::<Vec<_>>()
    );
    let patches = s.query(
        "runs/bounded",
        "select count(distinct repo) as n from patches where repo in ('acme/widgets', 'forker/widgets', 'acme/gizmo')",
    );
    assert_eq!(patches[0]["n"].as_i64(), Some(3), "{patches:?}");
}

#[test]
fn a_mirror_budget_refuses_a_selection_that_splits_its_stages() {
    let s = Scratch::new();
    std::fs::write(
        s.path().join("r.toml"),
        "name = \"split\"\n[inputs]\nmirror_budget_gib = 1\n[crawl]\nenabled = true\nrepos = [\"acme/widgets\"]\n",
    )
    .expect("recipe");
    let out = s.run(&["run", "--recipe", "r.toml", "--until", "extract"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("crawl, extract, synthesize run together"),
        "{}",
        stderr(&out)
    );
    // A cluster task runs one stage: under a budget that splits the group too.
    let out = s.run(&[
        "run", "--recipe", "r.toml", "--only", "crawl", "--task", "0", "--tasks", "2",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("run together"), "{}", stderr(&out));
    std::fs::write(
        s.path().join("offline.toml"),
        "name = \"offline\"\n[inputs]\nmirror_budget_gib = 1\n[crawl]\nenabled = true\noffline = true\nrepos = [\"acme/widgets\"]\n",
    )
    .expect("recipe");
    let out = s.run(&["run", "--recipe", "offline.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("offline = false"), "{}", stderr(&out));
}

fn dir_bytes(dir: &Path) -> u64 {
    files_under(dir).values().map(|b| b.len() as u64).sum()
}
