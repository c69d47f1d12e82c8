//! Stage `curate`: quality rules, secrets and PR deduplication over `decontaminated`, writing
//! `curated`. Dedup needs every PR at once: a barrier (`crate::dedup_barrier`) runs once
//! per run over `patches` within the recipe's memory budget and writes its verdicts to disk;
//! each repository unit then reads its own verdicts and drops the samples of PRs that another
//! PR duplicates, naming the survivor.

use corpus_core::drop_reason::DropReason;
use corpus_core::schema::names;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::dedup_barrier::{DedupBuilder, DedupSettings, Verdicts};
use crate::quality::{check_pr, check_sample, title_patterns};
use crate::secrets::find_secrets;
use arrow::array::{Array, Int64Array, StringArray, TimestampSecondArray};
use corpus_core::recipe::Recipe;
use corpus_core::rows::{DropRow, PatchRow, SampleRow};
use corpus_core::table::{KeyedTable, column, for_each_table_batch_columns};

use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::{
    InputsBuilder, NO_REPO_UNIT, PreparedOnce, Stage, StageContext, StageInputs, StageSpec,
    UnitOutput, repo_of_unit,
};
use corpus_tokenize::drop_tokens::{DropTokens, record_identity};

const NAME: &str = "curate";
const INPUTS: &[&str] = &[names::REPOS, names::PATCHES, names::DECONTAMINATED];

struct Prepared {
    /// The dedup barrier's verdicts (None when both dedups are off).
    verdicts: Option<Verdicts>,
    titles: Vec<Regex>,
    patches: KeyedTable,
    samples: KeyedTable,
    tokens: DropTokens,
}

/// What a repository unit knows of its own PRs from `patches`.
#[derive(Default)]
struct RepoPatches {
    /// pr → a PR-level rule it breaks.
    pr_rules: HashMap<i64, (DropReason, String)>,
    /// base sha → the licence at that snapshot (None: no licence file).
    licenses: HashMap<String, Option<String>>,
}

#[derive(Default)]
pub struct CurateStage {
    /// One thread of a process prepares (the dedup barrier writes files); the others wait.
    prepared: PreparedOnce<Prepared>,
}

/// Run the dedup barrier over every PR of `patches`, unless another task already has: its
/// verdicts land in `RUN/_work/curate/_dedup/` (cleared with the stage's units).
fn dedup_verdicts(ctx: &StageContext) -> Result<Option<Verdicts>> {
    let options = &ctx.recipe.curate;
    if !options.dedup && !options.near_dedup {
        return Ok(None);
    }
    let dir = ctx.run.work(NAME).join("_dedup");
    if let Some(verdicts) = Verdicts::open(&dir)? {
        return Ok(Some(verdicts));
    }
    let scratch = ctx
        .run
        .work(NAME)
        .join(format!("_dedup-scratch-{}", std::process::id()));
    let settings = DedupSettings {
        exact: options.dedup,
        near: options.near_dedup,
        permutations: options.minhash_permutations,
        bands: options.minhash_bands,
        shingle_words: options.shingle_words,
        threshold: options.near_threshold,
        memory_bytes: (options.dedup_memory_mib * 1_048_576.0) as usize,
    };
    let started = std::time::Instant::now();
    let mut builder = DedupBuilder::new(&scratch, settings)?;
    let wanted = ["repo", "pr_number", "merged_at", "title", "body", "diff"];
    for_each_table_batch_columns(&ctx.table(names::PATCHES)?, &wanted, 256, |batch| {
        let repo = column::<StringArray>(&batch, "repo")?;
        let pr_number = column::<Int64Array>(&batch, "pr_number")?;
        let merged_at = column::<TimestampSecondArray>(&batch, "merged_at")?;
        let title = column::<StringArray>(&batch, "title")?;
        let body = column::<StringArray>(&batch, "body")?;
        let diff = column::<StringArray>(&batch, "diff")?;
        for row in 0..batch.num_rows() {
            if pr_number.is_null(row) {
                continue;
            }
            let problem = format!("{}\n{}", title.value(row), body.value(row));
            builder.add(
                repo.value(row),
                pr_number.value(row),
                merged_at.value(row),
                &problem,
                diff.value(row),
            )?;
        }
        Ok(())
    })?;
    let stats = builder.finish(&dir)?;
    std::fs::remove_dir_all(&scratch).ok();
    tracing::info!(
        "dedup barrier: {} PRs, {} exact and {} near duplicates, {} runs spilled, sorter peak {:.1} MiB of {} MiB, {:.2} s",
        stats.prs,
        stats.exact_duplicates,
        stats.near_duplicates,
        stats.spilled_runs,
        stats.peak_buffer_bytes as f64 / 1_048_576.0,
        options.dedup_memory_mib,
        started.elapsed().as_secs_f64()
    );
    Verdicts::open(&dir)?
        .map(Some)
        .ok_or_else(|| StageError::stage(NAME, "the dedup verdicts were not written"))
}

