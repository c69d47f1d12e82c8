//! The Slurm executor. A stage becomes array jobs of its tasks (`swe-corpus run --only STAGE
//! --task T`), as many as the cluster's `MaxArraySize` needs, and one step job
//! (`swe-corpus slurm-step`) that depends on them with `afterok` and
//! `--kill-on-invalid-dep=yes`: it runs the barrier and submits the next stage, so each
//! stage is sized when its units are known (`[slurm] units_per_task`). A task that fails is
//! run again inside its job, up to `[slurm] max_retries` times (its finished units are kept;
//! `--requeue` lets Slurm move it off a failed node); a task that fails every attempt makes
//! Slurm cancel the step, so nothing after it runs, and submitting the run again sends the
//! tasks with units left and the stages after them. Logs go to `RUN/logs/STAGE-TASK.out` and
//! `RUN/logs/STAGE-step-JOBID.out`; `RUN/logs/slurm-jobs.json` lists every job.

mod sbatch;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use corpus_core::error::IoContext;
use corpus_core::hash::task_of;
use corpus_core::recipe::SlurmOptions;

use crate::execute::{Selection, is_current};
use crate::report::RunReport;
use crate::units::UnitStore;
use corpus_stage::error::{Result, StageError};
use corpus_stage::run_dir::RunDir;
use corpus_stage::stage::{Stage, StageContext};
use sbatch::{
    array_chunks, array_spec, max_array_size, resource_args, sbatch, shell_quote, write_script,
};

/// One submitted job, as `RUN/logs/slurm-jobs.json` records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SubmittedJob {
    pub stage: String,
    /// `tasks` (an array job) or `step` (what runs after a stage's tasks: retries, the
    /// barrier, the next stage's submission).
    pub role: String,
    pub job_id: String,
    /// The stage's tasks this job runs (empty for a step).
    pub tasks: Vec<usize>,
    /// Task number of array index 0 (a stage with more tasks than `MaxArraySize` has several
    /// array jobs).
    #[serde(default)]
    pub offset: usize,
}

/// What `submit` did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Submission {
    pub jobs: Vec<SubmittedJob>,
    pub skipped_current: Vec<String>,
}

/// One stage's turn on the cluster: its tasks, then a step job that checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub stage: String,
    /// The stage's task count.
    pub tasks: usize,
    /// `--tasks` of the submission: the task count of a later stage whose units are not
    /// counted (`[slurm] units_per_task` unset).
    pub base_tasks: usize,
    /// The stages to submit after this one, in order.
    pub then: Vec<String>,
}

/// What a step job did: the barrier ran (its report); the next stage was submitted when
/// there is one.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub report: Box<RunReport>,
    pub next: Option<String>,
}

/// A stage's units, and those not done yet.
struct Units {
    keys: Vec<String>,
    left: Vec<String>,
}

impl Units {
    /// `None` when the stage's units cannot be listed yet because its inputs do not exist.
    fn of(ctx: &StageContext, stage: &dyn Stage) -> Option<Units> {
        let ctx = &ctx.for_stage(stage);
        let inputs = stage.inputs(ctx).ok()?;
        let keys = stage.units(ctx).ok()?;
        let store = UnitStore::open(&ctx.run.work(stage.name()), &inputs.fingerprint).ok()?;
        // An unreadable marker counts as a unit left: its task runs it again.
        let left = keys
            .iter()
            .filter(|k| !matches!(store.done(k), Ok(Some(_))))
            .cloned()
            .collect();
        Some(Units { keys, left })
    }

    /// The tasks of a split into `tasks` that have units left, in order.
    fn tasks_left(&self, tasks: usize) -> Vec<usize> {
        let mut pending: Vec<usize> = self.left.iter().map(|k| task_of(k, tasks)).collect();
        pending.sort();
        pending.dedup();
        pending
    }
}

fn find_stage<'a>(stages: &'a [Box<dyn Stage>], name: &str) -> Result<&'a dyn Stage> {
    stages
        .iter()
        .find(|s| s.name() == name)
        .map(|s| s.as_ref())
        .ok_or_else(|| StageError::Usage(format!("unknown stage `{name}`")))
}

