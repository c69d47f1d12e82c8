//! Stage `ingest`: external sources from the recipe (chat messages or plain text, JSONL or
//! Parquet) rendered into `external_samples` (sample kind `external`, no repository). Content
//! holding an added-token string of the tokenizer is dropped (`special_token_in_content`);
//! so are records that cannot be read, with their line.

use corpus_core::identity::SampleKind;
use corpus_core::schema::names;
mod read;
mod render;

use corpus_core::drop_reason::DropReason;
use corpus_core::hash::file_hex64;
use corpus_core::recipe::{ExternalSource, Recipe};
use corpus_core::rows::{DropRow, SampleRow};

use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::{InputsBuilder, Stage, StageContext, StageInputs, StageSpec, UnitOutput};

use read::for_each_record;
use render::{CHATML_TURN, Renderer};

const NAME: &str = "ingest";
const BATCH_ROWS: usize = 256;

#[derive(Default)]
pub struct IngestStage;

fn template_of(source: &ExternalSource) -> Result<String> {
    match &source.template {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            StageError::stage(
                NAME,
                format!("source `{}`: template {}: {e}", source.name, path.display()),
            )
        }),
        None => Ok(CHATML_TURN.to_string()),
    }
}

const SPEC: StageSpec = StageSpec {
    name: NAME,
    outputs: &[names::EXTERNAL_SAMPLES],
    // Its inputs are files the recipe names, not tables.
    reads: &[],
};

impl Stage for IngestStage {
    fn spec(&self) -> &'static StageSpec {
        &SPEC
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        let mut builder = InputsBuilder::new(Recipe::section_hash(&ctx.recipe.ingest));
        for source in &ctx.recipe.ingest.sources {
            let sum = file_hex64(&source.path).map_err(|e| {
                StageError::stage(
                    NAME,
                    format!("source `{}`: {}: {e}", source.name, source.path.display()),
                )
            })?;
            builder.input(&format!("external:{}", source.name), &sum);
            builder.hidden("template", template_of(source)?.as_bytes());
        }
        let added = corpus_tokenize::added_tokens_of_recipe(&ctx.recipe.tokenize)?;
        builder.hidden("added_tokens", added.join("\n").as_bytes());
        Ok(builder.finish())
    }

    fn units(&self, ctx: &StageContext) -> Result<Vec<String>> {
        Ok(ctx
            .recipe
            .ingest
            .sources
            .iter()
            .map(|s| s.name.clone())
            .collect())
    }

    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()> {
        let Some(source) = ctx.recipe.ingest.sources.iter().find(|s| s.name == key) else {
            return Ok(());
        };
        let renderer = Renderer::new(&template_of(source)?)
            .map_err(|e| StageError::stage(NAME, format!("source `{key}`: {e}")))?;
        let added = corpus_tokenize::added_tokens_of_recipe(&ctx.recipe.tokenize)?;
        let mut samples: Vec<SampleRow> = Vec::new();
        let mut drops: Vec<DropRow> = Vec::new();
        let file = source.path.display().to_string();
        for_each_record(source, &mut |record| {
            let rendered = record
                .content
                .map_err(|e| (DropReason::UnreadableRecord, e))
                .and_then(|content| renderer.render(&content, &added));
            match rendered {
                Ok((prompt, response)) => {
                    samples.push(SampleRow::new(
                        SampleKind::External,
                        key,
                        "",
                        None,
                        "",
                        prompt,
                        response,
                    ));
                    if samples.len() >= BATCH_ROWS {
                        out.write(
                            names::EXTERNAL_SAMPLES,
                            &SampleRow::table_batch(names::EXTERNAL_SAMPLES, &samples)?,
                        )?;
                        samples.clear();
                    }
                }
                Err((reason, detail)) => drops.push(DropRow::new(NAME, reason).path(&file).detail(
                    format!("source {key}, record {}: {detail}", record.position),
                )),
            }
            Ok(())
        })?;
        out.write(
            names::EXTERNAL_SAMPLES,
            &SampleRow::table_batch(names::EXTERNAL_SAMPLES, &samples)?,
        )?;
        out.write_drops(&drops)?;
        Ok(())
    }
}
