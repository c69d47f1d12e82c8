//! The token stages on the demo: exact ids against Python `tokenizers`, shards that match
//! their manifest and SQL, the plan, and the bad inputs of the tokenizer and the budget.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{Scratch, assert_same_tables, stderr};

const EOD: u64 = 151_643;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pinned Python of `just test` (scripts/python-env.sh); CI must have it.
fn python() -> Option<PathBuf> {
    let python = repo_root().join(".venv/bin/python");
    if python.is_file() {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI needs .venv (scripts/python-env.sh) for the parity tests"
    );
    eprintln!("skipped: no .venv (run scripts/python-env.sh)");
    None
}

fn tokenizer_file(name: &str) -> PathBuf {
    repo_root()
        .join(".tools/tokenizers")
        .join(name)
        .join("tokenizer.json")
}

fn number(v: &serde_json::Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn shards_match_their_manifest_sql_and_the_plan() {
    let s = Scratch::new();
    s.ok(&["run", "--run", "runs/demo"]);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path().join("runs/demo/tables/shards/_manifest.json"))
            .expect("manifest"),
    )
    .expect("json");
    let tokens = &manifest["tokens"];
    assert_eq!(tokens["tokenizer"], "qwen2.5");
    assert_eq!(
        tokens["tokenizer_sha256"],
        "9c5ae00e602b8860cbd784ba82a8aa14e8feecec692e7076590d014d7b7fdafa"
    );
    for row in s.query(
        "runs/demo",
        "select source, split, sum(n_tokens) as tokens from shards group by source, split",
    ) {
        let source = row["source"].as_str().expect("source");
        let split = row["split"].as_str().expect("split");
        assert_eq!(
            number(&row["tokens"]),
            number(&tokens["per_source"][source][split]),
            "{source} {split}"
        );
    }
    let files: Vec<String> = manifest["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| p["file"].as_str().expect("file").to_string())
        .collect();
    assert!(files.len() >= 3, "several shards: {files:?}");
    assert!(files.iter().any(|f| f.starts_with("shard-00000")));
    assert!(files.iter().any(|f| f.starts_with("validation-00000")));
    // Every document ends with exactly one EOD; counts agree with the ids.
    let bad = s.query(
        "runs/demo",
        "select count(*) as n from shards where n_tokens <> array_length(input_ids) \
         or input_ids[n_tokens] <> 151643 or prompt_tokens >= n_tokens \
         or (sample_kind <> 'external' \
             and (prompt_tokens > 0) <> (sample_kind like '%localization' or sample_kind like '%edit' \
                  or sample_kind like 'synthetic%'))",
    );
    assert_eq!(number(&bad[0]["n"]), 0);
    let eods = s.query(
        "runs/demo",
        &format!(
            "select count(*) as n from (select unnest(input_ids) as id from shards) where id = {EOD}"
        ),
    );
    let rows = s.query("runs/demo", "select count(*) as n from shards");
    assert_eq!(number(&eods[0]["n"]), number(&rows[0]["n"]));
    // The held-out repositories (by a hash of the name) are wholly in validation shards, and
    // only they: forker/widgets and acme/gizmo (whose only rows are synthetic).
    let splits = s.query(
        "runs/demo",
        "select distinct repo, split from shards order by repo",
    );
    for row in &splits {
        let validation = row["repo"] == "forker/widgets" || row["repo"] == "acme/gizmo";
        assert_eq!(row["split"] == "validation", validation, "{splits:?}");
    }
    // Repeats follow the plan: agentless twice, packs 1 or 2, commits once; validation once.
    let repeats = s.query(
        "runs/demo",
        "select source, split, min(c) as lo, max(c) as hi from \
         (select source, split, sample_id, count(*) as c from shards group by source, split, sample_id) \
         group by source, split order by source, split",
    );
    for row in &repeats {
        let (lo, hi) = (number(&row["lo"]), number(&row["hi"]));
        let expected = match (row["source"].as_str(), row["split"].as_str()) {
            (_, Some("validation")) => (1, 1),
            (Some("agentless"), _) => (2, 2),
            (Some("commit_packs"), _) => (1, 2),
            _ => (1, 1),
        };
        assert!(lo >= expected.0 && hi <= expected.1, "{row}");
    }
    let verify = s.ok(&["verify", "--run", "runs/demo"]);
    assert!(verify.contains("0 problem(s)"), "{verify}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path().join("runs/demo/report.json")).expect("report"),
    )
    .expect("json");
    assert_eq!(report["tokens"]["total"], tokens["total"]);
    let tokenize = report["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["stage"] == "tokenize")
        .expect("tokenize in the report");
    let curated = s.query("runs/demo", "select count(*) as n from curated");
    assert_eq!(
        number(&tokenize["rows_in"]["curated"]),
        number(&curated[0]["n"])
    );
    assert!(number(&tokenize["rows_out"]["tokenized"]) > 0);

    let plan = s.ok(&["plan", "--run", "runs/demo"]);
    assert!(
        plan.contains("agentless") && plan.contains("2.00"),
        "{plan}"
    );
    let big = repo_root().join("pipelines/kimi-dev-150b.toml");
    let plan = s.ok(&[
        "plan",
        "--recipe",
        &big.display().to_string(),
        "--run",
        "runs/demo",
    ]);
    for expected in [
        "shortfall",
        "synthetic_agentic",
        "synthetic_reasoning",
        "150.00B",
    ] {
        assert!(plan.contains(expected), "{expected}: {plan}");
    }

    // The projection: the demo's measured rates scaled to the 150B recipe.
    let big = big.display().to_string();
    let project = ["plan", "--project", "--recipe", &big, "--run", "runs/demo"];
    let text = s.ok(&project);
    for expected in [
        "tokens/PR",
        "needed:",
        "core-hours",
        "after crawl",
        "disk:",
        "GitHub API",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&s.ok(&[&project[..], &["--json"]].concat())).expect("json");
    let agentless = json["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .find(|s| s["source"] == "agentless")
        .expect("agentless");
    // 50B at 4 repeats: 12.5B distinct agentless tokens, at the demo's rate per PR.
    let per_pr = agentless["tokens_per_pr"].as_f64().expect("rate");
    assert!(per_pr > 0.0, "{agentless}");
    let needed = number(&agentless["prs_needed"]);
    assert!(
        (needed as f64 - 12.5e9 / per_pr).abs() <= 1.0,
        "{needed} PRs for {per_pr} tokens each"
    );
    assert!(number(&json["prs_needed"]) >= needed);
    let measured_prs = number(&json["measured"]["prs"]);
    let patches = s.query(
        "runs/demo",
        "select count(*) as n from patches where kind <> 'commit' \
         and repo in (select distinct repo from tokenized)",
    );
    assert_eq!(measured_prs, number(&patches[0]["n"]));
    assert!(json["core_hours"].as_f64().expect("hours") > 0.0);
    assert!(number(&json["disk_at_peak"]) > number(&json["disk_at_rest"]));
    // A rate that is no rate is refused before anything is read.
    let bad = s.run(&[&project[..], &["--prs-per-repo", "0"]].concat());
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--prs-per-repo 0"),
        "{bad:?}"
    );
}

#[test]
fn ids_equal_python_tokenizers_on_the_demo_and_adversarial_text() {
    let Some(python) = python() else {
        return;
    };
    let s = Scratch::new();
    s.ok(&["run", "--run", "runs/demo", "--until", "tokenize"]);
    let script = repo_root().join("scripts/token_parity.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg("run")
        .arg(s.path().join("runs/demo"))
        .arg(tokenizer_file("qwen2.5"))
        .output()
        .expect("python");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(text.contains("0 mismatch(es)"), "{text}");

    let texts = adversarial_texts();
    let jsonl = s.path().join("adversarial.jsonl");
    let lines: Vec<String> = texts
        .iter()
        .map(|(p, r)| serde_json::json!({"prompt": p, "response": r}).to_string())
        .collect();
    std::fs::write(&jsonl, lines.join("\n") + "\n").expect("write");
    for name in ["qwen2.5", "qwen3"] {
        let ours = s.ok(&["tokens", "--tokenizer", name, &jsonl.display().to_string()]);
        let theirs = Command::new(&python)
            .arg(&script)
            .arg("jsonl")
            .arg(&jsonl)
            .arg(tokenizer_file(name))
            .output()
            .expect("python");
        assert!(theirs.status.success(), "{}", stderr(&theirs));
        let theirs = String::from_utf8_lossy(&theirs.stdout);
        assert_eq!(ours.lines().count(), texts.len());
        for (i, (a, b)) in ours.lines().zip(theirs.lines()).enumerate() {
            let a: serde_json::Value = serde_json::from_str(a).expect("ours");
            let b: serde_json::Value = serde_json::from_str(b).expect("theirs");
            assert_eq!(a, b, "{name}: text {i} {:?}", texts[i]);
        }
    }
}

/// Text that breaks encoders: non-ASCII letters and digits, long whitespace, CR/LF runs, text
/// that NFC changes, emoji, added tokens inside words.
fn adversarial_texts() -> Vec<(String, String)> {
    let mut out = vec![
        ("".to_string(), "".to_string()),
        (String::new(), "x".repeat(5000)),
        (
            "def f():\r\n\r\n\r\n\treturn 1\r\n".into(),
            "  \n\n\n   \t\t \r\r\n".into(),
        ),
        (
            "Ünïcödé ßtraße 東京 ١٢٣ ४५६ ①②③ Ⅻ".into(),
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛".into(),
        ),
        // e + combining acute (NFC folds it), Hangul jamo, Angstrom sign, ligature.
        (
            "cafe\u{301} \u{1100}\u{1161}\u{11a8} \u{212b} \u{fb01}".into(),
            "e\u{301}\u{301}".into(),
        ),
        ("emoji 👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🤖".into(), "🙂🙂🙂\u{fe0f}".into()),
        (" ".repeat(300), "\n".repeat(100) + &"\t".repeat(50)),
        (
            "x<|endoftext|>y<|im_start|>z".into(),
            "<think>a</think><tool_call>".into(),
        ),
        (
            "'s 't 're 've 'm 'll 'd 'S 'LL".into(),
            "don't I'M we'Re".into(),
        ),
        (
            "1234567890 3.14159 0xDEADBEEF 1e-9".into(),
            "١٢٣٤٥ ௧௨௩".into(),
        ),
        (
            "\u{a0}\u{2003}\u{3000}nbsp".into(),
            "\u{feff}bom\u{200b}zw".into(),
        ),
    ];
    let code = "    for (i, x) in enumerate(xs):  # ñ\n        yield i * x\n";
    out.push((code.repeat(40), "@@ -1,3 +1,4 @@\n-a\n+b\n".repeat(30)));
    out
}

#[test]
fn the_readme_loader_example_reads_the_shards() {
    let Some(python) = python() else {
        return;
    };
    let s = Scratch::new();
    s.ok(&["run", "--run", "runs/demo"]);
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("readme");
    let example = readme
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a python block in the README");
    let out = Command::new(&python)
        .arg("-c")
        .arg(example)
        .current_dir(s.path())
        .env("SHARDS", s.path().join("runs/demo/tables/shards"))
        .output()
        .expect("python");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("documents"), "{text}");
}

fn write_recipe(s: &Scratch, name: &str, extra: &str) -> String {
    let path = s.path().join(format!("{name}.toml"));
    let demo = std::fs::read_to_string(repo_root().join("pipelines/demo.toml")).expect("demo");
    let text = demo.replacen("name = \"demo\"", &format!("name = \"{name}\""), 1);
    std::fs::write(&path, format!("{text}\n{extra}")).expect("write recipe");
    path.display().to_string()
}

#[test]
fn a_missing_tokenizer_is_a_clear_error_and_keeps_the_curated_tables() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.path().join("empty")).expect("mkdir");
    let recipe = write_recipe(&s, "notok", "");
    let recipe_text = std::fs::read_to_string(&recipe).expect("read").replace(
        "tokenizer = \"qwen2.5\"",
        "tokenizer = \"qwen2.5\"\ntokenizer_dir = \"empty\"",
    );
    std::fs::write(&recipe, recipe_text).expect("write");
    let out = s.run(&["run", "--recipe", &recipe, "--run", "runs/r"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("tokenizer `qwen2.5` not found") && err.contains("just setup"),
        "{err}"
    );
    assert!(
        s.path()
            .join("runs/r/tables/curated/_manifest.json")
            .is_file()
    );
    assert!(
        !s.path()
            .join("runs/r/tables/tokenized/_manifest.json")
            .exists()
    );
    let out = s.run(&[
        "tokens",
        "--tokenizer",
        "/nonexistent/tokenizer.json",
        &recipe,
    ]);
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
}