impl CurateStage {
    fn prepared(&self, ctx: &StageContext) -> Result<&Prepared> {
        self.prepared.get_or_prepare(NAME, || {
            let titles: Vec<Regex> = title_patterns(&ctx.recipe.curate)
                .map_err(|e| StageError::stage(NAME, format!("auto_title_patterns: {e}")))?;
            let prepared = Prepared {
                verdicts: dedup_verdicts(ctx)?,
                titles,
                patches: KeyedTable::open(&ctx.table(names::PATCHES)?, "repo")?,
                samples: KeyedTable::open(&ctx.table(names::DECONTAMINATED)?, "repo")?,
                tokens: DropTokens::new(ctx, NAME),
            };
            Ok(prepared)
        })
    }

    /// The PR rules and licences of one repository's patches.
    fn repo_patches(
        &self,
        ctx: &StageContext,
        prepared: &Prepared,
        repo: &str,
    ) -> Result<RepoPatches> {
        let options = &ctx.recipe.curate;
        let mut out = RepoPatches::default();
        prepared.patches.for_each_batch_of(repo, 256, |batch| {
            for patch in PatchRow::from_batch(&batch)? {
                if !options.licenses.is_empty() {
                    out.licenses
                        .insert(patch.base_sha.clone(), patch.license.clone());
                }
                if let Some(number) = patch.pr_number
                    && let Some(rule) =
                        check_pr(&patch.title, &patch.body, options, &prepared.titles)
                {
                    out.pr_rules.insert(number, rule);
                }
            }
            Ok(())
        })?;
        Ok(out)
    }
}

/// External samples: the sample rules, secrets (`secret_in_content`), and exact dedup among
/// themselves on their whitespace-normalized text (`duplicate_external`, naming the first).
fn external_unit(
    prepared: &Prepared,
    options: &corpus_core::recipe::CurateOptions,
    out: &mut UnitOutput,
) -> Result<()> {
    let mut first: HashMap<u128, String> = HashMap::new();
    let mut kept = Vec::new();
    let mut drops = Vec::new();
    prepared
        .samples
        .for_each_batch_of(repo_of_unit(NO_REPO_UNIT), 512, |batch| {
            for sample in SampleRow::from_batch(&batch)? {
                let normalized: String =
                    sample.text.split_whitespace().collect::<Vec<_>>().join(" ");
                let key = xxhash_rust::xxh3::xxh3_128(normalized.as_bytes());
                let removal = if let Some(kept_id) = first.get(&key) {
                    Some((
                        DropReason::DuplicateExternal,
                        format!("same text as {kept_id}"),
                    ))
                } else if options.secrets
                    && let Some(found) = find_secrets(&sample.text).first()
                {
                    Some((
                        DropReason::SecretInContent,
                        format!("{} on line {}", found.kind, found.line),
                    ))
                } else {
                    check_sample(&sample.text, &sample.response, options)
                };
                match removal {
                    Some((reason, detail)) => {
                        let mut drop = DropRow::new(NAME, reason)
                            .sample(&sample.sample_id)
                            .detail(format!("external {}: {detail}", sample.source));
                        drop.n_tokens = prepared.tokens.count(NAME, &sample)?;
                        drops.push(drop);
                    }
                    None => {
                        first.insert(key, sample.sample_id.clone());
                        kept.push(sample);
                    }
                }
            }
            Ok(())
        })?;
    write_unit(out, &kept, &drops)
}

/// A unit's kept samples and its drops.
fn write_unit(out: &mut UnitOutput, kept: &[SampleRow], drops: &[DropRow]) -> Result<()> {
    out.write(
        names::CURATED,
        &SampleRow::table_batch(names::CURATED, kept)?,
    )?;
    out.write_drops(drops)?;
    Ok(())
}

