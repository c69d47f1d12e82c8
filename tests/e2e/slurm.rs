//! The Slurm executor against a real single-node Slurm (`scripts/slurm-up.sh` starts it; `just
//! test` calls that script). Outside CI, a machine without Slurm skips with a message; in CI
//! (`CI` set) a missing Slurm is a failure.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{Scratch, assert_same_tables};

fn slurm_ready() -> bool {
    let up = Command::new("sinfo").args(["-h", "-o", "%T"]).output();
    match up {
        Ok(out) if out.status.success() => {
            let states = String::from_utf8_lossy(&out.stdout);
            states
                .lines()
                .any(|l| matches!(l.trim(), "idle" | "mixed" | "allocated"))
        }
        _ => false,
    }
}

fn require_slurm() -> bool {
    if slurm_ready() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "Slurm is not running; CI must start it with scripts/slurm-up.sh"
    );
    eprintln!("SKIPPED: no Slurm on this machine (start one with `sudo bash scripts/slurm-up.sh`)");
    false
}

/// Job ids a submission recorded in RUN/logs/slurm-jobs.json.
fn job_ids(s: &Scratch, run: &str) -> Vec<String> {
    let path = s.path().join(run).join("logs/slurm-jobs.json");
    let text = std::fs::read_to_string(path).expect("slurm-jobs.json");
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    value["jobs"]
        .as_array()
        .map(|jobs| {
            jobs.iter()
                .filter_map(|j| j["job_id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Wait until none of the jobs is pending or running.
fn wait_for(ids: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let out = Command::new("squeue")
            .args(["-h", "-o", "%i %T", "-j", &ids.join(",")])
            .output()
            .expect("squeue");
        let text = String::from_utf8_lossy(&out.stdout);
        let active = text.lines().any(|l| {
            l.contains("PENDING")
                || l.contains("RUNNING")
                || l.contains("CONFIGURING")
                || l.contains("COMPLETING")
        });
        if !active {
            return;
        }
        assert!(Instant::now() < deadline, "Slurm jobs still active: {text}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn slurm_run_matches_a_local_run_and_resubmits_failed_tasks() {
    if !require_slurm() {
        return;
    }
    let s = Scratch::new();
    s.ok(&["run", "--tasks", "1", "--run", "runs/local"]);

    // Every task fails after its first unit: the barrier is cancelled with them.
    let out = s
        .cmd(&[
            "run",
            "--executor",
            "slurm",
            "--tasks",
            "3",
            "--run",
            "runs/slurm",
        ])
        .env("SWE_CORPUS_FAULT", "extract:unit:1:error")
        .output()
        .expect("submit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let submitted = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(submitted.contains("tasks [0, 1, 2]"), "{submitted}");
    wait_for(&job_ids(&s, "runs/slurm"));
    let status = s.ok(&["status", "--run", "runs/slurm"]);
    assert!(status.contains("FAILED task"), "{status}");
    // The crawl (before extract) completed; extract and everything after it did not.
    for line in status.lines().filter(|l| !l.starts_with("crawl")) {
        assert!(!line.contains("complete"), "{status}");
    }

    assert!(
        status.contains("slurm jobs of the last submission"),
        "{status}"
    );
    assert!(status.contains("FAILED"), "{status}");

    // Resubmitting sends only the tasks with units left (3 of the 5 units are done).
    let again = s.ok(&[
        "run",
        "--executor",
        "slurm",
        "--tasks",
        "3",
        "--run",
        "runs/slurm",
    ]);
    let resubmitted = again
        .lines()
        .find(|l| l.contains("tasks ["))
        .map(|l| l.matches(',').count() + 1)
        .unwrap_or(0);
    assert!((1..3).contains(&resubmitted), "{again}");
    wait_for(&job_ids(&s, "runs/slurm"));
    let status = s.ok(&["status", "--run", "runs/slurm"]);
    for stage in [
        "crawl",
        "extract",
        "format",
        "ingest",
        "decontaminate",
        "curate",
        "tokenize",
        "mix",
        "shard",
    ] {
        let line = status
            .lines()
            .find(|l| l.starts_with(stage))
            .unwrap_or_default();
        assert!(line.contains("complete"), "{status}\nsubmitted:\n{again}");
    }
    assert_same_tables(&s.path().join("runs/local"), &s.path().join("runs/slurm"));
    assert!(
        s.path()
            .join("runs/slurm/logs/extract-finalize.out")
            .is_file()
    );

    // A current stage is not submitted again.
    let current = s.ok(&[
        "run",
        "--executor",
        "slurm",
        "--tasks",
        "3",
        "--run",
        "runs/slurm",
    ]);
    assert!(current.contains("current, not submitted"), "{current}");
}
