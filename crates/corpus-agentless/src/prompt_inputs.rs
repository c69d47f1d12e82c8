//! What the stages that render prompts share (format, synthesize, ingest): the prompt
//! templates, the tokenizer's added tokens (content holding one is dropped), the crawl's PR
//! metadata, and the fingerprint inputs that make editing a template rerun them.

use std::collections::HashMap;

use corpus_core::recipe::Recipe;
use corpus_core::rows::PullRow;
use corpus_core::table::KeyedTable;
use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::{InputsBuilder, StageContext};

use crate::templates::Templates;

/// A repository's `pulls` rows by PR number (none when the run has no `pulls` table).
pub fn pulls_of(table: Option<&KeyedTable>, key: &str) -> Result<HashMap<i64, PullRow>> {
    let mut pulls = HashMap::new();
    if let Some(table) = table {
        table.for_each_batch_of(key, 256, |batch| {
            for pull in PullRow::from_batch(&batch)? {
                pulls.insert(pull.pr_number, pull);
            }
            Ok(())
        })?;
    }
    Ok(pulls)
}

/// The prompt templates (`[format] templates_dir`, else built in); errors name `stage`.
pub fn load_templates(recipe: &Recipe, stage: &'static str) -> Result<Templates> {
    let dir = recipe.resolve(&recipe.format.templates_dir);
    Templates::load(&dir).map_err(|e| StageError::stage(stage, e.to_string()))
}

/// The templates' text and the added tokens as hidden inputs of a stage that renders
/// prompts: editing either reruns it.
pub fn prompt_inputs(
    builder: &mut InputsBuilder,
    ctx: &StageContext,
    stage: &'static str,
) -> Result<()> {
    for source in &load_templates(ctx.recipe, stage)?.sources {
        builder.hidden("template", source.as_bytes());
    }
    builder.hidden(
        "added_tokens",
        corpus_tokenize::added_tokens_of_recipe(&ctx.recipe.tokenize)?
            .join("\n")
            .as_bytes(),
    );
    Ok(())
}