/// Submit the selected stages of the run to Slurm: the first that is not current now; each
/// step job submits the next once its stage is complete.
pub fn submit(
    ctx: &StageContext,
    selection: &Selection,
    tasks: usize,
    options: &SlurmOptions,
    binary: &Path,
) -> Result<Submission> {
    let stages = crate::stages::available();
    let picked = selection.pick(&stages)?;
    std::fs::create_dir_all(ctx.run.logs()).at("create directory", &ctx.run.logs())?;
    let mut submission = Submission::default();
    let mut chain: Vec<String> = Vec::new();
    for (stage, forced) in picked {
        // Only a stage whose inputs exist can be judged current; once one stage is
        // submitted, every later one must run after it.
        if chain.is_empty()
            && !forced
            && let Ok(inputs) = stage.inputs(&ctx.for_stage(stage))
            && is_current(ctx, stage, &inputs.fingerprint)?
        {
            submission.skipped_current.push(stage.name().to_string());
            continue;
        }
        chain.push(stage.name().to_string());
    }
    if let Some((first, then)) = chain.split_first() {
        let stage = find_stage(&stages, first)?;
        submission.jobs = submit_stage(ctx, stage, tasks, then, options, binary)?;
    }
    write_jobs(ctx, &submission)?;
    Ok(submission)
}

/// The step job of `step`: once every task of the stage has succeeded, run the barrier and
/// submit the next stage.
pub fn run_step(
    recipe: &corpus_core::recipe::Recipe,
    run: &RunDir,
    step: &Step,
    binary: &Path,
) -> Result<StepOutcome> {
    let ctx = &StageContext::new(recipe, run);
    let options = &recipe.slurm;
    let stages = crate::stages::available();
    let stage = find_stage(&stages, &step.stage)?;
    let pending = Units::of(ctx, stage)
        .ok_or_else(|| {
            StageError::stage(
                &step.stage,
                "its inputs are missing: the stage before it did not complete",
            )
        })?
        .tasks_left(step.tasks);
    // Slurm starts a step only after every task succeeded; a task that exits 0 with units
    // left would be a bug, and the barrier must not run on half a stage.
    if !pending.is_empty() {
        return Err(StageError::stage(
            &step.stage,
            format!(
                "tasks {pending:?} of {} ended without finishing their units; their logs are \
                 in {}, and `swe-corpus run --executor slurm` submits them again",
                step.tasks,
                run.logs().display(),
            ),
        ));
    }
    let selection = Selection {
        only: Some(step.stage.clone()),
        ..Selection::default()
    };
    let exec = crate::execute::ExecOptions {
        tasks: step.tasks,
        task: None,
        finalize_only: true,
    };
    let report = Box::new(crate::run(recipe, run, &selection, &exec)?);
    let Some((next, then)) = step.then.split_first() else {
        return Ok(StepOutcome { report, next: None });
    };
    let stage = find_stage(&stages, next)?;
    let jobs = submit_stage(ctx, stage, step.base_tasks, then, options, binary)?;
    append_jobs(ctx, jobs)?;
    Ok(StepOutcome {
        report,
        next: Some(next.clone()),
    })
}

/// Submit a stage: its tasks (`base_tasks`, or with `[slurm] units_per_task`
/// its units divided by that) that have units left, all of them when its units cannot be
/// listed yet, then its step.
fn submit_stage(
    ctx: &StageContext,
    stage: &dyn Stage,
    base_tasks: usize,
    then: &[String],
    options: &SlurmOptions,
    binary: &Path,
) -> Result<Vec<SubmittedJob>> {
    let units = Units::of(ctx, stage);
    let tasks = match &units {
        Some(units) if options.units_per_task > 0 => {
            units.keys.len().div_ceil(options.units_per_task).max(1)
        }
        _ => base_tasks,
    };
    let pending = match &units {
        Some(units) => units.tasks_left(tasks),
        None => (0..tasks).collect(),
    };
    let step = Step {
        stage: stage.name().to_string(),
        tasks,
        base_tasks,
        then: then.to_vec(),
    };
    submit_step(ctx, &step, &pending, options, binary)
}

