//! Stage `curate`: quality rules, secrets and exact PR deduplication over `decontaminated`,
//! writing `curated`. Dedup needs every PR at once: its keys are computed once per run from
//! `patches` (a few dozen bytes per PR), then each repository unit drops the samples of its
//! PRs that another PR duplicates, naming the survivor.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use regex::Regex;

use corpus_core::recipe::Recipe;
use corpus_core::rows::{
    DropRow, SampleRow, patches_from_batch, sample_table_batch, samples_from_batch,
};
use corpus_core::table::{KeyedTable, for_each_table_batch};
use corpus_curate::dedup::{PrKey, content_key, dedup_text, duplicates};
use corpus_curate::minhash::{MinHasher, near_duplicate_clusters};
use corpus_curate::quality::{check_pr, check_sample, title_patterns};
use corpus_curate::secrets::find_secrets;

use crate::error::{Result, RunnerError};
use crate::stage::{
    InputsBuilder, NO_REPO_UNIT, Stage, StageContext, StageInputs, UnitOutput, repo_of_unit,
    repo_units,
};

const NAME: &str = "curate";
const INPUTS: &[&str] = &["repos", "patches", "decontaminated"];

struct Prepared {
    /// (repo, pr) → its survivor, for PRs another PR duplicates exactly.
    duplicates: HashMap<(String, i64), (String, i64)>,
    /// (repo, pr) → its survivor and the estimated similarity, for near duplicates.
    near: HashMap<(String, i64), ((String, i64), f64)>,
    /// (repo, pr) → a PR-level rule it breaks.
    pr_rules: HashMap<(String, i64), (&'static str, String)>,
    /// (repo, base sha) → the licence at that snapshot (None: no licence file).
    licenses: HashMap<(String, String), Option<String>>,
    samples: KeyedTable,
}

#[derive(Default)]
pub struct CurateStage {
    prepared: OnceLock<Prepared>,
}

impl CurateStage {
    fn prepared(&self, ctx: &StageContext) -> Result<&Prepared> {
        if let Some(p) = self.prepared.get() {
            return Ok(p);
        }
        let options = &ctx.recipe.curate;
        let titles: Vec<Regex> = title_patterns(options)
            .map_err(|e| RunnerError::stage(NAME, format!("auto_title_patterns: {e}")))?;
        let mut keys = Vec::new();
        let mut signatures = Vec::new();
        let hasher = MinHasher::new(options.minhash_permutations, options.shingle_words);
        let mut pr_rules = HashMap::new();
        let mut licenses = HashMap::new();
        for_each_table_batch(&ctx.run.table("patches"), 256, |batch| {
            for patch in patches_from_batch(&batch)? {
                if !options.licenses.is_empty() {
                    licenses.insert(
                        (patch.repo.clone(), patch.base_sha.clone()),
                        patch.license.clone(),
                    );
                }
                let Some(number) = patch.pr_number else {
                    continue;
                };
                if let Some(rule) = check_pr(&patch.title, &patch.body, options, &titles) {
                    pr_rules.insert((patch.repo.clone(), number), rule);
                }
                let problem = format!("{}\n{}", patch.title, patch.body);
                if options.near_dedup {
                    signatures.push(hasher.signature(&dedup_text(&problem, &patch.diff)));
                }
                keys.push(PrKey {
                    content: content_key(&problem, &patch.diff),
                    repo: patch.repo,
                    pr_number: number,
                    merged_at: patch.merged_at,
                });
            }
            Ok(())
        })?;
        let duplicates = if options.dedup {
            duplicates(&keys)
        } else {
            HashMap::new()
        };
        let mut near = HashMap::new();
        if options.near_dedup {
            // Survivor order: the smallest (merged_at, repo, pr_number) first.
            let mut order: Vec<usize> = (0..keys.len()).collect();
            order.sort_by(|&a, &b| {
                let key = |i: usize| (keys[i].merged_at, &keys[i].repo, keys[i].pr_number);
                key(a).cmp(&key(b))
            });
            let ordered: Vec<Vec<u64>> = order.iter().map(|&i| signatures[i].clone()).collect();
            drop(signatures);
            let clusters =
                near_duplicate_clusters(&ordered, options.minhash_bands, options.near_threshold);
            for (member, first) in clusters {
                let (m, f) = (&keys[order[member]], &keys[order[first]]);
                let similarity =
                    corpus_curate::minhash::similarity(&ordered[member], &ordered[first]);
                near.insert(
                    (m.repo.clone(), m.pr_number),
                    ((f.repo.clone(), f.pr_number), similarity),
                );
            }
        }
        let prepared = Prepared {
            duplicates,
            near,
            pr_rules,
            licenses,
            samples: KeyedTable::open(&ctx.run.table("decontaminated"), "repo")?,
        };
        Ok(self.prepared.get_or_init(|| prepared))
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
            for sample in samples_from_batch(&batch)? {
                let normalized: String =
                    sample.text.split_whitespace().collect::<Vec<_>>().join(" ");
                let key = xxhash_rust::xxh3::xxh3_128(normalized.as_bytes());
                let removal = if let Some(kept_id) = first.get(&key) {
                    Some(("duplicate_external", format!("same text as {kept_id}")))
                } else if options.secrets
                    && let Some(found) = find_secrets(&sample.text).first()
                {
                    Some((
                        "secret_in_content",
                        format!("{} on line {}", found.kind, found.line),
                    ))
                } else {
                    check_sample(&sample.text, &sample.response, options)
                };
                match removal {
                    Some((reason, detail)) => drops.push(
                        DropRow::new(NAME, reason)
                            .sample(&sample.sample_id)
                            .detail(format!("external {}: {detail}", sample.source)),
                    ),
                    None => {
                        first.insert(key, sample.sample_id.clone());
                        kept.push(sample);
                    }
                }
            }
            Ok(())
        })?;
    out.write("curated", &sample_table_batch("curated", &kept)?)?;
    out.write_drops(&drops)?;
    Ok(())
}

