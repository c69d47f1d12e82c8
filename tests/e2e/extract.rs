//! The demo recipe end to end: tables, SQL, and every PR's patch checked against git itself.

use std::collections::BTreeSet;

use crate::common::{Scratch, git, text};

fn demo_run() -> Scratch {
    let s = Scratch::new();
    s.ok(&["run", "--tasks", "2"]);
    s
}

fn folder_of(repo: &str) -> String {
    match repo {
        "acme/gizmo" => "gizmo".to_string(),
        other => other.replace('/', "+"),
    }
}

#[test]
fn demo_run_writes_tables_that_sql_reads() {
    let s = demo_run();
    for table in ["repos", "patches", "commit_packs", "blobs", "drops"] {
        assert!(
            s.path()
                .join("runs/demo/tables")
                .join(table)
                .join("_manifest.json")
                .is_file(),
            "{table}"
        );
    }
    assert!(s.path().join("runs/demo/recipe.toml").is_file());
    assert!(s.path().join("runs/demo/report.json").is_file());
    assert!(s.path().join("runs/latest").exists());
    let kinds: BTreeSet<String> = s
        .query(
            "runs/demo",
            "select kind, count(*) as n from patches group by kind",
        )
        .iter()
        .map(|r| text(r, "kind"))
        .collect();
    assert_eq!(
        kinds,
        ["commit", "merge_pr", "squash_pr"].map(String::from).into()
    );
    // Default run directory: runs/latest.
    // One row per repository from extract (the crawl adds its own, origin 'crawl').
    let out = s.ok(&[
        "sql",
        "select count(*) as n from repos where origin = 'local'",
    ]);
    assert!(out.contains("| 5 "), "{out}");
}

#[test]
fn merge_pr_diffs_equal_git_diff_from_merge_base() {
    let s = demo_run();
    let rows = s.query(
        "runs/demo",
        "select repo, merge_sha, base_sha, head_sha, diff from patches \
         where kind = 'merge_pr' and skipped_files = 0",
    );
    assert!(rows.len() >= 15, "{} merge PRs", rows.len());
    for row in rows {
        let repo = s.demo_repo(&folder_of(&text(&row, "repo")));
        let merge = text(&row, "merge_sha");
        let p1 = git(&repo, &["rev-parse", &format!("{merge}^1")]);
        let p2 = git(&repo, &["rev-parse", &format!("{merge}^2")]);
        let base = git(&repo, &["merge-base", p1.trim(), p2.trim()]);
        assert_eq!(text(&row, "base_sha"), base.trim());
        assert_eq!(text(&row, "head_sha"), p2.trim());
        let expected = git(&repo, &["diff", "--no-renames", base.trim(), p2.trim()]);
        assert_eq!(
            text(&row, "diff"),
            expected,
            "{} {merge}",
            text(&row, "repo")
        );
    }
}

#[test]
fn every_pr_patch_applies_onto_its_base() {
    let s = demo_run();
    let rows = s.query(
        "runs/demo",
        "select repo, pr_number, base_sha, head_sha, diff, skipped_files from patches",
    );
    assert!(rows.len() > 30);
    let work = s.path().join("apply");
    for row in rows {
        let repo = s.demo_repo(&folder_of(&text(&row, "repo")));
        let _ = std::fs::remove_dir_all(&work);
        git(
            s.path(),
            &[
                "clone",
                "-q",
                "--shared",
                "--no-checkout",
                repo.to_str().unwrap_or_default(),
                "apply",
            ],
        );
        git(
            &work,
            &["checkout", "-q", "--detach", &text(&row, "base_sha")],
        );
        let patch = s.path().join("pr.diff");
        std::fs::write(&patch, text(&row, "diff")).expect("write patch");
        git(
            &work,
            &[
                "apply",
                "--whitespace=nowarn",
                patch.to_str().unwrap_or_default(),
            ],
        );
        if row["skipped_files"].as_i64() == Some(0) {
            git(&work, &["add", "-A"]);
            let left = git(
                &work,
                &["diff", "--cached", "--stat", &text(&row, "head_sha")],
            );
            assert!(
                left.is_empty(),
                "{} #{}: base + patch != head:\n{left}",
                text(&row, "repo"),
                row["pr_number"]
            );
        }
    }
}

