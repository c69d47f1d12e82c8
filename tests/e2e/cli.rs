//! Recipes, SQL formats, verify, status and the schema-version guard.

use crate::common::{Scratch, stderr};

#[test]
fn recipe_check_lists_every_error() {
    let s = Scratch::new();
    std::fs::write(
        s.path().join("bad.toml"),
        "name = \"x\"\ncolour = 3\n[extract]\nmax_file_bytes = \"big\"\nmax_diff_bytez = 1\n",
    )
    .expect("write");
    let out = s.run(&["recipe", "check", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("unknown key `colour`"), "{err}");
    assert!(err.contains("[extract]"), "{err}");
    // A bad recipe touches nothing, and is a configuration error (exit code 2) however
    // deeply the runner wraps it; so is an unknown stage.
    let run = s.run(&["run", "--recipe", "bad.toml"]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(!s.path().join("runs").exists());
    let run = s.run(&["run", "--only", "nonsense"]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("unknown stage `nonsense`"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn recipe_show_prints_the_effective_recipe() {
    let s = Scratch::new();
    let shown = s.ok(&["recipe", "show"]);
    assert!(shown.contains("name = \"demo\""));
    assert!(
        shown.contains("max_file_bytes"),
        "defaults are filled in:\n{shown}"
    );
    std::fs::write(s.path().join("shown.toml"), &shown).expect("write");
    let checked = s.ok(&["recipe", "check", "shown.toml"]);
    assert!(checked.contains("ok"));
}

#[test]
fn sql_formats_and_errors() {
    let s = Scratch::new();
    s.ok(&["run"]);
    let csv = s.ok(&[
        "sql",
        "--format",
        "csv",
        "select kind, count(*) as n from patches group by kind order by kind",
    ]);
    assert!(csv.starts_with("kind,n\n"), "{csv}");
    assert!(csv.contains("merge_pr,"));
    let json = s.ok(&["sql", "--format", "json", "select count(*) as n from drops"]);
    assert!(json.contains("\"n\":"), "{json}");
    let bad = s.run(&["sql", "select nope from patches"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("nope"), "{}", stderr(&bad));
    let no_run = s.run(&["sql", "--run", "missing", "select 1"]);
    assert!(stderr(&no_run).contains("missing"), "{}", stderr(&no_run));
}

#[test]
fn verify_catches_a_damaged_part() {
    let s = Scratch::new();
    s.ok(&["run"]);
    assert!(s.ok(&["verify"]).contains("0 problem(s)"));
    let part = s.path().join("runs/demo/tables/patches/part-00000.parquet");
    let mut bytes = std::fs::read(&part).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&part, bytes).expect("write");
    let out = s.run(&["verify"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("patches/part-00000.parquet: checksum"),
        "{text}"
    );
}

#[test]
fn another_schema_version_is_refused() {
    let s = Scratch::new();
    s.ok(&["run"]);
    let manifest = s.path().join("runs/demo/tables/patches/_manifest.json");
    let text = std::fs::read_to_string(&manifest).expect("read");
    let current = corpus_core::schema::SCHEMA_VERSION;
    let old = text.replace(
        &format!("\"schema_version\": {current}"),
        "\"schema_version\": 1",
    );
    std::fs::write(&manifest, old).expect("write");
    let out = s.run(&["run"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("schema version 1"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn version_names_the_commit() {
    let s = Scratch::new();
    let out = s.ok(&["--version"]);
    assert!(out.starts_with("swe-corpus 0."), "{out}");
    assert!(out.contains('('), "{out}");
}

#[test]
fn unknown_stage_names_are_refused() {
    let s = Scratch::new();
    let out = s.run(&["run", "--until", "nonsense"]);
    assert!(
        stderr(&out).contains("unknown stage `nonsense`"),
        "{}",
        stderr(&out)
    );
    // Every stage of the contract is built: `crawl` runs alone (the demo's offline replay).
    let out = s.ok(&["crawl"]);
    assert!(out.contains("crawl"), "{out}");
}

#[test]
fn every_sql_example_in_the_readme_runs() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let queries: Vec<String> = readme
        .lines()
        .filter_map(|l| l.trim().strip_prefix("swe-corpus sql \""))
        .filter_map(|l| l.strip_suffix('"'))
        .map(str::to_string)
        .collect();
    assert!(queries.len() >= 8, "{queries:?}");
    let s = Scratch::new();
    s.ok(&["run"]);
    for query in queries {
        let out = s.run(&["sql", &query]);
        assert!(out.status.success(), "{query}: {}", stderr(&out));
    }
}

#[test]
fn a_local_run_writes_its_log_file() {
    let s = Scratch::new();
    s.ok(&["run", "--run", "runs/demo", "--until", "extract"]);
    let logs: Vec<std::path::PathBuf> = std::fs::read_dir(s.path().join("runs/demo/logs"))
        .expect("logs")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("local-"))
        })
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let text = std::fs::read_to_string(&logs[0]).expect("log");
    assert!(
        text.contains("rows out") && text.contains("extract"),
        "{text}"
    );
}
