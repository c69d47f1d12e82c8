//! Stage `curate` on the demo: the planted secret never reaches `curated` (nor a log), and the
//! fork's copies of upstream PRs collapse onto the upstream PRs.

use crate::common::{Scratch, stderr, table_files, text};

#[test]
fn planted_secret_never_reaches_curated_or_logs() {
    let s = Scratch::new();
    let out = s
        .cmd(&["run"])
        .env("SWE_CORPUS_LOG", "debug")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    for secret in [
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ] {
        assert!(!stderr(&out).contains(secret), "a secret reached the log");
        let left = s.query(
            "runs/demo",
            &format!("select count(*) as n from curated where strpos(text, '{secret}') > 0"),
        );
        assert_eq!(left[0]["n"].as_i64(), Some(0), "{secret}");
        let described = s.query(
            "runs/demo",
            &format!(
                "select count(*) as n from drops where strpos(coalesce(detail, ''), '{secret}') > 0"
            ),
        );
        assert_eq!(
            described[0]["n"].as_i64(),
            Some(0),
            "drops never quote a secret"
        );
    }
    let dropped = s.query(
        "runs/demo",
        "select distinct pr_number from drops where stage = 'curate' and reason = 'secret_in_patch' and repo = 'acme/widgets'",
    );
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0]["pr_number"].as_i64(), Some(11));
}

#[test]
fn fork_duplicates_collapse_onto_upstream() {
    let s = Scratch::new();
    s.ok(&["run"]);
    let fork_prs = s.query(
        "runs/demo",
        "select distinct pr_number from curated where repo = 'forker/widgets' and pr_number is not null",
    );
    let numbers: Vec<i64> = fork_prs
        .iter()
        .filter_map(|r| r["pr_number"].as_i64())
        .collect();
    assert_eq!(numbers, vec![101], "only the fork's own PR survives");
    let dups = s.query(
        "runs/demo",
        "select detail from drops where stage = 'curate' and reason = 'duplicate_pr'",
    );
    assert!(!dups.is_empty());
    assert!(
        dups.iter()
            .all(|d| text(d, "detail").contains("duplicate of acme/widgets#"))
    );
    // After the fork, both sides added the same helper; the fork's copy is a near duplicate.
    let near = s.query(
        "runs/demo",
        "select distinct repo, pr_number, detail from drops where stage = 'curate' and reason = 'near_duplicate_pr'",
    );
    assert!(!near.is_empty());
    assert!(
        near.iter()
            .all(|d| text(d, "repo") == "forker/widgets" && d["pr_number"].as_i64() == Some(102))
    );
    assert!(
        near.iter()
            .all(|d| text(d, "detail").contains("near duplicate of acme/widgets#15"))
    );
    let upstream = s.query(
        "runs/demo",
        "select count(*) as n from curated where repo = 'acme/widgets' and pr_number = 5",
    );
    assert!(
        upstream[0]["n"].as_i64().unwrap_or(0) > 0,
        "the survivor keeps its samples"
    );
}

#[test]
fn a_licence_allow_list_keeps_only_listed_licences() {
    let s = Scratch::new();
    std::fs::write(
        s.path().join("apache.toml"),
        "name = \"apache\"\n[inputs]\ndemo = true\n[curate]\nlicenses = [\"Apache-2.0\"]\n",
    )
    .expect("recipe");
    s.ok(&["run", "--recipe", "apache.toml"]);
    let licenses = s.query(
        "runs/apache",
        "select distinct repo, license from patches where repo = 'acme/widgets'",
    );
    assert_eq!(
        text(&licenses[0], "license"),
        "MIT",
        "detected from the LICENSE file at base"
    );
    let left = s.query(
        "runs/apache",
        "select count(*) as n from curated where repo like '%widgets'",
    );
    assert_eq!(left[0]["n"].as_i64(), Some(0));
    let dropped = s.query(
        "runs/apache",
        "select count(*) as n from drops where stage = 'curate' and reason = 'license_not_allowed'",
    );
    assert!(dropped[0]["n"].as_i64().unwrap_or(0) > 0);
    // With MIT allowed, the same run keeps them.
    std::fs::write(
        s.path().join("mit.toml"),
        "name = \"mit\"\n[inputs]\ndemo = true\n[curate]\nlicenses = [\"MIT\"]\n",
    )
    .expect("recipe");
    s.ok(&["run", "--recipe", "mit.toml"]);
    let kept = s.query(
        "runs/mit",
        "select count(*) as n from curated where repo = 'acme/widgets'",
    );
    assert!(kept[0]["n"].as_i64().unwrap_or(0) > 0);
}

#[test]
fn a_repository_without_a_licence_file_is_counted_not_crashed() {
    let s = Scratch::new();
    crate::bad_input::good_repo(&s.path().join("repos/acme+nolicence"));
    std::fs::write(
        s.path().join("r.toml"),
        "name = \"r\"\n[inputs]\nrepo_dirs = [\"repos\"]\n[curate]\nlicenses = [\"MIT\"]\n",
    )
    .expect("recipe");
    s.ok(&["run", "--recipe", "r.toml"]);
    let dropped = s.query(
        "runs/r",
        "select count(*) as n from drops where stage = 'curate' and reason = 'no_license'",
    );
    assert!(dropped[0]["n"].as_i64().unwrap_or(0) > 0);
    let left = s.query("runs/r", "select count(*) as n from curated");
    assert_eq!(left[0]["n"].as_i64(), Some(0));
}

#[test]
fn a_tiny_dedup_budget_spills_and_curates_the_same_bytes() {
    let s = Scratch::new();
    std::fs::write(
        s.path().join("roomy.toml"),
        "name = \"roomy\"\n[inputs]\ndemo = true\n",
    )
    .expect("recipe");
    s.ok(&["run", "--recipe", "roomy.toml", "--until", "curate"]);
    std::fs::write(
        s.path().join("tiny.toml"),
        "name = \"tiny\"\n[inputs]\ndemo = true\n[curate]\ndedup_memory_mib = 0.004\n",
    )
    .expect("recipe");
    let out = s
        .cmd(&["run", "--recipe", "tiny.toml", "--until", "curate"])
        .env("SWE_CORPUS_LOG", "info")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let log = std::fs::read_dir(s.path().join("runs/tiny/logs"))
        .expect("logs")
        .filter_map(|e| std::fs::read_to_string(e.expect("entry").path()).ok())
        .collect::<String>();
    let spilled = log
        .lines()
        .find(|l| l.contains("dedup barrier:"))
        .expect("the barrier logs what it did");
    assert!(!spilled.contains(" 0 runs spilled"), "{spilled}");
    let (a, b) = (
        table_files(&s.path().join("runs/roomy")),
        table_files(&s.path().join("runs/tiny")),
    );
    for table in ["curated/", "drops/curate-"] {
        let parts: Vec<&String> = a.keys().filter(|k| k.starts_with(table)).collect();
        assert!(!parts.is_empty(), "{table}");
        for part in parts.into_iter().filter(|p| p.ends_with(".parquet")) {
            assert!(a[part] == b[part], "{part} differs with a tiny budget");
        }
    }
}
