//! Stage `tokenize`: each unique curated sample encoded once with the recipe's tokenizer
//! (`input_ids = encode(prompt) + encode(response) + [<|endoftext|>]`), its split set by a
//! hash of its repository, and samples longer than `max_tokens` dropped (`too_long`).

use crate::{Encoder, TOKENIZER_INPUT};
use arrow::array::{Array, StringArray};
use corpus_core::drop_reason::DropReason;
use corpus_core::identity::Split;
use corpus_core::manifest::Manifest;
use corpus_core::recipe::Recipe;
use corpus_core::rows::TokenRow;
use corpus_core::rows::{DropRow, SampleRow};
use corpus_core::schema::names;
use corpus_core::table::{KeyedTable, column, for_each_table_batch_columns};
use std::collections::HashMap;

use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::{
    InputsBuilder, PreparedOnce, Stage, StageContext, StageInputs, StageSpec, UnitOutput,
    each_batch_of, repo_of_unit,
};

const NAME: &str = "tokenize";
/// Rows per written batch: bounds a unit's memory whatever the repository's size.
const BATCH_ROWS: usize = 256;

struct Prepared {
    encoder: Encoder,
    /// (repo, base sha) → licence at that snapshot.
    licenses: HashMap<(String, String), Option<String>>,
    /// Sample id → the repository whose copy is kept (the first in key order).
    owner: HashMap<u128, u32>,
    repos: Vec<String>,
    curated: KeyedTable,
}

#[derive(Default)]
pub struct TokenizeStage {
    prepared: PreparedOnce<Prepared>,
}

fn parse_id(hex: &str) -> u128 {
    u128::from_str_radix(hex, 16).unwrap_or_default()
}

impl TokenizeStage {
    fn prepared(&self, ctx: &StageContext) -> Result<&Prepared> {
        self.prepared.get_or_prepare(NAME, || {
            let encoder =
                Encoder::for_recipe(&ctx.recipe.tokenize).map_err(corpus_core::Error::from)?;
            let mut licenses = HashMap::new();
            // Only the three columns it needs: `patches` also holds every diff.
            let wanted = ["repo", "base_sha", "license"];
            for_each_table_batch_columns(&ctx.table(names::PATCHES)?, &wanted, 8192, |batch| {
                let repo = column::<StringArray>(&batch, "repo")?;
                let base = column::<StringArray>(&batch, "base_sha")?;
                let license = column::<StringArray>(&batch, "license")?;
                for row in 0..batch.num_rows() {
                    licenses.insert(
                        (repo.value(row).to_string(), base.value(row).to_string()),
                        (!license.is_null(row)).then(|| license.value(row).to_string()),
                    );
                }
                Ok(())
            })?;
            let mut owner: HashMap<u128, u32> = HashMap::new();
            let mut repos: Vec<String> = Vec::new();
            let curated = ctx.table(names::CURATED)?;
            for_each_table_batch_columns(&curated, &["sample_id", "repo"], 8192, |batch| {
                let ids = column::<StringArray>(&batch, "sample_id")?;
                let repo = column::<StringArray>(&batch, "repo")?;
                for row in 0..batch.num_rows() {
                    if repos.last().map(String::as_str) != Some(repo.value(row)) {
                        repos.push(repo.value(row).to_string());
                    }
                    let index = (repos.len() - 1) as u32;
                    owner.entry(parse_id(ids.value(row))).or_insert(index);
                }
                Ok(())
            })?;
            let prepared = Prepared {
                encoder,
                licenses,
                owner,
                repos,
                curated: KeyedTable::open(&ctx.table(names::CURATED)?, "repo")?,
            };
            Ok(prepared)
        })
    }
}

/// `name:sha256` of the recipe's tokenizer, without loading it.
fn tokenizer_identity(ctx: &StageContext) -> Result<String> {
    let file = crate::locate(&ctx.recipe.tokenize).map_err(corpus_core::Error::from)?;
    Ok(format!("{}:{}", file.name, file.sha256))
}

const SPEC: StageSpec = StageSpec {
    name: NAME,
    outputs: &[names::TOKENIZED],
    reads: &[names::REPOS, names::CURATED, names::PATCHES],
};

