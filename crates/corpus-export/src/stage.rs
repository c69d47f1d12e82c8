//! Stage `export`: the shards in every loader format the recipe's `[export] formats` lists,
//! into `RUN/exports/FOLDER/`. One unit per (folder, shard), so cluster tasks share the work
//! and a killed export resumes shard by shard; the barrier writes each folder's card and
//! `_manifest.json` (with every file's checksum) once all its shards are done. The files are
//! the same for any task split: each shard's output depends on that shard alone.

use corpus_core::schema::names;
use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::{Begun, ExportOptions, Format};
use corpus_core::recipe::Recipe;

use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::{InputsBuilder, Stage, StageContext, StageInputs, StageSpec, UnitOutput};

const NAME: &str = "export";

#[derive(Default)]
pub struct ExportStage {
    /// Per folder, its options and what `begin` checked (once per process: finding the
    /// tokenizer hashes its file); None for a folder that already holds this export.
    begun: Mutex<BTreeMap<String, Option<(ExportOptions, Begun)>>>,
    /// `(name, sha256)` of the recipe's tokenizer, which the shards must have been made with.
    tokenizer: std::sync::OnceLock<(String, String)>,
}

/// The export options of a folder of `[export] formats`.
fn options(
    ctx: &StageContext,
    folder: &str,
    tokenizer: &(String, String),
) -> Result<ExportOptions> {
    let (name, packed) = match folder.strip_suffix("-packed") {
        Some(name) => (name, true),
        None => (folder, false),
    };
    let format = Format::parse(name)
        .ok_or_else(|| StageError::stage(NAME, format!("unknown export format `{folder}`")))?;
    Ok(ExportOptions::of_run(
        &ctx.run.root,
        format,
        packed,
        ctx.recipe.shard.sequence_length as usize,
        tokenizer.clone(),
    ))
}

fn export_error(e: crate::ExportError) -> StageError {
    StageError::stage(NAME, e.to_string())
}

impl ExportStage {
    fn begun(&self, ctx: &StageContext, folder: &str) -> Result<Option<(ExportOptions, Begun)>> {
        let mut begun = self
            .begun
            .lock()
            .map_err(|_| StageError::stage(NAME, "a thread beginning an export panicked"))?;
        if let Some(b) = begun.get(folder) {
            return Ok(b.clone());
        }
        let tokenizer = match self.tokenizer.get() {
            Some(t) => t.clone(),
            None => {
                let file = corpus_tokenize::locate(&ctx.recipe.tokenize)
                    .map_err(|e| StageError::stage(NAME, e.to_string()))?;
                self.tokenizer
                    .get_or_init(|| (file.name, file.sha256))
                    .clone()
            }
        };
        let options = options(ctx, folder, &tokenizer)?;
        // Another folder was deleted, or the recipe lists one more: the complete ones stay.
        let b = if crate::is_complete(&options).map_err(export_error)? {
            None
        } else {
            let b = crate::begin(&options).map_err(export_error)?;
            Some((options, b))
        };
        begun.insert(folder.to_string(), b.clone());
        Ok(b)
    }
}

const SPEC: StageSpec = StageSpec {
    name: NAME,
    outputs: &[],
    reads: &[names::SHARDS],
};

impl Stage for ExportStage {
    fn spec(&self) -> &'static StageSpec {
        &SPEC
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        let mut builder = InputsBuilder::new(Recipe::section_hash(&ctx.recipe.export));
        if ctx.recipe.export.formats.is_empty() {
            return Ok(builder.finish());
        }
        builder.hidden(
            "sequence_length",
            &ctx.recipe.shard.sequence_length.to_le_bytes(),
        );
        builder.table(ctx, NAME, names::SHARDS, true)?;
        Ok(builder.finish())
    }

    fn units(&self, ctx: &StageContext) -> Result<Vec<String>> {
        if ctx.recipe.export.formats.is_empty() {
            return Ok(Vec::new());
        }
        let (_, shards) = crate::shard_files(&ctx.table(names::SHARDS)?).map_err(export_error)?;
        let stems: Vec<String> = shards
            .iter()
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect();
        Ok(ctx
            .recipe
            .export
            .formats
            .iter()
            .flat_map(|folder| stems.iter().map(move |stem| format!("{folder}/{stem}")))
            .collect())
    }

    fn run_unit(&self, ctx: &StageContext, key: &str, _out: &mut UnitOutput) -> Result<()> {
        let (folder, stem) = key
            .split_once('/')
            .ok_or_else(|| StageError::stage(NAME, format!("bad unit {key}")))?;
        match self.begun(ctx, folder)? {
            Some((options, begun)) => {
                crate::export_shard(&options, &begun, stem).map_err(export_error)
            }
            None => Ok(()),
        }
    }

    fn finish_outputs(&self, ctx: &StageContext) -> Result<()> {
        for folder in &ctx.recipe.export.formats {
            let Some((options, begun)) = self.begun(ctx, folder)? else {
                continue;
            };
            let manifest = crate::finish(&options, &begun).map_err(export_error)?;
            tracing::info!("export {folder}: {}", manifest.summary());
        }
        Ok(())
    }

    fn outputs_exist(&self, ctx: &StageContext) -> Result<bool> {
        Ok(ctx.recipe.export.formats.iter().all(|folder| {
            ctx.run
                .root
                .join("exports")
                .join(folder)
                .join("_manifest.json")
                .is_file()
        }))
    }
}
