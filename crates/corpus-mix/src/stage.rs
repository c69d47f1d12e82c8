//! Stage `mix`: the plan's repeats and the first half of the out-of-core shuffle. Each copy
//! of a sample gets a seeded 64-bit key; the key's range bucket is the partition the copy is
//! written to, so `shard` sorts one bucket at a time and never holds the corpus.
//! Training buckets are partitions `0..B`, validation buckets follow (`B..B+V`).

use crate::{Available, Plan, bucket_of, buckets_for, copies, make_plan, shuffle_key};
use arrow::array::{Int64Array, StringArray};
use corpus_core::identity::Split;
use corpus_core::recipe::Recipe;
use corpus_core::rows::TokenRow;
use corpus_core::schema::names;
use corpus_core::table::{KeyedTable, column, for_each_table_batch_columns};
use std::collections::BTreeMap;

use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::{
    InputsBuilder, OutputLayout, PreparedOnce, Stage, StageContext, StageInputs, StageSpec,
    UnitOutput, repo_of_unit, repo_units,
};

const NAME: &str = "mix";

/// The plan for the run's `tokenized` table under the recipe's `[mix]`; `produced` names the
/// stages of this build (a source of another stage is not produced).
pub fn compute_plan(ctx: &StageContext, produced: &[&str]) -> Result<Plan> {
    let mut available: BTreeMap<String, Available> = BTreeMap::new();
    let mut validation = Available::default();
    let wanted = ["source", "split", "n_tokens"];
    for_each_table_batch_columns(&ctx.table(names::TOKENIZED)?, &wanted, 8192, |batch| {
        let source = column::<StringArray>(&batch, "source")?;
        let split = column::<StringArray>(&batch, "split")?;
        let n_tokens = column::<Int64Array>(&batch, "n_tokens")?;
        for row in 0..batch.num_rows() {
            let entry = if split.value(row) == Split::Validation.code() {
                &mut validation
            } else {
                available.entry(source.value(row).to_string()).or_default()
            };
            entry.samples += 1;
            entry.tokens += n_tokens.value(row) as u64;
        }
        Ok(())
    })?;
    Ok(make_plan(&ctx.recipe.mix, &available, validation, produced))
}

struct Prepared {
    plan: Plan,
    train_buckets: u32,
    validation_buckets: u32,
    tokenized: KeyedTable,
}

pub struct MixStage {
    /// The stages of this build, for the plan.
    produced: Vec<&'static str>,
    prepared: PreparedOnce<Prepared>,
}

impl MixStage {
    /// The mix of a build whose stages are `produced`.
    pub fn new(produced: &[&'static str]) -> Self {
        Self {
            produced: produced.to_vec(),
            prepared: PreparedOnce::default(),
        }
    }

    fn prepared(&self, ctx: &StageContext) -> Result<&Prepared> {
        self.prepared.get_or_prepare(NAME, || {
            let plan = compute_plan(ctx, &self.produced)?;
            if plan.shortfall() > 0 && !ctx.recipe.mix.allow_shortfall {
                return Err(StageError::stage(
                    NAME,
                    format!(
                        "the data cannot meet the recipe's budget (set [mix] allow_shortfall = true \
                         to go on with less):\n{}",
                        plan.render()
                    ),
                ));
            }
            tracing::info!("mix plan:\n{}", plan.render());
            let target = ctx.recipe.shard.target_bytes();
            let prepared = Prepared {
                train_buckets: buckets_for(plan.planned, target),
                validation_buckets: buckets_for(plan.validation.tokens, target),
                plan,
                tokenized: KeyedTable::open(&ctx.table(names::TOKENIZED)?, "repo")?,
            };
            Ok(prepared)
        })
    }
}

const SPEC: StageSpec = StageSpec {
    name: NAME,
    outputs: &[names::MIXTURE],
    reads: &[names::REPOS, names::TOKENIZED],
};

impl Stage for MixStage {
    fn spec(&self) -> &'static StageSpec {
        &SPEC
    }

    fn layout(&self, output: &'static str) -> OutputLayout {
        OutputLayout {
            prefix: "bucket",
            partitioned: true,
            ..OutputLayout::table(output)
        }
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        #[derive(serde::Serialize)]
        struct Config<'a> {
            seed: u64,
            mix: &'a corpus_core::recipe::MixOptions,
            target_mib: f64,
        }
        let config = Config {
            seed: ctx.recipe.seed,
            mix: &ctx.recipe.mix,
            target_mib: ctx.recipe.shard.target_mib,
        };
        let mut builder = InputsBuilder::new(Recipe::section_hash(&config));
        builder.table(ctx, NAME, names::TOKENIZED, true)?;
        Ok(builder.finish())
    }

    fn units(&self, ctx: &StageContext) -> Result<Vec<String>> {
        self.prepared(ctx)?;
        repo_units(ctx)
    }

    fn prepare(&self, ctx: &StageContext) -> Result<()> {
        self.prepared(ctx).map(|_| ())
    }

    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()> {
        let prepared = self.prepared(ctx)?;
        let seed = ctx.recipe.seed;
        prepared
            .tokenized
            .for_each_batch_of(repo_of_unit(key), 256, |batch| {
                let mut partitions: BTreeMap<u32, Vec<TokenRow>> = BTreeMap::new();
                for row in TokenRow::from_batch(&batch)? {
                    let validation = row.split == Split::Validation.code();
                    let n = if validation {
                        1
                    } else {
                        copies(seed, &row.sample_id, prepared.plan.repeat_of(&row.source))
                    };
                    for repeat in 0..n {
                        let key = shuffle_key(seed, &row.sample_id, repeat);
                        let partition = if validation {
                            prepared.train_buckets + bucket_of(key, prepared.validation_buckets)
                        } else {
                            bucket_of(key, prepared.train_buckets)
                        };
                        let mut copy = row.clone();
                        copy.repeat_index = i64::from(repeat);
                        copy.shuffle_key = key;
                        partitions.entry(partition).or_default().push(copy);
                    }
                }
                for (partition, rows) in partitions {
                    out.write_partition(
                        names::MIXTURE,
                        partition,
                        &TokenRow::table_batch(names::MIXTURE, &rows)?,
                    )?;
                }
                Ok(())
            })?;
        Ok(())
    }
}
