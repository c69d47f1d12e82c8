//! `recipe check`, `recipe show` and `demo`.

use std::path::Path;

use anyhow::Result;
use corpus_core::recipe::Recipe;

use super::recipe_or_demo;
use crate::cli::RecipeCommand;

pub fn recipe(command: &RecipeCommand) -> Result<()> {
    match command {
        RecipeCommand::Check { recipe } => {
            let checked = Recipe::load(recipe)?;
            println!("{}: ok (recipe `{}`)", recipe.display(), checked.name);
        }
        RecipeCommand::Show { recipe } => print!("{}", recipe_or_demo(recipe.as_ref())?.to_toml()?),
    }
    Ok(())
}

/// Generate the demo repositories in `out`.
pub fn demo(out: &Path) -> Result<()> {
    let summary = corpus_demo::generate(out)?;
    println!(
        "demo set: {} repositories in {}",
        summary.repos.len(),
        corpus_demo::repos_dir(&summary.root).display()
    );
    Ok(())
}
