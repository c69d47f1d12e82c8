//! `plan`: the mix plan of a run's tokenized table, or with `--project` the 150B projection.

use super::location::{Pull, open_existing};
use crate::cli::PlanArgs;
use anyhow::Result;
use corpus_core::recipe::Recipe;

pub fn plan(args: &PlanArgs) -> Result<()> {
    let opened = open_existing(&args.run, Pull::Working)?;
    let run = &opened.run;
    let recipe = match &args.recipe {
        Some(path) => Recipe::load(path)?,
        None => Recipe::load(&run.recipe_file())?,
    };
    if args.project {
        if let Some(n) = args.prs_per_repo
            && !(n.is_finite() && n > 0.0)
        {
            return Err(corpus_stage::StageError::Usage(format!(
                "--prs-per-repo {n}: must be a positive number"
            ))
            .into());
        }
        let options = corpus_runner::projection::ProjectOptions {
            prs_per_repo: args.prs_per_repo,
            mirror_budget_bytes: recipe.inputs.mirror_budget_bytes(),
            ..Default::default()
        };
        let projection = corpus_runner::project(&recipe, run, &options)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&projection)?);
        } else {
            print!("{}", projection.render());
        }
        return Ok(());
    }
    let plan = corpus_runner::plan(&recipe, run)?;
    for warning in recipe.decontam.warnings() {
        eprintln!("warning: {warning}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print!("{}", plan.render());
    }
    Ok(())
}
