//! Stage `decontaminate`: benchmark repositories by name and shared root, content matching
//! against a benchmark file the test writes, the report, and bad benchmark files.

use crate::common::{Scratch, git, stderr, text};

#[test]
fn benchmark_repositories_and_renamed_copies_are_removed_and_reported() {
    let s = Scratch::new();
    s.ok(&["run"]);
    let left = s.query(
        "runs/demo",
        "select count(*) as n from decontaminated where repo in ('psf/requests', 'someone/reqs-renamed')",
    );
    assert_eq!(left[0]["n"].as_i64(), Some(0));
    let before = s.query(
        "runs/demo",
        "select count(*) as n from samples where repo = 'someone/reqs-renamed'",
    );
    assert!(
        before[0]["n"].as_i64().unwrap_or(0) > 0,
        "the renamed copy had samples to remove"
    );
    let report = s.query(
        "runs/demo",
        "select stage, reason, matched, repo, samples, detail from decontam_report order by repo",
    );
    assert_eq!(report.len(), 2, "{report:?}");
    assert_eq!(text(&report[0], "reason"), "swe_bench_repo");
    assert_eq!(text(&report[1], "reason"), "benchmark_root");
    assert_eq!(text(&report[1], "matched"), "psf/requests");
    let root = git(
        &s.demo_repo("psf+requests"),
        &["rev-list", "--max-parents=0", "main"],
    );
    // Tokens removed per reason: the report's sum is the drops' sum, each counted with the
    // recipe's tokenizer as tokenize would count it.
    let tokens = s.query(
        "runs/demo",
        "select r.tokens as report, d.tokens as drops from \
         (select sum(tokens) as tokens from decontam_report where reason = 'benchmark_root') r, \
         (select sum(n_tokens) as tokens from drops where reason = 'benchmark_root') d",
    );
    let removed = tokens[0]["report"].as_i64().unwrap_or(0);
    assert!(removed > 0, "{tokens:?}");
    assert_eq!(tokens[0]["drops"].as_i64(), Some(removed));
    assert!(
        text(&report[1], "detail").contains(root.trim()),
        "the report names the shared root"
    );
    // Everything else goes on unchanged.
    let kept = s.query(
        "runs/demo",
        "select count(*) as n from samples s join decontaminated d on s.sample_id = d.sample_id and s.repo = d.repo",
    );
    let others = s.query(
        "runs/demo",
        "select count(*) as n from samples where repo not in ('psf/requests', 'someone/reqs-renamed')",
    );
    assert_eq!(kept[0]["n"], others[0]["n"]);
}

#[test]
fn the_allow_list_releases_a_known_false_match() {
    let s = Scratch::new();
    std::fs::write(
        s.path().join("allow.toml"),
        "name = \"allow\"\n[inputs]\ndemo = true\n[decontam]\nallow = [\"someone/reqs-renamed\"]\n",
    )
    .expect("recipe");
    s.ok(&["run", "--recipe", "allow.toml"]);
    let kept = s.query(
        "runs/allow",
        "select count(*) as n from decontaminated where repo = 'someone/reqs-renamed'",
    );
    assert!(kept[0]["n"].as_i64().unwrap_or(0) > 0);
}

#[test]
fn content_matching_drops_samples_holding_a_benchmark_patch() {
    let s = Scratch::new();
    s.ok(&["run", "--until", "format"]);
    let diff = s.query(
        "runs/demo",
        "select code_diff from patches where repo = 'acme/widgets' and pr_number = 10",
    );
    let instance = serde_json::json!({
        "instance_id": "acme__widgets-10",
        "repo": "acme/widgets",
        "problem_statement": "A problem statement about something else entirely, long enough to be indexed as thirteen word grams and more words.",
        "patch": text(&diff[0], "code_diff"),
        "test_patch": "",
    });
    std::fs::write(s.path().join("bench.jsonl"), format!("{instance}\n")).expect("bench");
    std::fs::write(
        s.path().join("content.toml"),
        "name = \"demo\"\n[inputs]\ndemo = true\n[format]\ncommits = true\n[tables]\nmax_part_mib = 1\n[extract]\nmax_file_bytes = 262144\n[decontam]\nbenchmark_files = [\"bench.jsonl\"]\n",
    )
    .expect("recipe");
    s.ok(&["run", "--recipe", "content.toml"]);
    let dropped = s.query(
        "runs/demo",
        "select repo, pr_number, detail from drops where stage = 'decontaminate' and reason = 'benchmark_content'",
    );
    assert!(!dropped.is_empty());
    assert!(
        dropped
            .iter()
            .all(|d| text(d, "detail").contains("acme__widgets-10")),
        "{dropped:?}"
    );
    assert!(dropped.iter().any(|d| d["pr_number"].as_i64() == Some(10)));
    let report = s.query(
        "runs/demo",
        "select matched, sum(samples) as n from decontam_report where reason = 'benchmark_content' group by matched",
    );
    assert_eq!(text(&report[0], "matched"), "acme__widgets-10");
    // Unrelated PRs are untouched.
    let kept = s.query(
        "runs/demo",
        "select count(*) as n from decontaminated where repo = 'acme/widgets' and pr_number = 5",
    );
    assert!(kept[0]["n"].as_i64().unwrap_or(0) > 0);
}

#[test]
fn a_bad_benchmark_file_is_a_clear_error_and_loses_nothing() {
    let s = Scratch::new();
    s.ok(&["run"]);
    let before = s.query("runs/demo", "select count(*) as n from decontaminated");
    for (content, needle) in [
        (
            "{\"instance_id\": \"x\", \"patch\": \"d\"}\n",
            "missing column `problem_statement`",
        ),
        (
            "{\"instance_id\": 7, \"problem_statement\": \"p\", \"patch\": \"d\"}\n",
            "must be a string",
        ),
        ("", "holds no instances"),
    ] {
        std::fs::write(s.path().join("bad.jsonl"), content).expect("bench");
        std::fs::write(
            s.path().join("bad.toml"),
            "name = \"demo\"\n[inputs]\ndemo = true\n[format]\ncommits = true\n[tables]\nmax_part_mib = 1\n[extract]\nmax_file_bytes = 262144\n[decontam]\nbenchmark_files = [\"bad.jsonl\"]\n",
        )
        .expect("recipe");
        let out = s.run(&["run", "--recipe", "bad.toml"]);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(err.contains("bad.jsonl") && err.contains(needle), "{err}");
        let after = s.query("runs/demo", "select count(*) as n from decontaminated");
        assert_eq!(before, after, "the earlier table is still whole");
    }
}

#[test]
fn fingerprint_prints_root_commits() {
    let s = Scratch::new();
    s.ok(&["demo"]);
    let out = s.ok(&[
        "decontam",
        "fingerprint",
        "data/demo/repos/someone+reqs-renamed",
    ]);
    let root = git(
        &s.demo_repo("psf+requests"),
        &["rev-list", "--max-parents=0", "main"],
    );
    assert_eq!(out, format!("someone/reqs-renamed\t{}\n", root.trim()));
}