impl Stage for TokenizeStage {
    fn spec(&self) -> &'static StageSpec {
        &SPEC
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        let identity = tokenizer_identity(ctx)?;
        // Ids of two tokenizers must never mix in one run.
        if let Some(manifest) = Manifest::read(&ctx.table(names::TOKENIZED)?)?
            && let Some(entry) = manifest.stages.get(NAME)
            && let Some(earlier) = entry.inputs.get(TOKENIZER_INPUT)
            && *earlier != identity
        {
            return Err(StageError::stage(
                NAME,
                format!(
                    "{} was tokenized with {earlier}, but the recipe's tokenizer is {identity}; \
                     token ids of two tokenizers must not mix: use a new --run, or delete \
                     that table and the ones after it to re-tokenize",
                    ctx.table(names::TOKENIZED)?.display()
                ),
            ));
        }
        let mut builder = InputsBuilder::new(Recipe::section_hash(&ctx.recipe.tokenize));
        builder.input(TOKENIZER_INPUT, &identity);
        builder.table(ctx, NAME, names::CURATED, true)?;
        builder.table(ctx, NAME, names::PATCHES, true)?;
        Ok(builder.finish())
    }

    fn prepare(&self, ctx: &StageContext) -> Result<()> {
        self.prepared(ctx).map(|_| ())
    }

    fn run_unit(&self, ctx: &StageContext, unit: &str, out: &mut UnitOutput) -> Result<()> {
        let key = repo_of_unit(unit);
        let prepared = self.prepared(ctx)?;
        let options = &ctx.recipe.tokenize;
        let split = split_of(key, options.validation_fraction);
        let mut seen = std::collections::HashSet::new();
        let mut rows: Vec<TokenRow> = Vec::new();
        let mut drops = Vec::new();
        each_batch_of(&prepared.curated, key, BATCH_ROWS, |batch| {
            for sample in SampleRow::from_batch(&batch)? {
                let id = parse_id(&sample.sample_id);
                let owner = prepared
                    .owner
                    .get(&id)
                    .map(|i| prepared.repos[*i as usize].as_str());
                if owner != Some(key) || !seen.insert(id) {
                    drops.push(
                        DropRow::new(NAME, DropReason::DuplicateSample)
                            .repo(key)
                            .pr(sample.pr_number)
                            .sample(&sample.sample_id)
                            .detail(format!(
                                "{}: the same text is kept in {}",
                                sample.sample_kind,
                                owner.unwrap_or(key)
                            )),
                    );
                    continue;
                }
                let (ids, prompt_tokens) = match prepared
                    .encoder
                    .encode_sample(&sample.prompt, &sample.response)
                {
                    Ok(encoded) => encoded,
                    Err(e) => {
                        return Err(StageError::stage(
                            NAME,
                            format!("sample {} of {key}: {e}", sample.sample_id),
                        ));
                    }
                };
                if ids.len() as u64 > options.max_tokens {
                    let mut drop = DropRow::new(NAME, DropReason::TooLong)
                        .repo(key)
                        .pr(sample.pr_number)
                        .sample(&sample.sample_id)
                        .detail(format!(
                            "{}: {} tokens, max_tokens {}",
                            sample.sample_kind,
                            ids.len(),
                            options.max_tokens
                        ));
                    drop.n_tokens = Some(ids.len() as i64);
                    drops.push(drop);
                    continue;
                }
                rows.push(TokenRow {
                    license: prepared
                        .licenses
                        .get(&(key.to_string(), sample.base_sha.clone()))
                        .cloned()
                        .flatten(),
                    sample_id: sample.sample_id,
                    sample_kind: sample.sample_kind,
                    source: sample.source,
                    repo: sample.repo,
                    pr_number: sample.pr_number,
                    text: sample.text,
                    n_tokens: ids.len() as i64,
                    input_ids: ids,
                    prompt_tokens: prompt_tokens as i64,
                    repeat_index: 0,
                    split: split.code().to_string(),
                    shuffle_key: 0,
                });
            }
            out.write(
                names::TOKENIZED,
                &TokenRow::table_batch(names::TOKENIZED, &rows)?,
            )?;
            rows.clear();
            Ok(())
        })?;
        out.write_drops(&drops)?;
        Ok(())
    }
}

/// `validation` for the held-out share of repositories (by a hash of the name, so a
/// repository is wholly in one split), else `train`; rows without a repository train.
pub fn split_of(repo: &str, validation_fraction: f64) -> Split {
    if repo.is_empty() {
        return Split::Train;
    }
    let draw = xxhash_rust::xxh3::xxh3_64(repo.as_bytes()) as f64 / (u64::MAX as f64 + 1.0);
    if draw < validation_fraction {
        Split::Validation
    } else {
        Split::Train
    }
}

#[cfg(test)]
mod split_tests {
    use super::*;

    #[test]
    fn splits_by_repository() {
        let held: usize = (0..10_000)
            .filter(|i| split_of(&format!("o/r{i}"), 0.05) == Split::Validation)
            .count();
        assert!((400..600).contains(&held), "{held}");
        assert_eq!(split_of("", 0.99), Split::Train);
        assert_eq!(split_of("o/r1", 0.0), Split::Train);
    }
}
