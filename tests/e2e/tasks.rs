//! Tasks, resumption and crash safety: the bytes do not depend on how the work was split or
//! interrupted.

use std::time::Duration;

use crate::common::{Scratch, assert_same_tables, stderr};

#[test]
fn tables_are_byte_identical_for_1_4_and_16_tasks() {
    let s = Scratch::new();
    for n in ["1", "4", "16"] {
        s.ok(&["run", "--tasks", n, "--run", &format!("runs/t{n}")]);
    }
    assert_same_tables(&s.path().join("runs/t1"), &s.path().join("runs/t4"));
    assert_same_tables(&s.path().join("runs/t1"), &s.path().join("runs/t16"));
    assert_pinned_digests(&s.path().join("runs/t1"));
}

/// The demo's tables and exports, file by file, as pinned in `demo_digests.txt`: a change
/// meant to leave every output as it was (a restructuring) shows here if it does not.
/// Left out: manifests and cards (they name the tool's commit), and the two parts that hold
/// the scratch folder's path (`repos.path` of extracted repositories; ingest drops name the
/// external file). After a change that is meant to alter outputs,
/// `SWE_CORPUS_BLESS_DIGESTS=1 cargo test --test e2e tables_are_byte_identical` rewrites the
/// file, and its diff shows what changed.
fn assert_pinned_digests(run: &std::path::Path) {
    let pinned_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/demo_digests.txt");
    let current: String = crate::common::table_files(run)
        .iter()
        .filter(|(name, _)| {
            let file = name.rsplit('/').next().unwrap_or(name);
            let located = matches!(
                name.as_str(),
                "repos/extract-part-00000.parquet" | "drops/ingest-part-00000.parquet"
            );
            !located && !matches!(file, "_manifest.json" | "_export.json" | "README.md")
        })
        .map(|(name, bytes)| format!("{} {name}\n", corpus_core::hash::hex64(bytes)))
        .collect();
    if std::env::var_os("SWE_CORPUS_BLESS_DIGESTS").is_some() {
        std::fs::write(&pinned_path, &current).expect("write digests");
        return;
    }
    let pinned = std::fs::read_to_string(&pinned_path).unwrap_or_default();
    let differ: Vec<&str> = current
        .lines()
        .filter(|line| !pinned.lines().any(|p| p == *line))
        .chain(
            pinned
                .lines()
                .filter(|line| !current.lines().any(|c| c == *line)),
        )
        .collect();
    assert!(
        differ.is_empty(),
        "the demo's outputs differ from tests/e2e/demo_digests.txt ({} lines); if the change \
         is meant to alter them, rerun with SWE_CORPUS_BLESS_DIGESTS=1:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

#[test]
fn separate_tasks_then_finalize_equal_a_local_run() {
    let s = Scratch::new();
    s.ok(&["run", "--tasks", "1", "--run", "runs/local"]);
    for stage in [
        "crawl",
        "extract",
        "format",
        "synthesize",
        "ingest",
        "decontaminate",
        "curate",
        "tokenize",
        "mix",
        "shard",
        "export",
    ] {
        for task in ["0", "1", "2"] {
            s.ok(&[
                "run",
                "--only",
                stage,
                "--task",
                task,
                "--tasks",
                "3",
                "--run",
                "runs/split",
            ]);
        }
        let status = s.ok(&["status", "--run", "runs/split"]);
        let line = status
            .lines()
            .find(|l| l.starts_with(stage))
            .unwrap_or_default();
        assert!(
            line.contains("partial") && line.contains("3/0/0 of 3"),
            "{status}"
        );
        s.ok(&["run", "--only", stage, "--finalize", "--run", "runs/split"]);
    }
    assert_same_tables(&s.path().join("runs/local"), &s.path().join("runs/split"));
    let status = s.ok(&["status", "--run", "runs/split"]);
    assert!(status.contains("complete"), "{status}");
}

#[test]
fn finalize_refuses_when_tasks_are_missing() {
    let s = Scratch::new();
    s.ok(&[
        "run", "--only", "extract", "--task", "0", "--tasks", "4", "--run", "runs/x",
    ]);
    let out = s.run(&["run", "--only", "extract", "--finalize", "--run", "runs/x"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("units are not done"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn injected_crashes_resume_to_the_same_bytes() {
    let s = Scratch::new();
    s.ok(&["run", "--tasks", "1", "--run", "runs/clean"]);
    for fault in [
        "extract:unit:2",
        "extract:part:1",
        "extract:part:4",
        "extract:manifest:2",
        "tokenize:unit:2",
        "mix:part:1",
        "shard:unit:3",
        "shard:manifest:1",
        "export:unit:4",
        "export:outputs:1",
    ] {
        let run = format!("runs/{}", fault.replace(':', "-"));
        let crashed = s
            .cmd(&["run", "--tasks", "2", "--run", &run])
            .env("SWE_CORPUS_FAULT", fault)
            .output()
            .expect("run");
        assert!(!crashed.status.success(), "{fault} should abort");
        s.ok(&["run", "--tasks", "2", "--run", &run]);
        assert_same_tables(&s.path().join("runs/clean"), &s.path().join(&run));
        let verify = s.ok(&["verify", "--run", &run]);
        assert!(verify.contains("0 problem(s)"), "{verify}");
    }
}

#[test]
fn kill_9_at_several_moments_then_resume() {
    let s = Scratch::new();
    s.ok(&["run", "--tasks", "1", "--run", "runs/clean"]);
    for (i, delay_ms) in [5u64, 30, 80, 150, 1500, 3000].iter().enumerate() {
        let run = format!("runs/killed{i}");
        let mut child = s
            .cmd(&["run", "--tasks", "3", "--run", &run])
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(*delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        s.ok(&["run", "--tasks", "3", "--run", &run]);
        assert_same_tables(&s.path().join("runs/clean"), &s.path().join(&run));
    }
}

#[test]
fn a_current_stage_is_skipped_and_a_changed_recipe_reruns_it() {
    let s = Scratch::new();
    s.ok(&["run", "--run", "runs/r"]);
    let again = s.ok(&["run", "--run", "runs/r"]);
    assert!(again.contains("current"), "{again}");
    let forced = s.ok(&["run", "--run", "runs/r", "--only", "extract"]);
    assert!(forced.contains(" ran "), "{forced}");
    let recipe = s.path().join("small-files.toml");
    std::fs::write(
        &recipe,
        "name = \"demo\"\n[inputs]\ndemo = true\n[extract]\nmax_file_bytes = 1000\n",
    )
    .expect("write recipe");
    let changed = s.ok(&["run", "--recipe", "small-files.toml", "--run", "runs/r"]);
    assert!(changed.contains(" ran "), "{changed}");
    assert!(changed.contains("file_too_large"), "{changed}");
}