/// The licence rule, when the recipe has an allow-list.
fn license_rule(
    allowed: &[String],
    licenses: &HashMap<String, Option<String>>,
    base_sha: &str,
) -> Option<(DropReason, String)> {
    if allowed.is_empty() {
        return None;
    }
    match licenses.get(base_sha) {
        Some(Some(spdx)) if allowed.iter().any(|a| a.eq_ignore_ascii_case(spdx)) => None,
        Some(Some(spdx)) => Some((
            DropReason::LicenseNotAllowed,
            format!("{spdx} is not in the allow-list"),
        )),
        _ => Some((
            DropReason::NoLicense,
            format!("no licence file at {base_sha}"),
        )),
    }
}

const SPEC: StageSpec = StageSpec {
    name: NAME,
    outputs: &[names::CURATED],
    reads: INPUTS,
};

impl Stage for CurateStage {
    fn spec(&self) -> &'static StageSpec {
        &SPEC
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        let mut builder = InputsBuilder::new(Recipe::section_hash(&ctx.recipe.curate));
        for table in INPUTS {
            builder.table(ctx, NAME, table, true)?;
        }
        record_identity(ctx, &mut builder);
        Ok(builder.finish())
    }

    fn prepare(&self, ctx: &StageContext) -> Result<()> {
        self.prepared(ctx).map(|_| ())
    }

    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()> {
        let prepared = self.prepared(ctx)?;
        let options = &ctx.recipe.curate;
        if key == NO_REPO_UNIT {
            return external_unit(prepared, options, out);
        }
        let own = self.repo_patches(ctx, prepared, key)?;
        let verdicts = match &prepared.verdicts {
            Some(v) => v.of_repo(key)?,
            None => HashMap::new(),
        };
        let mut samples: Vec<SampleRow> = Vec::new();
        prepared.samples.for_each_batch_of(key, 512, |batch| {
            samples.extend(SampleRow::from_batch(&batch)?);
            Ok(())
        })?;
        // A secret anywhere in a PR's samples (its patch or touched files) drops the whole PR:
        // scrubbing code would break the exact round trip.
        let mut secret_prs: BTreeMap<Option<i64>, String> = BTreeMap::new();
        let mut secret_samples: BTreeSet<String> = BTreeSet::new();
        if options.secrets {
            for sample in &samples {
                if let Some(found) = find_secrets(&sample.text).first() {
                    let where_ = format!(
                        "{} on line {} of a {} sample",
                        found.kind, found.line, sample.sample_kind
                    );
                    secret_samples.insert(sample.sample_id.clone());
                    if sample.pr_number.is_some() {
                        secret_prs.entry(sample.pr_number).or_insert(where_);
                    }
                }
            }
        }
        let mut kept = Vec::new();
        let mut drops = Vec::new();
        for sample in samples {
            let license = license_rule(&options.licenses, &own.licenses, &sample.base_sha);
            let removal = if license.is_some() {
                license
            } else if let Some(rule) = sample.pr_number.and_then(|n| own.pr_rules.get(&n)) {
                Some((rule.0, rule.1.clone()))
            } else if let Some(v) = sample.pr_number.and_then(|n| verdicts.get(&n)) {
                let survivor = format!("{}#{}", v.survivor_repo, v.survivor_pr);
                Some(if v.reason == DropReason::DuplicatePr {
                    (v.reason, format!("duplicate of {survivor}"))
                } else {
                    (
                        v.reason,
                        format!(
                            "near duplicate of {survivor} (estimated similarity {:.2})",
                            v.similarity
                        ),
                    )
                })
            } else if let Some(where_) = secret_prs
                .get(&sample.pr_number)
                .filter(|_| sample.pr_number.is_some())
            {
                Some((DropReason::SecretInPatch, where_.clone()))
            } else if secret_samples.contains(&sample.sample_id) {
                Some((
                    DropReason::SecretInPatch,
                    "a secret in this document".to_string(),
                ))
            } else {
                check_sample(&sample.text, &sample.response, options)
            };
            match removal {
                Some((reason, detail)) => {
                    let mut drop = DropRow::new(NAME, reason)
                        .repo(key)
                        .pr(sample.pr_number)
                        .sample(&sample.sample_id)
                        .detail(format!("{}: {detail}", sample.sample_kind));
                    drop.n_tokens = prepared.tokens.count(NAME, &sample)?;
                    drops.push(drop);
                }
                None => kept.push(sample),
            }
        }
        write_unit(out, &kept, &drops)
    }
}