/// Submit a stage's tasks (`pending`, in array jobs under the cluster's limit) and the step
/// job that runs once all of them succeeded (Slurm cancels it when one fails for good).
fn submit_step(
    ctx: &StageContext,
    step: &Step,
    pending: &[usize],
    options: &SlurmOptions,
    binary: &Path,
) -> Result<Vec<SubmittedJob>> {
    let logs = absolute(&ctx.run.logs())?;
    let run_root = absolute(&ctx.run.root)?;
    let name = &step.stage;
    let binary = shell_quote(&binary.to_string_lossy());
    // What the jobs are given. A run on object storage: its URL; tasks read the recipe from
    // it, each job logs into its own copy, published with it (nodes share no file system),
    // and Slurm's own output of a job stays on its node, in /tmp. A local run: its folder,
    // its recipe file, and the logs in it (a step's named by its job: a resubmitted stage
    // has another).
    struct JobArgs {
        run: String,
        task_recipe: String,
        step_recipe: String,
        task_log: String,
        task_output: String,
        step_output: String,
    }
    let args_of = match ctx.run.location() {
        Some(url) => JobArgs {
            run: shell_quote(url),
            task_recipe: "--recipe-of-run".to_string(),
            // The step reads the run's recipe when it is given none.
            step_recipe: String::new(),
            task_log: String::new(),
            task_output: format!("/tmp/swe-corpus-{name}-%A_%a.out"),
            step_output: format!("/tmp/swe-corpus-{name}-step-%j.out"),
        },
        None => {
            let recipe = format!(
                "--recipe {}",
                shell_quote(&run_root.join("recipe.toml").to_string_lossy())
            );
            JobArgs {
                run: shell_quote(&run_root.to_string_lossy()),
                task_recipe: recipe.clone(),
                step_recipe: recipe,
                task_log: format!(
                    "exec >>{}/{name}-\"$task\".out 2>&1\n",
                    shell_quote(&logs.to_string_lossy())
                ),
                task_output: "/dev/null".to_string(),
                step_output: logs
                    .join(format!("{name}-step-%j.out"))
                    .display()
                    .to_string(),
            }
        }
    };
    let mut jobs = Vec::new();
    if !pending.is_empty() {
        let script = logs.join(format!("{name}-tasks.sbatch"));
        // The array index plus the chunk's offset (the script's argument) is the task; each
        // task appends to its own log, whichever array job and attempt ran it. A failed
        // attempt is followed by another in the same job (the units it finished are kept)
        // until `max_retries` are spent; only then does the job fail.
        write_script(
            &script,
            &format!(
                "#!/bin/bash\nset -uo pipefail\ntask=$(( $1 + SLURM_ARRAY_TASK_ID ))\n\
                 {task_log}\
                 attempts={attempts}\n\
                 for attempt in $(seq 1 \"$attempts\"); do\n\
                 \x20   SWE_CORPUS_ATTEMPT=$attempt {binary} run {task_recipe} --run {run} \
                 --only {name} --tasks {tasks} --task \"$task\" && exit 0\n\
                 \x20   status=$?\n\
                 \x20   echo \"swe-corpus: {name} task $task failed (exit $status), \
                 attempt $attempt of $attempts\" >&2\n\
                 done\n\
                 exit \"$status\"\n",
                task_log = args_of.task_log,
                attempts = options.max_retries + 1,
                task_recipe = args_of.task_recipe,
                run = args_of.run,
                tasks = step.tasks,
            ),
        )?;
        for chunk in array_chunks(pending, max_array_size(options)) {
            let mut args = resource_args(options, &format!("swe-corpus-{name}"));
            args.push(format!("--array={}", array_spec(&chunk.indices)));
            args.push(format!("--output={}", args_of.task_output));
            // A node that fails takes its tasks back to the queue, where the cluster allows.
            args.push("--requeue".to_string());
            let id = sbatch(&args, &script, &[chunk.offset.to_string()])?;
            jobs.push(SubmittedJob {
                stage: name.clone(),
                role: "tasks".into(),
                job_id: id,
                tasks: chunk.indices.iter().map(|i| i + chunk.offset).collect(),
                offset: chunk.offset,
            });
        }
    }
    let script = logs.join(format!("{name}-step.sbatch"));
    write_script(
        &script,
        &format!(
            "#!/bin/bash\nset -euo pipefail\nexec {binary} slurm-step {} \
             --run {} --stage {name} --tasks {} --base-tasks {} --then '{}'\n",
            args_of.step_recipe,
            args_of.run,
            step.tasks,
            step.base_tasks,
            step.then.join(",")
        ),
    )?;
    let mut args = resource_args(options, &format!("swe-corpus-{name}-step"));
    args.push(format!("--output={}", args_of.step_output));
    if !jobs.is_empty() {
        let ids: Vec<&str> = jobs.iter().map(|j| j.job_id.as_str()).collect();
        // Only after every task succeeded; a task that failed every attempt cancels the step,
        // and with it every later stage (the step is what submits them).
        args.push(format!("--dependency=afterok:{}", ids.join(":")));
        args.push("--kill-on-invalid-dep=yes".to_string());
    }
    let id = sbatch(&args, &script, &[])?;
    jobs.push(SubmittedJob {
        stage: name.clone(),
        role: "step".into(),
        job_id: id,
        tasks: Vec::new(),
        offset: 0,
    });
    Ok(jobs)
}

fn jobs_file(run: &RunDir) -> PathBuf {
    run.logs().join("slurm-jobs.json")
}

