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

pub(crate) fn require_slurm() -> bool {
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

/// Job ids recorded in RUN/logs/slurm-jobs.json (a step job adds the jobs it submits).
fn job_ids(s: &Scratch, run: &str) -> Vec<String> {
    jobs(s, run)
        .iter()
        .filter_map(|j| j["job_id"].as_str().map(str::to_string))
        .collect()
}

fn jobs(s: &Scratch, run: &str) -> Vec<serde_json::Value> {
    let path = s.path().join(run).join("logs/slurm-jobs.json");
    let text = std::fs::read_to_string(path).expect("slurm-jobs.json");
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    value["jobs"].as_array().cloned().unwrap_or_default()
}

/// The run's log files whose names start with `prefix`, concatenated (sorted by name).
fn logs_of(s: &Scratch, run: &str, prefix: &str) -> String {
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(s.path().join(run).join("logs"))
        .map(|dir| dir.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    names.retain(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".out"))
    });
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect()
}

/// Wait until none of the run's jobs is pending or running, including those that step jobs
/// submitted meanwhile.
fn wait_for_run(s: &Scratch, run: &str) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let ids = job_ids(s, run);
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
        // A step job records what it submitted before it ends: no new ids, nothing active.
        if !active && job_ids(s, run) == ids {
            return;
        }
        assert!(Instant::now() < deadline, "Slurm jobs still active: {text}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `swe-corpus run --executor slurm` of `recipe` into runs/slurm.
fn submit(s: &Scratch, recipe: &str, tasks: &str) -> Command {
    s.cmd(&[
        "run",
        "--recipe",
        recipe,
        "--executor",
        "slurm",
        "--tasks",
        tasks,
        "--run",
        "runs/slurm",
    ])
}

/// The standard output of a command that must succeed.
fn stdout_of(mut command: Command) -> String {
    let out = command.output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The demo recipe with a `[slurm]` section.
pub(crate) fn recipe_with_slurm(s: &Scratch, name: &str, slurm: &str) -> String {
    let path = s.path().join(name);
    std::fs::write(
        &path,
        format!("{}\n[slurm]\n{slurm}\n", corpus_core::recipe::DEMO_RECIPE),
    )
    .expect("write recipe");
    path.to_string_lossy().into_owned()
}

/// Every stage but `export` (the demo recipe's run writes exports; status lists the stage as
/// current only through its exports) is complete.
pub(crate) fn assert_all_complete(status: &str, context: &str) {
    for stage in corpus_runner::stages::STAGE_ORDER
        .iter()
        .filter(|s| **s != "export")
    {
        let line = status
            .lines()
            .find(|l| l.starts_with(stage))
            .unwrap_or_default();
        assert!(line.contains("complete"), "{status}\n{context}");
    }
}

#[test]
fn slurm_run_matches_a_local_run_and_resubmits_failed_tasks() {
    if !require_slurm() {
        return;
    }
    let s = Scratch::new();
    // No retries: a failed stage stops the run until it is submitted again by hand.
    let recipe = recipe_with_slurm(&s, "no-retries.toml", "max_retries = 0");
    // The recipe's hash is in the shards' manifest and the export cards: the same recipe.
    s.ok(&[
        "run",
        "--recipe",
        &recipe,
        "--tasks",
        "1",
        "--run",
        "runs/local",
    ]);

    // Every task fails after its first unit, with no attempt left: Slurm cancels the step
    // (afterok, --kill-on-invalid-dep), so the run stops at extract.
    let mut failing = submit(&s, &recipe, "3");
    failing.env("SWE_CORPUS_FAULT", "extract:unit:1:error");
    let submitted = stdout_of(failing);
    // The first stage is submitted now; each step job submits the next.
    assert!(submitted.contains("crawl"), "{submitted}");
    assert!(submitted.contains("step"), "{submitted}");
    wait_for_run(&s, "runs/slurm");
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
    let step = status
        .lines()
        .find(|l| l.trim_start().starts_with("extract step job"))
        .unwrap_or_default();
    assert!(step.contains("CANCELLED"), "{status}");
    let task_logs = logs_of(&s, "runs/slurm", "extract-");
    assert!(task_logs.contains("attempt 1 of 1"), "{task_logs}");

    // Resubmitting sends only the tasks with units left (3 of the 5 units are done).
    let again = stdout_of(submit(&s, &recipe, "3"));
    let resubmitted = again
        .lines()
        .find(|l| l.contains("tasks ["))
        .map(|l| l.matches(',').count() + 1)
        .unwrap_or(0);
    assert!((1..3).contains(&resubmitted), "{again}");
    wait_for_run(&s, "runs/slurm");
    let status = s.ok(&["status", "--run", "runs/slurm"]);
    assert_all_complete(&status, &again);
    assert_same_tables(&s.path().join("runs/local"), &s.path().join("runs/slurm"));

    // A current stage is not submitted again.
    let current = stdout_of(submit(&s, &recipe, "3"));
    assert!(current.contains("current, not submitted"), "{current}");
}

/// More tasks than the cluster's `MaxArraySize` (5, set by scripts/slurm-up.sh) and a task
/// that fails once: the stages go in several array jobs, the failed task runs again in its
/// job, and the tables are those of a local run.
#[test]
fn slurm_splits_arrays_over_the_limit_and_retries_a_failed_task() {
    if !require_slurm() {
        return;
    }
    let s = Scratch::new();
    s.ok(&["run", "--tasks", "1", "--run", "runs/local"]);
    let recipe = recipe_with_slurm(&s, "retries.toml", "max_retries = 2");
    let marker = s.path().join("fault-fired");
    let mut failing_once = submit(&s, &recipe, "12");
    failing_once
        .env("SWE_CORPUS_FAULT", "extract:start:1:error")
        .env("SWE_CORPUS_FAULT_ONCE", &marker);
    stdout_of(failing_once);
    wait_for_run(&s, "runs/slurm");
    assert!(marker.is_file(), "the fault fired");
    let status = s.ok(&["status", "--run", "runs/slurm"]);
    let jobs = jobs(&s, "runs/slurm");
    let listing = serde_json::to_string_pretty(&jobs).unwrap_or_default();
    assert_all_complete(&status, &listing);
    assert_same_tables(&s.path().join("runs/local"), &s.path().join("runs/slurm"));

    // The failed extract task ran again in a second attempt, in its job; every task of a
    // stage was submitted once.
    let task_logs = logs_of(&s, "runs/slurm", "extract-");
    assert_eq!(task_logs.matches("failed (exit").count(), 1, "{task_logs}");
    assert!(task_logs.contains("attempt 1 of 3"), "{task_logs}");
    let mut extract_tasks: Vec<u64> = jobs
        .iter()
        .filter(|j| j["stage"] == "extract" && j["role"] == "tasks")
        .flat_map(|j| j["tasks"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t.as_u64())
        .collect();
    extract_tasks.sort();
    let submitted = extract_tasks.len();
    extract_tasks.dedup();
    assert!(
        submitted > 0 && extract_tasks.len() == submitted,
        "{listing}"
    );
    // Tasks numbered 5 and above went in array jobs of their own, under the limit.
    assert!(
        jobs.iter()
            .any(|j| j["role"] == "tasks" && j["offset"].as_u64().is_some_and(|o| o >= 5)),
        "{listing}"
    );
    for job in &jobs {
        let offset = job["offset"].as_u64().unwrap_or(0);
        for task in job["tasks"].as_array().into_iter().flatten() {
            let index = task.as_u64().unwrap_or(0) - offset;
            assert!(
                index < 5,
                "array index {index} over MaxArraySize: {listing}"
            );
        }
    }
}
