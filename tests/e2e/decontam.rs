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
    // No `repo`: a benchmark file's repositories are benchmark repositories, and this test is
    // about content only.
    let instance = serde_json::json!({
        "instance_id": "acme__widgets-10",
        "problem_statement": "A problem statement about something else entirely, long enough to be indexed as thirteen word grams and more words.",
        // In the test patch, so that n-grams match and the gold-patch lines (an empty patch)
        // do not.
        "patch": "",
        "test_patch": text(&diff[0], "code_diff"),
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

/// The demo recipe with a `[decontam]` section appended.
fn demo_with_decontam(s: &Scratch, file: &str, decontam: &str) {
    let recipe = format!(
        "{}\n[decontam]\n{decontam}\n",
        include_str!("../../pipelines/demo.toml")
    );
    std::fs::write(s.path().join(file), recipe).expect("recipe");
}

#[test]
fn a_cutoff_drops_every_pr_merged_on_or_after_it_in_every_source() {
    let s = Scratch::new();
    let out = s.run(&["run"]);
    assert!(
        stderr(&out).contains("warning: no [decontam] cutoff set"),
        "a run without a cutoff warns"
    );
    let before = s.query(
        "runs/demo",
        "select source, count(*) as n from decontaminated group by source order by source",
    );
    demo_with_decontam(&s, "cutoff.toml", "cutoff = \"2024-01-03\"");
    let out = s.run(&["run", "--recipe", "cutoff.toml", "--until", "decontaminate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("no [decontam] cutoff"));
    // Nothing kept was merged on or after the cutoff, whatever its source; PR samples are dated
    // by their PR, commit samples by their patch.
    let late = s.query(
        "runs/demo",
        "select d.source, count(*) as n from decontaminated d join patches p \
         on d.repo = p.repo and d.base_sha = p.base_sha \
         and (d.pr_number = p.pr_number or (d.pr_number is null and p.pr_number is null)) \
         where p.merged_at >= '2024-01-03T00:00:00Z' group by d.source",
    );
    assert!(late.is_empty(), "{late:?}");
    let dropped = s.query(
        "runs/demo",
        "select source, count(*) as n from drops d join samples s on d.sample_id = s.sample_id \
         where d.reason = 'after_cutoff' group by source order by source",
    );
    let dropped_sources: Vec<String> = dropped.iter().map(|r| text(r, "source")).collect();
    for source in ["agentless", "commit_packs", "commits"] {
        assert!(dropped_sources.contains(&source.to_string()), "{dropped:?}");
    }
    let synthetic = s.query(
        "runs/demo",
        "select count(*) as n from drops where reason = 'after_cutoff' and detail like 'synthetic%'",
    );
    let synthetic_kept = s.query(
        "runs/demo",
        "select count(*) as n from decontaminated where source like 'synthetic%'",
    );
    let synthetic_before: i64 = before
        .iter()
        .filter(|r| text(r, "source").starts_with("synthetic"))
        .map(|r| r["n"].as_i64().unwrap_or(0))
        .sum();
    assert!(
        synthetic_kept[0]["n"].as_i64().unwrap_or(0) < synthetic_before,
        "synthetic samples of late PRs are dropped too ({synthetic:?})"
    );
    // PRs merged the day before are all still there.
    let early = s.query(
        "runs/demo",
        "select count(*) as n from decontaminated where repo = 'acme/widgets' and pr_number = 5",
    );
    assert!(early[0]["n"].as_i64().unwrap_or(0) > 0);
    let report = s.query(
        "runs/demo",
        "select matched, sum(samples) as n from decontam_report where reason = 'after_cutoff' group by matched",
    );
    assert_eq!(text(&report[0], "matched"), "2024-01-03");
}

#[test]
fn a_sample_naming_a_benchmark_instance_is_dropped() {
    let s = Scratch::new();
    s.ok(&["run", "--until", "format"]);
    // A benchmark file whose instance shares no text with the demo, so only its id can match;
    // the registry's own ids (SWE-bench Verified's) match the same way.
    let instance = serde_json::json!({
        "instance_id": "acme__widgets-3",
        "problem_statement": "Unrelated words that appear nowhere in the demo corpus at all, really none of them.",
        "patch": "diff --git a/x b/x\n",
    });
    std::fs::write(s.path().join("ids.jsonl"), format!("{instance}\n")).expect("bench");
    demo_with_decontam(&s, "ids.toml", "benchmark_files = [\"ids.jsonl\"]");
    let clean = s.query(
        "runs/demo",
        "select count(*) as n from samples where text like '%acme__widgets-3%'",
    );
    assert_eq!(clean[0]["n"].as_i64(), Some(0), "the demo never names it");
    s.ok(&["run", "--recipe", "ids.toml"]);
    let dropped = s.query(
        "runs/demo",
        "select count(*) as n from drops where reason = 'benchmark_instance_id'",
    );
    assert_eq!(
        dropped[0]["n"].as_i64(),
        Some(0),
        "no false canary on the demo"
    );

    // An external sample that names a SWE-bench Verified instance is dropped by the registry.
    let chat = serde_json::json!({"messages": [
        {"role": "user", "content": "How do I make HttpResponse accept a memoryview?"},
        {"role": "assistant", "content": "This is django__django-11099: wrap it in bytes() first."},
    ]});
    std::fs::write(s.path().join("named.jsonl"), format!("{chat}\n")).expect("chat");
    let recipe = std::fs::read_to_string(s.path().join("ids.toml")).expect("recipe");
    std::fs::write(
        s.path().join("ids.toml"),
        format!("{recipe}\n[[ingest.sources]]\nname = \"named_chat\"\npath = \"named.jsonl\"\n"),
    )
    .expect("recipe");
    s.ok(&["run", "--recipe", "ids.toml", "--until", "decontaminate"]);
    let dropped = s.query(
        "runs/demo",
        "select matched, samples from decontam_report where reason = 'benchmark_instance_id'",
    );
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert_eq!(text(&dropped[0], "matched"), "django__django-11099");
}

#[test]
fn unknown_families_and_bad_cutoffs_are_configuration_errors() {
    let s = Scratch::new();
    for (decontam, needle) in [
        (
            "benchmarks = [\"swe-bench-nope\"]",
            "unknown family `swe-bench-nope`",
        ),
        ("cutoff = \"2024/01/03\"", "is not a date"),
        (
            "swe_bench_verified = false\nbenchmarks = [\"swe-bench\"]",
            "contradicts",
        ),
    ] {
        demo_with_decontam(&s, "bad.toml", decontam);
        let out = s.run(&["run", "--recipe", "bad.toml"]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
        assert!(!s.path().join("runs/demo").exists(), "nothing was written");
    }
}

#[test]
fn every_shard_carries_the_certificate_and_verify_checks_it() {
    let s = Scratch::new();
    demo_with_decontam(&s, "demo.toml", "cutoff = \"2024-01-03\"");
    s.ok(&["run", "--recipe", "demo.toml"]);
    let report = s.ok(&["decontam", "report"]);
    assert!(report.contains("cutoff: 2024-01-03"), "{report}");
    assert!(report.contains("swe-bench-pro@"), "{report}");
    assert!(report.contains("after_cutoff"), "{report}");
    assert!(report.contains("benchmark_root"), "{report}");
    let latest = report
        .lines()
        .find_map(|l| l.strip_prefix("latest merge the shards hold: "))
        .expect("the latest merge")
        .to_string();
    assert!(latest.as_str() < "2024-01-03", "{latest}");
    let card =
        std::fs::read_to_string(s.path().join("runs/demo/exports/hf/README.md")).expect("card");
    assert!(
        card.contains("no PR merged on or after 2024-01-03")
            && card.contains(&format!("latest merge kept {latest}")),
        "{card}"
    );
    s.ok(&["verify"]);

    // A recipe that now asks for another cutoff no longer matches the shards' certificate.
    let manifest_path = s.path().join("runs/demo/tables/shards/_manifest.json");
    let original = std::fs::read_to_string(&manifest_path).expect("manifest");
    let recipe_path = s.path().join("runs/demo/recipe.toml");
    let recipe = std::fs::read_to_string(&recipe_path).expect("run recipe");
    std::fs::write(&recipe_path, recipe.replace("2024-01-03", "2024-01-02")).expect("recipe");
    let out = s.run(&["verify"]);
    assert!(!out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(printed.contains("certificate cutoff"), "{printed}");
    std::fs::write(&recipe_path, recipe).expect("recipe back");

    // A shard without the certificate fails verify.
    let mut manifest: serde_json::Value = serde_json::from_str(&original).expect("json");
    manifest["parts"][0]
        .as_object_mut()
        .expect("a part")
        .remove("certificate");
    std::fs::write(&manifest_path, manifest.to_string()).expect("manifest");
    let out = s.run(&["verify"]);
    assert!(!out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(printed.contains("carries certificate none"), "{printed}");
    manifest
        .as_object_mut()
        .expect("manifest")
        .remove("decontam");
    std::fs::write(&manifest_path, manifest.to_string()).expect("manifest");
    let out = s.run(&["verify"]);
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        printed.contains("no decontamination certificate"),
        "{printed}"
    );
    let out = s.run(&["decontam", "report"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("carry no decontamination certificate"));
}

#[test]
fn decontam_check_reports_matching_rows_of_any_file() {
    let s = Scratch::new();
    std::fs::write(
        s.path().join("corpus.jsonl"),
        "{\"text\": \"nothing to see\"}\n{\"text\": \"the fix for astropy__astropy-12907\"}\n",
    )
    .expect("corpus");
    let out = s.run(&["decontam", "check", "corpus.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        printed
            .contains("corpus.jsonl:2\tbenchmark_instance_id\tswe-bench\tastropy__astropy-12907"),
        "{printed}"
    );
    assert!(stderr(&out).contains("1 of 2 rows match"));
    std::fs::write(s.path().join("clean.txt"), "one\ntwo\n").expect("clean");
    let printed = s.ok(&["decontam", "check", "clean.txt"]);
    assert!(printed.contains("2 rows, none matches"), "{printed}");
    let out = s.run(&["decontam", "check", "absent.parquet"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("absent.parquet"));
}

#[test]
fn a_pr_whose_changed_lines_are_a_gold_patch_is_dropped_in_any_repository() {
    let s = Scratch::new();
    s.ok(&["run", "--until", "format"]);
    let diff = s.query(
        "runs/demo",
        "select diff from patches where repo = 'acme/widgets' and pr_number = 10",
    );
    // The benchmark's copy of that fix: other paths, other context, other indentation.
    let vendored: String = text(&diff[0], "diff")
        .lines()
        .map(|l| match l.as_bytes().first() {
            Some(b'+') | Some(b'-') if !l.starts_with("+++") && !l.starts_with("---") => {
                format!("{}\t{}", &l[..1], l[1..].trim_start())
            }
            Some(b' ') => " unrelated context".to_string(),
            _ => l.replace("widgets", "vendored/widgets"),
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let mut lines = vec![serde_json::json!({
        "instance_id": "elsewhere__project-77",
        "problem_statement": "Words about another project that share nothing with the demo.",
        "patch": vendored,
    })];
    // Every other demo repository's PRs are benchmark fixes too: the widgets repositories'
    // other PRs must lose nothing to them.
    for row in s.query(
        "runs/demo",
        "select repo, pr_number, diff from patches where repo not like '%widgets' and pr_number is not null",
    ) {
        lines.push(serde_json::json!({
            "instance_id": format!("{}-{}", text(&row, "repo").replace('/', "__"), row["pr_number"]),
            "problem_statement": "x",
            "patch": text(&row, "diff"),
        }));
    }
    let file: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(s.path().join("gold.jsonl"), file).expect("gold");
    demo_with_decontam(&s, "gold.toml", "benchmark_files = [\"gold.jsonl\"]");
    s.ok(&["run", "--recipe", "gold.toml", "--until", "decontaminate"]);
    let dropped = s.query(
        "runs/demo",
        "select repo, pr_number, min(detail) as detail from drops where reason = 'benchmark_patch' \
         and repo like '%widgets' group by repo, pr_number order by repo",
    );
    let prs: Vec<(String, Option<i64>)> = dropped
        .iter()
        .map(|r| (text(r, "repo"), r["pr_number"].as_i64()))
        .collect();
    assert_eq!(
        prs,
        vec![
            ("acme/widgets".to_string(), Some(10)),
            ("forker/widgets".to_string(), Some(10)),
        ],
        "{dropped:?}"
    );
    assert!(
        text(&dropped[0], "detail").contains("elsewhere__project-77"),
        "{dropped:?}"
    );
    let content = s.query(
        "runs/demo",
        "select count(*) as n from drops where repo like '%widgets' and reason = 'benchmark_content'",
    );
    assert_eq!(content[0]["n"].as_i64(), Some(0), "no n-gram match either");
    let kept = s.query(
        "runs/demo",
        "select count(*) as n from decontaminated where repo = 'acme/widgets' and pr_number = 9",
    );
    assert!(kept[0]["n"].as_i64().unwrap_or(0) > 0);
}

#[test]
fn a_benchmark_files_repositories_are_benchmark_repositories() {
    let s = Scratch::new();
    // A live benchmark's dataset file: its instances name their repository.
    let instance = serde_json::json!({
        "instance_id": "acme__gizmo-999",
        "repo": "acme/gizmo",
        "problem_statement": "x",
        "patch": "",
    });
    std::fs::write(s.path().join("live.jsonl"), format!("{instance}\n")).expect("bench");
    demo_with_decontam(&s, "live.toml", "benchmark_files = [\"live.jsonl\"]");
    s.ok(&["run", "--recipe", "live.toml"]);
    let left = s.query(
        "runs/demo",
        "select count(*) as n from decontaminated where repo = 'acme/gizmo'",
    );
    assert_eq!(left[0]["n"].as_i64(), Some(0));
    let report = s.query(
        "runs/demo",
        "select reason, samples from decontam_report where repo = 'acme/gizmo'",
    );
    assert_eq!(text(&report[0], "reason"), "benchmark_repo", "{report:?}");
    let certificate = s.ok(&["decontam", "report", "--json"]);
    let certificate: serde_json::Value = serde_json::from_str(&certificate).expect("json");
    let counted = certificate["dropped"]["benchmark_files"]["benchmark_repo"].as_i64();
    assert_eq!(counted, report[0]["samples"].as_i64(), "{certificate}");
}
