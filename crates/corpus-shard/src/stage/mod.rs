//! Stage `shard`: each bucket of the mixture sorted by its shuffle keys into one shard
//! (`shard-NNNNN.parquet` for training, `validation-NNNNN.parquet` for the held-out
//! repositories). Buckets are key ranges, so the shards in order are the global shuffle; a
//! shard's size is the bucket's (the recipe's `[shard] target_mib` of ids), which is also
//! what one unit holds in memory: the bucket once, its rows gathered in shuffle order a row
//! group at a time.

use corpus_core::identity::Split;
use corpus_core::schema::names;
mod certificate;

use std::collections::BTreeMap;

use crate::{part_tokens, sort_bucket};
use arrow::array::StringArray;
use corpus_core::manifest::{Manifest, TokenSummary};
use corpus_core::recipe::Recipe;
use corpus_core::table::{WriterOptions, column, for_each_batch};

use corpus_stage::error::{Result, StageError};
use corpus_stage::fault;
use corpus_stage::stage::{
    InputsBuilder, OutputLayout, Stage, StageContext, StageInputs, StageSpec, UnitOutput,
};
use corpus_tokenize::TOKENIZER_INPUT;

const NAME: &str = "shard";
const PARTITION_PREFIX: &str = "bucket-";

#[derive(Default)]
pub struct ShardStage;

/// Mixture parts of each partition, from the mixture's manifest.
fn partitions(ctx: &StageContext) -> Result<BTreeMap<u32, Vec<String>>> {
    let manifest = Manifest::read(&ctx.table(names::MIXTURE)?)?
        .ok_or_else(|| StageError::stage(NAME, "table mixture is missing: run mix first"))?;
    let mut out: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for part in manifest.parts {
        let Some(rest) = part.file.strip_prefix(PARTITION_PREFIX) else {
            continue;
        };
        let partition = rest
            .split('-')
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .ok_or_else(|| {
                StageError::stage(NAME, format!("mixture part {} has no bucket", part.file))
            })?;
        out.entry(partition).or_default().push(part.file);
    }
    Ok(out)
}

const SPEC: StageSpec = StageSpec {
    name: NAME,
    outputs: &[names::SHARDS, "validation_shards"],
    reads: &[
        names::MIXTURE,
        names::TOKENIZED,
        names::DECONTAM_REPORT,
        names::DECONTAMINATED,
        names::PATCHES,
        names::COMMIT_PACKS,
    ],
};

impl Stage for ShardStage {
    fn spec(&self) -> &'static StageSpec {
        &SPEC
    }

    fn layout(&self, output: &'static str) -> OutputLayout {
        OutputLayout {
            table: names::SHARDS,
            prefix: if output == names::SHARDS {
                "shard"
            } else {
                "validation"
            },
            partitioned: false,
            adopt_all: true,
        }
    }

    fn writer_options(&self, ctx: &StageContext, _output: &str) -> WriterOptions {
        WriterOptions {
            // One bucket, one shard: the bucket already has the target size.
            max_part_bytes: u64::MAX,
            max_row_group_rows: ctx.recipe.shard.row_group_rows.max(1) as usize,
            ..ctx.recipe.tables.writer_options()
        }
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        let mut builder = InputsBuilder::new(Recipe::section_hash(&ctx.recipe.shard));
        builder.table(ctx, NAME, names::MIXTURE, true)?;
        // The manifest's decontamination certificate reads these.
        builder.hidden(
            "decontam",
            Recipe::section_hash(&ctx.recipe.decontam).as_bytes(),
        );
        builder.hidden(
            "registry",
            corpus_core::benchmark::registry_digest().as_bytes(),
        );
        for table in [
            names::DECONTAM_REPORT,
            names::DECONTAMINATED,
            names::PATCHES,
            names::COMMIT_PACKS,
        ] {
            builder.table(ctx, NAME, table, false)?;
        }
        Ok(builder.finish())
    }

    fn units(&self, ctx: &StageContext) -> Result<Vec<String>> {
        Ok(partitions(ctx)?
            .into_keys()
            .map(|p| format!("{p:05}"))
            .collect())
    }

    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()> {
        let partition: u32 = key
            .parse()
            .map_err(|_| StageError::stage(NAME, format!("unit {key} is not a bucket")))?;
        let files = partitions(ctx)?.remove(&partition).unwrap_or_default();
        let dir = ctx.table(names::MIXTURE)?;
        let mut batches = Vec::new();
        for file in files {
            for_each_batch(&dir.join(file), 8192, |batch| {
                batches.push(batch);
                Ok(())
            })?;
        }
        let sorted = sort_bucket(&batches)?;
        if sorted.num_rows() == 0 {
            return Ok(());
        }
        let first = sorted.slice(0, 1)?;
        let split = column::<StringArray>(&first, "split")?.value(0).to_string();
        let output = if split == Split::Validation.code() {
            "validation_shards"
        } else {
            names::SHARDS
        };
        // Row by row groups, so the writer cuts row groups where the recipe says.
        let step = ctx.recipe.shard.row_group_rows.max(1) as usize;
        let mut offset = 0;
        while offset < sorted.num_rows() {
            let len = step.min(sorted.num_rows() - offset);
            out.write(output, &sorted.slice(offset, len)?)?;
            fault::check(NAME, "write")?;
            offset += len;
        }
        Ok(())
    }

    fn annotate(&self, ctx: &StageContext, table: &str, manifest: &mut Manifest) -> Result<()> {
        if table != names::SHARDS {
            return Ok(());
        }
        let tokenized = Manifest::read(&ctx.table(names::TOKENIZED)?)?
            .ok_or_else(|| StageError::stage(NAME, "table tokenized is missing"))?;
        let identity = tokenized
            .stages
            .get("tokenize")
            .and_then(|e| e.inputs.get(TOKENIZER_INPUT))
            .cloned()
            .unwrap_or_default();
        let (tokenizer, sha256) = identity.rsplit_once(':').unwrap_or((&identity, ""));
        let mut summary = TokenSummary {
            tokenizer: tokenizer.to_string(),
            tokenizer_sha256: sha256.to_string(),
            recipe_hash: corpus_core::hash::hex64(ctx.recipe.to_toml()?.as_bytes()),
            total: 0,
            per_source: BTreeMap::new(),
        };
        let dir = ctx.table(table)?;
        for part in &mut manifest.parts {
            let counted = part_tokens(&dir.join(&part.file))?;
            part.tokens = Some(counted.total);
            summary.total += counted.total;
            for ((source, split), n) in counted.per_source {
                *summary
                    .per_source
                    .entry(source)
                    .or_default()
                    .entry(split)
                    .or_default() += n;
            }
        }
        manifest.tokens = Some(summary);
        certificate::stamp(ctx, manifest)
    }
}
