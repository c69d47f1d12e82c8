//! What each command does, one file per command group, and the defaults they share
//! (resolved here, once): the recipe a command reads, the run directory it works on, the
//! number of threads.

pub mod decontam;
pub mod discover;
pub mod export;
pub mod inspect;
pub mod location;
pub mod plan;
pub mod recipe;
pub mod run;

use std::path::PathBuf;

use anyhow::{Result, bail};
use corpus_core::recipe::{Recipe, RepoEntry};
use corpus_stage::run_dir::RunDir;

use crate::cli::{Command, DecontamCommand, RecipeSource};

/// Run one command.
pub fn dispatch(command: &Command) -> Result<()> {
    match command {
        Command::Run(args) => run::run(args, None),
        Command::Extract(args) => run::run(args, Some("extract")),
        Command::Crawl(args) => run::run(args, Some("crawl")),
        Command::Sql(args) => inspect::sql(args),
        Command::Status(args) => inspect::status(args),
        Command::Verify(args) => inspect::verify(args),
        Command::Plan(args) => plan::plan(args),
        Command::Export(args) => export::export(args),
        Command::Tokens(args) => export::tokens(args),
        Command::Recipe(command) => recipe::recipe(command),
        Command::Discover(args) => discover::discover(args),
        Command::Decontam(DecontamCommand::Fingerprint { repo, name, branch }) => {
            decontam::fingerprint(repo, name.clone(), branch.clone())
        }
        Command::Decontam(DecontamCommand::Report { run, json }) => decontam::report(run, *json),
        Command::Decontam(DecontamCommand::GoldLines { file }) => decontam::gold_lines(file),
        Command::Decontam(DecontamCommand::Check { file, recipe }) => {
            decontam::check(file, recipe.as_ref())
        }
        Command::SlurmStep(args) => run::slurm_step(args),
        Command::Demo { out } => recipe::demo(out),
    }
}

/// The recipe of `run`, `extract` and `crawl`: a file, the repositories of `--repo`, or the
/// embedded demo recipe.
pub fn load_recipe(source: &RecipeSource) -> Result<Recipe> {
    if !source.repo.is_empty() {
        let repos = source
            .repo
            .iter()
            .map(|path| RepoEntry {
                path: path.clone(),
                name: None,
                branch: None,
            })
            .collect();
        return Ok(Recipe::quick(repos)?);
    }
    recipe_or_demo(source.recipe.as_ref())
}

/// A recipe file, or the embedded demo recipe.
pub fn recipe_or_demo(path: Option<&PathBuf>) -> Result<Recipe> {
    Ok(match path {
        Some(path) => Recipe::load(path)?,
        None => Recipe::demo()?,
    })
}

/// The run directory a command reads: `--run`, else `runs/latest`; it must exist.
pub fn latest_or(run: &Option<PathBuf>) -> Result<PathBuf> {
    let dir = run.clone().unwrap_or_else(RunDir::latest);
    if !dir.exists() {
        bail!(
            "no run directory at {}: run `swe-corpus run` first, or pass --run DIR",
            dir.display()
        );
    }
    Ok(dir)
}

/// Threads for work that splits by core: `wanted`, else one per core.
pub fn threads_or_cores(wanted: Option<usize>) -> usize {
    wanted.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}