/// The licence rule, when the recipe has an allow-list.
fn license_rule(
    allowed: &[String],
    licenses: &HashMap<(String, String), Option<String>>,
    repo: &str,
    base_sha: &str,
) -> Option<(&'static str, String)> {
    if allowed.is_empty() {
        return None;
    }
    match licenses.get(&(repo.to_string(), base_sha.to_string())) {
        Some(Some(spdx)) if allowed.iter().any(|a| a.eq_ignore_ascii_case(spdx)) => None,
        Some(Some(spdx)) => Some((
            "license_not_allowed",
            format!("{spdx} is not in the allow-list"),
        )),
        _ => Some(("no_license", format!("no licence file at {base_sha}"))),
    }
}

impl Stage for CurateStage {
    fn name(&self) -> &'static str {
        NAME
    }

    fn outputs(&self) -> &'static [&'static str] {
        &["curated"]
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        let mut builder = InputsBuilder::new(Recipe::section_hash(&ctx.recipe.curate));
        for table in INPUTS {
            builder.table(ctx, NAME, table, true)?;
        }
        Ok(builder.finish())
    }

    fn units(&self, ctx: &StageContext) -> Result<Vec<String>> {
        repo_units(ctx)
    }

    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()> {
        let prepared = self.prepared(ctx)?;
        let options = &ctx.recipe.curate;
        if key == NO_REPO_UNIT {
            return external_unit(prepared, options, out);
        }
        let mut samples: Vec<SampleRow> = Vec::new();
        prepared.samples.for_each_batch_of(key, 512, |batch| {
            samples.extend(samples_from_batch(&batch)?);
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
            let pr_key = sample.pr_number.map(|n| (key.to_string(), n));
            let license =
                license_rule(&options.licenses, &prepared.licenses, key, &sample.base_sha);
            let removal = if license.is_some() {
                license
            } else if let Some(rule) = pr_key.as_ref().and_then(|k| prepared.pr_rules.get(k)) {
                Some((rule.0, rule.1.clone()))
            } else if let Some((repo, number)) =
                pr_key.as_ref().and_then(|k| prepared.duplicates.get(k))
            {
                Some(("duplicate_pr", format!("duplicate of {repo}#{number}")))
            } else if let Some(((repo, number), similarity)) =
                pr_key.as_ref().and_then(|k| prepared.near.get(k))
            {
                Some((
                    "near_duplicate_pr",
                    format!(
                        "near duplicate of {repo}#{number} (estimated similarity {similarity:.2})"
                    ),
                ))
            } else if let Some(where_) = secret_prs
                .get(&sample.pr_number)
                .filter(|_| sample.pr_number.is_some())
            {
                Some(("secret_in_patch", where_.clone()))
            } else if secret_samples.contains(&sample.sample_id) {
                Some(("secret_in_patch", "a secret in this document".to_string()))
            } else {
                check_sample(&sample.text, &sample.response, options)
            };
            match removal {
                Some((reason, detail)) => drops.push(
                    DropRow::new(NAME, reason)
                        .repo(key)
                        .pr(sample.pr_number)
                        .sample(&sample.sample_id)
                        .detail(format!("{}: {detail}", sample.sample_kind)),
                ),
                None => kept.push(sample),
            }
        }
        out.write("curated", &sample_table_batch("curated", &kept)?)?;
        out.write_drops(&drops)?;
        Ok(())
    }
}