#[test]
fn commit_packs_follow_rev_list_topo_order() {
    let s = demo_run();
    let packs = s.query(
        "runs/demo",
        "select p.repo, p.pr_number, p.has_merge_in_branch, p.merge_sha, \
                array_to_string(array_agg(c['sha']), ',') as shas \
         from (select repo, pr_number, has_merge_in_branch, unnest(commits) as c from commit_packs) x \
         join patches p on p.repo = x.repo and p.pr_number = x.pr_number \
         where p.kind = 'merge_pr' \
         group by p.repo, p.pr_number, p.has_merge_in_branch, p.merge_sha",
    );
    assert!(packs.len() >= 15);
    let mut saw_merge_inside = false;
    for pack in packs {
        let repo = s.demo_repo(&folder_of(&text(&pack, "repo")));
        let merge = text(&pack, "merge_sha");
        let listed = git(
            &repo,
            &[
                "rev-list",
                "--topo-order",
                "--reverse",
                "--no-merges",
                &format!("{merge}^1..{merge}^2"),
            ],
        );
        let expected: Vec<&str> = listed.lines().collect();
        let shas = text(&pack, "shas");
        let got: Vec<&str> = shas.split(',').collect();
        assert_eq!(
            got,
            expected,
            "{} #{}",
            text(&pack, "repo"),
            pack["pr_number"]
        );
        saw_merge_inside |= pack["has_merge_in_branch"].as_bool() == Some(true);
    }
    assert!(
        saw_merge_inside,
        "the demo has a PR with a merge inside its branch"
    );
}

#[test]
fn skipped_files_and_prs_are_in_drops() {
    let s = demo_run();
    let drops = s.query(
        "runs/demo",
        "select reason, repo, pr_number, path from drops where stage = 'extract'",
    );
    let has = |reason: &str, path: Option<&str>| {
        drops
            .iter()
            .any(|d| text(d, "reason") == reason && path.is_none_or(|p| text(d, "path") == p))
    };
    assert!(has("binary", Some("docs/logo.png")));
    assert!(has("lockfile", Some("Cargo.lock")));
    assert!(has("vendored", Some("vendor/six.py")));
    assert!(has("non_utf8", Some("data/legacy.txt")));
    assert!(has("file_too_large", Some("widgets/_tables.py")));
    assert!(has("bot_author", None));
    assert!(has("swe_bench_repo", None));
    // The skipped files are not in the kept patches.
    let leaked = s.query(
        "runs/demo",
        "select count(*) as n from patches where diff like '%diff --git a/docs/logo.png%' \
         or diff like '%diff --git a/vendor/six.py%' or diff like '%diff --git a/Cargo.lock%' \
         or diff like '%diff --git a/data/legacy.txt%'",
    );
    assert_eq!(leaked[0]["n"].as_i64(), Some(0));
    // SWE-bench repositories are skipped before any work, but keep their roots.
    let repos = s.query(
        "runs/demo",
        "select repo, skipped_reason, root_commits from repos where repo = 'psf/requests' and origin = 'local'",
    );
    assert_eq!(text(&repos[0], "skipped_reason"), "swe_bench_repo");
    assert_eq!(
        repos[0]["root_commits"].as_array().map(|a| a.len()),
        Some(1)
    );
    let extracted = s.query(
        "runs/demo",
        "select count(*) as n from patches where repo = 'psf/requests'",
    );
    assert_eq!(extracted[0]["n"].as_i64(), Some(0));
}

#[test]
fn blobs_hold_each_version_once_and_match_git() {
    let s = demo_run();
    let dupes = s.query(
        "runs/demo",
        "select repo, blob_id, count(*) as n from blobs group by repo, blob_id having count(*) > 1",
    );
    assert!(dupes.is_empty(), "{dupes:?}");
    let missing = s.query(
        "runs/demo",
        "select f['after_blob'] as b from (select repo, unnest(files) as f from patches) x \
         left join blobs on blobs.repo = x.repo and blobs.blob_id = f['after_blob'] \
         where f['after_blob'] is not null and blobs.blob_id is null",
    );
    assert!(
        missing.is_empty(),
        "patch files whose blob is missing: {missing:?}"
    );
    let sample = s.query(
        "runs/demo",
        "select blob_id, content from blobs where repo = 'acme/widgets' limit 5",
    );
    for row in sample {
        let content = git(
            &s.demo_repo("acme+widgets"),
            &["cat-file", "blob", &text(&row, "blob_id")],
        );
        assert_eq!(content, text(&row, "content"));
    }
}

#[test]
fn quick_try_with_repo_flags() {
    let s = Scratch::new();
    s.ok(&["demo", "--out", "data/demo"]);
    let repo = s.demo_repo("gizmo");
    s.ok(&[
        "run",
        "--repo",
        repo.to_str().unwrap_or_default(),
        "--run",
        "quick",
    ]);
    let rows = s.query("quick", "select distinct repo from patches");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        text(&rows[0], "repo"),
        "acme/gizmo",
        "name from the origin URL"
    );
}
