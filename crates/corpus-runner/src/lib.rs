//! corpus-runner: runs a recipe's stages into a run directory.
//!
//! Every stage is a [`corpus_stage::stage::Stage`]: work units (one per repository, or per input part),
//! done as task i of N ([`execute::ExecOptions`]), each unit's rows kept in `_work/` under a
//! completion marker ([`units::UnitStore`]), then a barrier that concatenates the units in key
//! order into the table's parts and writes the manifests. So a killed run resumes at the
//! unit, a current stage is skipped by fingerprint, and the bytes do not depend on N.
//!
//! ```no_run
//! use corpus_runner::{run, execute::{ExecOptions, Selection}};
//! use corpus_stage::run_dir::RunDir;
//! let recipe = corpus_core::recipe::Recipe::demo().unwrap();
//! let dir = RunDir::default_for(&recipe);
//! let options = ExecOptions { tasks: 4, task: None, finalize_only: false };
//! let report = run(&recipe, &dir, &Selection::default(), &options).unwrap();
//! print!("{}", report.summary_table());
//! ```

use corpus_core::schema::names;
pub mod execute;
pub mod mirror_budget;
pub mod projection;
pub mod report;
pub mod slurm;
pub mod stages;
pub mod status;
pub mod units;
pub mod verify;

pub use corpus_stage::{Result, StageError};

use corpus_stage::run_dir::RunDir;
use corpus_stage::stage::StageContext;
use execute::{ExecOptions, Selection, run_stage};
use report::RunReport;

/// Run the selected stages of `recipe` into `run` and write `report.json`.
pub fn run(
    recipe: &corpus_core::recipe::Recipe,
    run: &RunDir,
    selection: &Selection,
    options: &ExecOptions,
) -> Result<RunReport> {
    run.prepare(recipe)?;
    run.publish(&run.recipe_file())?;
    if options.task.is_none() && !options.finalize_only {
        run.clear_temporaries()?;
        run.mark_latest();
    }
    let ctx = StageContext::new(recipe, run);
    let stages = stages::available();
    let picked = selection.pick(&stages)?;
    if (options.task.is_some() || options.finalize_only) && picked.len() != 1 {
        return Err(StageError::Usage(
            "--task and --finalize run one stage: name it with --only STAGE".into(),
        ));
    }
    let mut report = RunReport {
        recipe: recipe.name.clone(),
        tool_version: corpus_core::version::VERSION.to_string(),
        tool_commit: corpus_core::version::GIT_COMMIT.to_string(),
        stages: Vec::new(),
        tokens: None,
        mirrors: None,
        warnings: recipe.decontam.warnings(),
    };
    let mut picked = picked;
    let bounded = mirror_budget::group_selected(recipe, &picked, options)?
        && mirror_budget::group_needed(&ctx, &picked)?;
    let mut group = None;
    if bounded && let Some(limit) = recipe.inputs.mirror_budget_bytes() {
        let ran = mirror_budget::run_group(&ctx, limit, options.tasks)?;
        report.mirrors = Some(ran.mirrors.clone());
        group = Some(ran);
        // The group's units are all done: its barriers run, whatever was current before.
        for (stage, forced) in &mut picked {
            *forced |= mirror_budget::GROUP.contains(&stage.name());
        }
    }
    for (stage, forced) in picked {
        let mut stage_report = run_stage(&ctx, stage, forced, options)?;
        if let Some(group) = &group {
            group.add_to(&mut stage_report);
        }
        report.stages.push(stage_report);
    }
    if bounded {
        mirror_budget::finish(&ctx)?;
    }
    report.tokens =
        corpus_core::manifest::Manifest::read(&run.table(names::SHARDS))?.and_then(|m| m.tokens);
    if options.task.is_none() {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| StageError::Usage(format!("serialize report: {e}")))?;
        corpus_core::manifest::write_atomically(&run.report(), format!("{text}\n").as_bytes())?;
        run.publish(&run.report())?;
    }
    Ok(report)
}

/// The mix plan of `recipe` over the run's `tokenized` table.
pub fn plan(recipe: &corpus_core::recipe::Recipe, run: &RunDir) -> Result<corpus_mix::Plan> {
    let ctx = StageContext::new(recipe, run);
    stages::compute_plan(&ctx, stages::STAGE_ORDER)
}

/// The run's measured rates scaled to what `recipe`'s `[mix]` asks (`plan --project`).
pub fn project(
    recipe: &corpus_core::recipe::Recipe,
    run: &RunDir,
    options: &projection::ProjectOptions,
) -> Result<projection::Projection> {
    let ctx = StageContext::new(recipe, run);
    let measured = projection::measure(&ctx)?;
    // The shares the run was synthesized with (its own recipe; the target's when the run
    // holds none).
    let mut options = options.clone();
    if options.synthesized_shares.is_empty() {
        let run_recipe = corpus_core::recipe::Recipe::load(&run.recipe_file()).ok();
        options.synthesized_shares =
            projection::synthesized_shares(run_recipe.as_ref().unwrap_or(recipe));
    }
    Ok(projection::project(measured, &recipe.mix, &options))
}

/// Prepare the run directory and submit the selected stages to Slurm.
pub fn submit_slurm(
    recipe: &corpus_core::recipe::Recipe,
    run: &RunDir,
    selection: &Selection,
    tasks: usize,
    binary: &std::path::Path,
) -> Result<slurm::Submission> {
    run.prepare(recipe)?;
    run.mark_latest();
    // Jobs of a run on object storage read the recipe from the store: it must be there first.
    run.publish(&run.recipe_file())?;
    let ctx = StageContext::new(recipe, run);
    slurm::submit(&ctx, selection, tasks, &recipe.slurm, binary)
}

/// A Slurm step job: retry the stage's tasks with units left, or run its barrier and submit
/// the next stage.
pub fn slurm_step(
    recipe: &corpus_core::recipe::Recipe,
    run: &RunDir,
    step: &slurm::Step,
    binary: &std::path::Path,
) -> Result<slurm::StepOutcome> {
    slurm::run_step(recipe, run, step, binary)
}
