//! `run`, `extract` and `crawl`: the recipe's stages into a run directory, here or as Slurm
//! array jobs.

use anyhow::{Context, Result, bail};
use corpus_core::recipe::Recipe;
use corpus_runner::execute::{ExecOptions, Selection};
use corpus_stage::run_dir::RunDir;

use super::location::{Pull, job_or_process_id, open_run};
use super::{load_recipe, threads_or_cores};
use crate::cli::{Executor, RunArgs, SlurmStepArgs};
use crate::logging;

pub fn run(args: &RunArgs, only: Option<&str>) -> Result<()> {
    let only_stage = only.or(args.only.as_deref());
    // One task of one stage, or its barrier, needs only that stage's inputs.
    let pull = match only_stage {
        Some(stage) if args.task.is_some() || args.finalize => {
            Pull::for_stage(stage, args.finalize, None)
        }
        _ => Pull::Working,
    };
    let (recipe, opened) = if args.source.recipe_of_run {
        let Some(arg) = &args.run else {
            bail!("--recipe-of-run reads the recipe a run holds: name the run with --run");
        };
        let opened = open_run(arg, pull)?;
        let path = opened.run.recipe_file();
        let recipe = Recipe::load(&path)
            .with_context(|| format!("reading the recipe of {}", opened.shown()))?
            .absolutized()?;
        (recipe, opened)
    } else {
        let recipe = load_recipe(&args.source)?.absolutized()?;
        let arg = args
            .run
            .clone()
            .unwrap_or_else(|| RunDir::default_for(&recipe).root);
        (recipe, open_run(&arg, pull)?)
    };
    let run = &opened.run;
    ensure_demo_inputs(&recipe)?;
    let tasks = threads_or_cores(
        args.tasks
            .or((recipe.runner.tasks > 0).then_some(recipe.runner.tasks)),
    );
    if tasks == 0 {
        bail!("--tasks must be at least 1");
    }
    let selection = Selection {
        until: args.until.clone(),
        from: args.from.clone(),
        only: only_stage.map(str::to_string),
    };
    let options = ExecOptions {
        tasks,
        task: args.task,
        finalize_only: args.finalize,
    };
    if args.executor == Executor::Slurm {
        if args.task.is_some() || args.finalize {
            bail!(
                "--task and --finalize are what the Slurm jobs run; do not combine them with --executor slurm"
            );
        }
        let binary = std::env::current_exe().context("locate the swe-corpus binary")?;
        let submission = corpus_runner::submit_slurm(&recipe, run, &selection, tasks, &binary)?;
        opened.finish()?;
        for stage in &submission.skipped_current {
            println!("{stage:<14} current, not submitted");
        }
        for job in &submission.jobs {
            let what = if job.role == "tasks" {
                format!("tasks {:?}", job.tasks)
            } else {
                "step (barrier, next stage)".to_string()
            };
            println!("{:<14} job {:<10} {what}", job.stage, job.job_id);
        }
        eprintln!(
            "submitted; follow with `swe-corpus status --run {}` (logs in {})",
            opened.shown(),
            run.logs().display()
        );
        return Ok(());
    }
    if opened.remote.is_some()
        && let (Some(task), Some(stage)) = (args.task, selection.only.as_deref())
    {
        // No shared file system: the task's own log goes up with its copy, one per attempt
        // (an attempt's copy starts without the logs of the one before).
        let job = job_or_process_id();
        let attempt = std::env::var("SWE_CORPUS_ATTEMPT").unwrap_or_else(|_| "1".to_string());
        let log = run
            .logs()
            .join(format!("{stage}-{task}.{job}.{attempt}.out"));
        logging::also_to(&log);
    }
    if args.task.is_none() && !args.finalize {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let log = run.logs().join(format!("local-{since_epoch}.log"));
        logging::also_to(&log);
    }
    let report = opened.unless_failed(corpus_runner::run(&recipe, run, &selection, &options))?;
    opened.finish()?;
    print!("{}", report.summary_table());
    logging::append(&report.summary_table());
    eprint!("{}", report.warning_lines());
    if args.task.is_none() {
        eprintln!("run directory: {}", opened.shown());
    }
    Ok(())
}

/// A Slurm step job (see `corpus_runner::slurm`).
pub fn slurm_step(args: &SlurmStepArgs) -> Result<()> {
    let then: Vec<String> = args
        .then
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let pull = Pull::for_stage(&args.stage, true, then.first().map(String::as_str));
    let opened = open_run(&args.run, pull)?;
    let run = &opened.run;
    let recipe_path = args.recipe.clone().unwrap_or_else(|| run.recipe_file());
    let recipe = Recipe::load(&recipe_path)?.absolutized()?;
    if opened.remote.is_some() {
        let job = job_or_process_id();
        let log = run.logs().join(format!("{}-step-{job}.out", args.stage));
        logging::also_to(&log);
    }
    let step = corpus_runner::slurm::Step {
        stage: args.stage.clone(),
        tasks: args.tasks,
        base_tasks: args.base_tasks,
        then,
    };
    let binary = std::env::current_exe().context("locate the swe-corpus binary")?;
    let outcome = opened.unless_failed(corpus_runner::slurm_step(&recipe, run, &step, &binary))?;
    opened.finish()?;
    print!("{}", outcome.report.summary_table());
    match outcome.next {
        Some(next) => println!("{}: complete; {next} submitted", step.stage),
        None => println!("{}: complete; the run is done", step.stage),
    }
    Ok(())
}

/// The demo set a recipe reads, generated here (before any stage runs) unless a complete
/// one of this version is already there: stages only read repositories.
fn ensure_demo_inputs(recipe: &Recipe) -> Result<()> {
    if let Some(root) = recipe.demo_root()
        && corpus_demo::ensure(&root)?
    {
        tracing::info!("generated the demo set in {}", root.display());
    }
    Ok(())
}
