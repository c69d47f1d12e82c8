//! `swe-corpus status`: per stage, complete, stale, partly done (units done of total), not
//! started or waiting for its inputs.

use corpus_core::manifest::Manifest;
use corpus_core::schema::names;

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
    pub units: u64,
    pub rows: u64,
    /// Cluster tasks of the latest split (done, failed, pending), when tasks ran apart.
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
        let finished_before = Manifest::read(&ctx.run.table(names::DROPS))?
            .map(|m| m.stages.contains_key(stage.name()))
            .unwrap_or(false);
        let work = ctx.run.work(stage.name());
        let mut tasks = None;
        let mut failures = Vec::new();
        if work.exists() {
            let outcomes = UnitStore { dir: work.clone() }.task_outcomes();
            if let Some(total) = outcomes.iter().map(|o| o.tasks).max() {
                let latest: Vec<_> = outcomes.iter().filter(|o| o.tasks == total).collect();
                let failed = latest.iter().filter(|o| o.failed).count();
                let done = latest.len() - failed;
                failures = latest
                    .iter()
                    .filter(|o| o.failed)
                    .map(|o| format!("task {} of {}: {}", o.task, o.tasks, o.message))
                    .collect();
                tasks = Some(TaskCounts {
                    total,
                    done,
                    failed,
                    pending: total.saturating_sub(done + failed),
                });
            }
        }
        let (state, done) = if is_current(ctx, stage.as_ref(), &inputs.fingerprint)? {
            tasks = None;
            failures.clear();
            (StageState::Complete, keys.len() as u64)
        } else {
            let done = if work.exists() {
                let store = UnitStore { dir: work };
                let mut n = 0;
                for key in &keys {
                    if store.done(key)?.is_some() {
                        n += 1;
                    }
                }
                n
            } else {
                0
            };
            if done > 0 {
                (StageState::Partial, done)
            } else if finished_before {
                (StageState::Stale, 0)
            } else {
                (StageState::NotStarted, 0)
            }
        };
        out.push(StageStatus {
            stage: stage.name().to_string(),
            state,
            units_done: done,
            units: keys.len() as u64,
            rows,
            tasks,
            failures,
        });
    }
    Ok(out)
}