/// The run's record of its last submission, if there is a readable one.
fn read_jobs(run: &RunDir) -> Option<Submission> {
    let text = std::fs::read_to_string(jobs_file(run)).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_jobs(ctx: &StageContext, submission: &Submission) -> Result<()> {
    let text = serde_json::to_string_pretty(submission)
        .map_err(|e| StageError::Usage(format!("serialize jobs: {e}")))?;
    corpus_core::manifest::write_atomically(&jobs_file(ctx.run), text.as_bytes())?;
    Ok(())
}

/// Add jobs a step submitted to the submission's record (steps run one after another).
fn append_jobs(ctx: &StageContext, jobs: Vec<SubmittedJob>) -> Result<()> {
    let mut submission = read_jobs(ctx.run).unwrap_or_default();
    submission.jobs.extend(jobs);
    write_jobs(ctx, &submission)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir()
        .map_err(|e| corpus_core::Error::io("read the current directory", e))?;
    Ok(cwd.join(path))
}

/// One job or array task of the run as Slurm sees it (`scontrol show job`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    pub stage: String,
    pub role: String,
    /// The stage's task (array index plus offset), for an array element.
    pub task: Option<usize>,
    pub job_id: String,
    /// `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, ...
    pub state: String,
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.task {
            Some(task) => write!(f, "{} {}[{task}]", self.stage, self.role)?,
            None => write!(f, "{} {}", self.stage, self.role)?,
        }
        write!(f, " job {} {}", self.job_id, self.state)
    }
}

/// Slurm's view of the jobs of the run's last submission (`scontrol show job`, no accounting
/// needed): one entry per job or array task, e.g. "extract tasks[7] job 41 FAILED"
/// (the task number, not the array index). Empty when the run was not submitted to Slurm or
/// `scontrol` is not there. Pending elements Slurm still holds as one range are left out.
pub fn job_states(run: &RunDir) -> Vec<JobState> {
    let Some(submission) = read_jobs(run) else {
        return Vec::new();
    };
    // One call for every job the controller holds, matched to ours by id: a run of 10^5
    // tasks has thousands of jobs, and one `scontrol` call each would take minutes.
    let Ok(result) = Command::new("scontrol")
        .args(["show", "job", "-o"])
        .output()
    else {
        return Vec::new();
    };
    job_lines(&String::from_utf8_lossy(&result.stdout), &submission.jobs)
}

/// The states of `jobs` in `scontrol show job -o` output (one line per job or array element).
fn job_lines(text: &str, jobs: &[SubmittedJob]) -> Vec<JobState> {
    let ours: std::collections::HashMap<&str, &SubmittedJob> =
        jobs.iter().map(|job| (job.job_id.as_str(), job)).collect();
    let mut out = Vec::new();
    for line in text.lines() {
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(key))
                .map(str::to_string)
        };
        let Some(id) = field("ArrayJobId=").or_else(|| field("JobId=")) else {
            continue;
        };
        let Some(job) = ours.get(id.as_str()) else {
            continue;
        };
        let task = match field("ArrayTaskId=") {
            Some(index) => match index.parse::<usize>() {
                Ok(i) => Some(i + job.offset),
                Err(_) => continue,
            },
            None => None,
        };
        out.push(JobState {
            stage: job.stage.clone(),
            role: job.role.clone(),
            task,
            job_id: job.job_id.clone(),
            state: field("JobState=").unwrap_or_else(|| "?".into()),
        });
    }
    out.sort_by(|a, b| {
        (a.job_id.parse::<u64>().unwrap_or(0), a.task)
            .cmp(&(b.job_id.parse::<u64>().unwrap_or(0), b.task))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, role: &str, offset: usize) -> SubmittedJob {
        SubmittedJob {
            stage: "extract".into(),
            role: role.into(),
            job_id: id.into(),
            tasks: Vec::new(),
            offset,
        }
    }

    #[test]
    fn array_elements_are_named_by_their_task_and_foreign_jobs_left_out() {
        let text = "JobId=51 ArrayJobId=50 ArrayTaskId=2 JobName=swe-corpus-extract JobState=RUNNING Reason=None\n\
                    JobId=50 ArrayJobId=50 ArrayTaskId=3-4 JobName=swe-corpus-extract JobState=PENDING Reason=None\n\
                    JobId=60 JobName=swe-corpus-extract-step JobState=PENDING Reason=Dependency\n\
                    JobId=70 JobName=someone-else JobState=RUNNING\n";
        let states = job_lines(text, &[job("50", "tasks", 5), job("60", "step", 0)]);
        let shown: Vec<String> = states.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            vec![
                "extract tasks[7] job 50 RUNNING",
                "extract step job 60 PENDING"
            ]
        );
    }
}