#[test]
fn another_tokenizer_on_a_tokenized_run_is_refused() {
    let s = Scratch::new();
    s.ok(&["run", "--run", "runs/r", "--until", "tokenize"]);
    let manifest = s.path().join("runs/r/tables/tokenized/_manifest.json");
    let before = std::fs::read(&manifest).expect("manifest");
    let recipe = write_recipe(&s, "demo", "").to_string();
    let text = std::fs::read_to_string(&recipe)
        .expect("read")
        .replace("tokenizer = \"qwen2.5\"", "tokenizer = \"qwen3\"");
    std::fs::write(&recipe, text).expect("write");
    let out = s.run(&["run", "--recipe", &recipe, "--run", "runs/r"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("qwen2.5:9c5ae00e")
            && err.contains("qwen3:aeb13307")
            && err.contains("must not mix"),
        "{err}"
    );
    assert_eq!(std::fs::read(&manifest).expect("manifest"), before);
}

#[test]
fn a_budget_the_data_cannot_meet_stops_the_run_unless_allowed() {
    let s = Scratch::new();
    // An ingested source the run has no rows of.
    let greedy =
        "[[mix.sources]]\nname = \"external_code\"\nstage = \"ingest\"\ntokens = 1000000\n";
    let recipe = write_recipe(&s, "greedy", greedy);
    let out = s.run(&["run", "--recipe", &recipe, "--run", "runs/g"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    for expected in ["allow_shortfall", "external_code", "shortfall"] {
        assert!(err.contains(expected), "{expected}: {err}");
    }
    assert!(
        s.path()
            .join("runs/g/tables/tokenized/_manifest.json")
            .is_file()
    );
    assert!(
        !s.path()
            .join("runs/g/tables/mixture/_manifest.json")
            .exists()
    );
    let allowed = write_recipe(&s, "allowed", greedy);
    let text = std::fs::read_to_string(&allowed).expect("read").replace(
        "max_repeat = 4.0",
        "max_repeat = 4.0\nallow_shortfall = true",
    );
    std::fs::write(&allowed, text).expect("write");
    s.ok(&["run", "--recipe", &allowed, "--run", "runs/a"]);
    assert!(
        s.path()
            .join("runs/a/tables/shards/_manifest.json")
            .is_file()
    );
}

#[test]
fn a_disk_that_fills_while_writing_a_shard_leaves_nothing_that_looks_complete() {
    let s = Scratch::new();
    s.ok(&["run", "--run", "runs/clean"]);
    let out = s
        .cmd(&["run", "--run", "runs/full"])
        .env("SWE_CORPUS_FAULT", "shard:write:2:enospc")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("No space left on device"), "{err}");
    let shards = s.path().join("runs/full/tables/shards");
    assert!(!shards.join("_manifest.json").exists());
    let finished: Vec<_> = std::fs::read_dir(&shards)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        finished
            .iter()
            .all(|n| !n.to_string_lossy().ends_with(".parquet")),
        "{finished:?}"
    );
    let status = s.ok(&["status", "--run", "runs/full"]);
    let line = status
        .lines()
        .find(|l| l.starts_with("shard"))
        .unwrap_or_default();
    assert!(!line.contains("complete"), "{status}");
    // Space back: the same command finishes with the bytes of an uninterrupted run.
    s.ok(&["run", "--run", "runs/full"]);
    assert_same_tables(&s.path().join("runs/clean"), &s.path().join("runs/full"));
    let verify = s.ok(&["verify", "--run", "runs/full"]);
    assert!(verify.contains("0 problem(s)"), "{verify}");
}
