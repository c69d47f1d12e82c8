//! `swe-corpus status`: per stage, complete, stale, partly done (units done of total), not
//! started or waiting for its inputs.

use corpus_core::manifest::Manifest;
use corpus_core::schema::names;

use std::collections::BTreeSet;

use corpus_core::hash::task_of;

use crate::execute::is_current;
use crate::units::UnitStore;
use corpus_stage::error::Result;
use corpus_stage::stage::StageContext;

corpus_core::code_enum! {
    /// Where a stage of a run stands.
    StageState {
        /// Its tables are current for its inputs and configuration.
        Complete = "complete",
        /// It completed once, but its inputs or configuration changed since.
        Stale = "stale",
        /// Some of its units are done.
        Partial = "partial",
        NotStarted = "not started",
        /// Its inputs do not exist yet.
        Waiting = "waiting",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageStatus {
    pub stage: String,
    pub state: StageState,
    pub units_done: u64,
    /// Units not done whose task Slurm is running now.
    pub units_running: u64,
    /// Units not done whose task failed (and is not running again).
    pub units_failed: u64,
    pub units: u64,
    pub rows: u64,
    /// Cluster tasks of the latest split that have units or ran (done, failed, pending), when
    /// tasks ran apart.
    pub tasks: Option<TaskCounts>,
    /// Messages of failed tasks.
    pub failures: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskCounts {
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    pub pending: usize,
}

pub fn status(ctx: &StageContext) -> Result<Vec<StageStatus>> {
    let mut out = Vec::new();
    let slurm = crate::slurm::job_states(ctx.run);
    for stage in crate::stages::available() {
        let ctx = &ctx.for_stage(stage.as_ref());
        // A stage whose inputs do not exist yet has nothing to report but that.
        let (inputs, mut keys) = match stage.inputs(ctx).and_then(|i| Ok((i, stage.units(ctx)?))) {
            Ok(found) => found,
            Err(_) => {
                out.push(StageStatus {
                    stage: stage.name().to_string(),
                    state: StageState::Waiting,
                    units_done: 0,
                    units_running: 0,
                    units_failed: 0,
                    units: 0,
                    rows: 0,
                    tasks: None,
                    failures: Vec::new(),
                });
                continue;
            }
        };
        keys.sort();
        keys.dedup();
        let rows = stage
            .outputs()
            .iter()
            .filter_map(|t| Manifest::read(&ctx.run.table(t)).ok().flatten())
            .filter_map(|m| m.stages.get(stage.name()).map(|e| e.rows))
            .sum();
        if is_current(ctx, stage.as_ref(), &inputs.fingerprint)? {
            // Complete: every unit is done, none to look at.
            out.push(StageStatus {
                stage: stage.name().to_string(),
                state: StageState::Complete,
                units_done: keys.len() as u64,
                units_running: 0,
                units_failed: 0,
                units: keys.len() as u64,
                rows,
                tasks: None,
                failures: Vec::new(),
            });
            continue;
        }
        let work = ctx.run.work(stage.name());
        let store = UnitStore { dir: work.clone() };
        let done_keys: BTreeSet<&String> = if work.exists() {
            let mut done = BTreeSet::new();
            for key in &keys {
                if store.done(key)?.is_some() {
                    done.insert(key);
                }
            }
            done
        } else {
            BTreeSet::new()
        };
        let outcomes = if work.exists() {
            store.task_outcomes()
        } else {
            Vec::new()
        };
        // The latest split: its tasks' outcomes, and which of them Slurm runs now.
        let split = outcomes.iter().map(|o| o.tasks).max();
        let mut tasks = None;
        let mut failures = Vec::new();
        let (mut units_running, mut units_failed) = (0, 0);
        if let Some(total) = split {
            let latest: Vec<_> = outcomes.iter().filter(|o| o.tasks == total).collect();
            let running: BTreeSet<usize> = slurm
                .iter()
                .filter(|j| j.stage == stage.name() && j.state == "RUNNING")
                .filter_map(|j| j.task)
                .collect();
            let failed: BTreeSet<usize> = latest
                .iter()
                .filter(|o| o.failed && !running.contains(&o.task))
                .map(|o| o.task)
                .collect();
            failures = latest
                .iter()
                .filter(|o| failed.contains(&o.task))
                .map(|o| format!("task {} of {}: {}", o.task, o.tasks, o.message))
                .collect();
            let with_units: BTreeSet<usize> = keys.iter().map(|k| task_of(k, total)).collect();
            for key in keys.iter().filter(|k| !done_keys.contains(k)) {
                let task = task_of(key, total);
                if running.contains(&task) {
                    units_running += 1;
                } else if failed.contains(&task) {
                    units_failed += 1;
                }
            }
            // The tasks that have units or ran: on Slurm a task without units is never
            // submitted, so it is not pending.
            let mut counted = with_units;
            counted.extend(latest.iter().map(|o| o.task));
            let done = latest.iter().filter(|o| !o.failed).count();
            tasks = Some(TaskCounts {
                total: counted.len(),
                done,
                failed: failed.len(),
                pending: counted.len().saturating_sub(done + failed.len()),
            });
        }
        let finished_before = Manifest::read(&ctx.run.table(names::DROPS))?
            .map(|m| m.stages.contains_key(stage.name()))
            .unwrap_or(false);
        let done = done_keys.len() as u64;
        let state = if done > 0 {
            StageState::Partial
        } else if finished_before {
            StageState::Stale
        } else {
            StageState::NotStarted
        };
        out.push(StageStatus {
            stage: stage.name().to_string(),
            state,
            units_done: done,
            units_running,
            units_failed,
            units: keys.len() as u64,
            rows,
            tasks,
            failures,
        });
    }
    Ok(out)
}
