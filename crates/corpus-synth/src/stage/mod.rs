//! Stage `synthesize`: agent trajectories from the run's PRs (`docs/synthetic.md`). One
//! unit per repository: each PR with its commits goes through the recipe's engine once per
//! variant; a trajectory is kept in `trajectories` (the canonical record) and rendered into
//! `synthetic_samples` (kind and source `synthetic_agentic`). A PR the engine cannot serve
//! is one `drops` row with the engine's reason.

use corpus_core::identity::{ModelRole, SampleKind};
use corpus_core::schema::names;
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::emulator::ResultCache;
use crate::model::ModelEngine;
use crate::model::client::ChatClient;
use crate::render::Renderer;
use crate::tools::ToolFamily;
use corpus_agentless::samples::{check_pr, localizations, problem_and_discussion};
use corpus_agentless::templates::Templates;
use corpus_core::recipe::Recipe;
use corpus_core::rows::{PatchRow, RepoRow, SampleRow, TrajectoryRow};
use corpus_core::table::KeyedTable;

use corpus_agentless::prompt_inputs::{load_templates, prompt_inputs, pulls_of};
use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::{
    InputsBuilder, PreparedOnce, Stage, StageContext, StageInputs, StageSpec, UnitOutput,
    each_batch_of, read_repos,
};

mod jobs;
mod packs;
mod rows;
mod share;
mod usage;

use jobs::PrData;
use packs::SpilledPacks;
use rows::PrUnit;
use usage::{Tally, UnitUsage};

pub(crate) const NAME: &str = "synthesize";
pub const KIND: SampleKind = SampleKind::SyntheticAgentic;
pub const REASONING_KIND: SampleKind = SampleKind::SyntheticReasoning;

struct Prepared {
    repos: std::collections::BTreeMap<String, RepoRow>,
    patches: KeyedTable,
    packs: KeyedTable,
    pulls: Option<KeyedTable>,
    templates: Templates,
    added_tokens: corpus_tokenize::AddedTokens,
    /// The model engine's endpoint (`engine = "model"`).
    client: Option<ChatClient>,
}

#[derive(Default)]
pub struct SynthesizeStage {
    prepared: PreparedOnce<Prepared>,
}

impl SynthesizeStage {
    fn prepared(&self, ctx: &StageContext) -> Result<&Prepared> {
        self.prepared.get_or_prepare(NAME, || {
            let prepared = Prepared {
                repos: read_repos(ctx)?,
                patches: KeyedTable::open(&ctx.table(names::PATCHES)?, "repo")?,
                packs: KeyedTable::open(&ctx.table(names::COMMIT_PACKS)?, "repo")?,
                pulls: KeyedTable::open_if_present(&ctx.table(names::PULLS)?, "repo")?,
                templates: load_templates(ctx.recipe, NAME)?,
                added_tokens: corpus_tokenize::AddedTokens::new(
                    corpus_tokenize::added_tokens_of_recipe(&ctx.recipe.tokenize)?,
                ),
                client: (ctx.recipe.synthesize.engine == "model")
                    .then(|| ChatClient::new(&ctx.recipe.synthesize.model, model_cache_dir(ctx))),
            };
            Ok(prepared)
        })
    }
}

const SPEC: StageSpec = StageSpec {
    name: NAME,
    outputs: &[names::TRAJECTORIES, names::SYNTHETIC_SAMPLES],
    reads: &[
        names::REPOS,
        names::PATCHES,
        names::COMMIT_PACKS,
        names::PULLS,
    ],
};

impl Stage for SynthesizeStage {
    fn spec(&self) -> &'static StageSpec {
        &SPEC
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        // The reasoning rows answer `format`'s localization prompts: its rules and templates
        // are inputs too.
        let config = Recipe::section_hash(&(
            &ctx.recipe.synthesize,
            ctx.recipe.seed,
            &ctx.recipe.format,
            &ctx.recipe.extract,
        ));
        let mut builder = InputsBuilder::new(config);
        if ctx.recipe.synthesize.enabled {
            for table in [names::REPOS, names::PATCHES, names::COMMIT_PACKS] {
                builder.table(ctx, NAME, table, true)?;
            }
            builder.table(ctx, NAME, names::PULLS, false)?;
            prompt_inputs(&mut builder, ctx, NAME)?;
        }
        Ok(builder.finish())
    }

    fn units(&self, ctx: &StageContext) -> Result<Vec<String>> {
        if !ctx.recipe.synthesize.enabled {
            return Ok(Vec::new());
        }
        Ok(read_repos(ctx)?
            .into_values()
            .filter(|row| row.skipped_reason.is_none() && row.path.is_some())
            .map(|row| row.repo)
            .collect())
    }

    fn progress(&self) -> Option<String> {
        let client = self.prepared.get()?.client.as_ref()?;
        Some(format!("model: {}", client.stats.line()))
    }

    fn prepare(&self, ctx: &StageContext) -> Result<()> {
        self.prepared(ctx).map(|_| ())
    }

    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()> {
        let prepared = self.prepared(ctx)?;
        let options = &ctx.recipe.synthesize;
        let Some(path) = prepared.repos.get(key).and_then(|r| r.path.clone()) else {
            return Ok(());
        };
        // The recipe check refuses unknown names before any stage runs.
        let family = ToolFamily::parse(&options.tool_family).ok_or_else(|| {
            StageError::stage(NAME, format!("unknown tool_family {}", options.tool_family))
        })?;
        let renderer = Renderer::parse(&options.renderer).ok_or_else(|| {
            StageError::stage(NAME, format!("unknown renderer {}", options.renderer))
        })?;
        // Streamed: the PRs' commits wait on disk, PRs come a batch at a time and their rows
        // leave after each batch, so memory does not grow with the history.
        let packs = SpilledPacks::collect(&prepared.packs, key, &ctx.run.work(NAME))?;
        let pulls = pulls_of(prepared.pulls.as_ref(), key)?;
        let cache = Arc::new(ResultCache::default());
        let rules = corpus_agentless::rules::FormatRules::of(&ctx.recipe.format);
        let job_ctx = jobs::Context {
            repo_name: key,
            path: &path,
            seed: ctx.recipe.seed,
            variants: options.variants,
            family,
            max_file_bytes: ctx.recipe.extract.max_file_bytes as usize,
            cache: cache.clone(),
        };
        // This unit's replies and generated tokens (the client is shared by the units that
        // run at once, so its own totals cannot be split per unit).
        let usage = prepared.client.as_ref().map(|c| UnitUsage::new(c));
        let repo = match &prepared.client {
            None => Some(
                crate::open_repository(&path)
                    .map_err(|e| StageError::stage(NAME, format!("{key}: open {path}: {e}")))?,
            ),
            Some(_) => None,
        };
        let engine = usage.as_ref().map(|usage| ModelEngine {
            client: usage as &dyn crate::model::chat::Chat,
            templates: &prepared.templates,
            options: &options.model,
        });
        let mut seen = BTreeSet::new();
        let mut model_tally = ModelTally::default();
        let mut not_chosen = 0u64;
        each_batch_of(&prepared.patches, key, PRS_PER_BATCH, |batch| {
            let mut prs = Vec::new();
            for patch in PatchRow::from_batch(&batch)? {
                let Some(number) = patch.pr_number else {
                    continue;
                };
                let place = share::place(ctx.recipe.seed, key, number);
                let agentic = share::chosen(place, options.agentic_share);
                let reasoning = share::chosen(place, options.reasoning_share);
                if !agentic && !reasoning {
                    not_chosen += 1;
                    continue;
                }
                let (problem, _) = problem_and_discussion(&patch, pulls.get(&number));
                let (pr_commits, merges) = packs.of(number)?.unwrap_or_default();
                // The Agentless localization tasks the reasoning answers (none when the PR
                // fails the profile's PR rules, which `format` already counts).
                let tasks = if reasoning && check_pr(&patch, &rules).is_ok() {
                    localizations(
                        &patch,
                        &rules,
                        &prepared.templates,
                        &ctx.recipe.extract,
                        &problem,
                    )
                    .map_err(|e| StageError::stage(NAME, e.to_string()))?
                } else {
                    Vec::new()
                };
                prs.push(PrData {
                    number,
                    base_sha: patch.base_sha,
                    head_sha: patch.head_sha,
                    problem,
                    diff: patch.diff,
                    commits: pr_commits,
                    has_merge_in_branch: merges || patch.has_merge_in_branch,
                    tasks,
                    agentic,
                    reasoning,
                });
            }
            let wanted = prs.len();
            prs.retain(PrData::wanted);
            not_chosen += (wanted - prs.len()) as u64;
            let results: Vec<Vec<jobs::VariantResult>> = match (&repo, &engine) {
                (Some(repo), _) => prs
                    .iter()
                    .map(|pr| jobs::deterministic(&job_ctx, repo, pr))
                    .collect(),
                (None, Some(engine)) => {
                    let roles = &options.model.roles;
                    jobs::model(
                        &job_ctx,
                        engine,
                        &prs,
                        roles.contains(&ModelRole::Explorer),
                        roles.contains(&ModelRole::Reasoner),
                        options.model.concurrency,
                    )
                    .map_err(|e| StageError::stage(NAME, format!("{key}: {e}")))?
                }
                (None, None) => return Err(StageError::stage(NAME, "no model client")),
            };
            if engine.is_some() {
                model_tally.add(&results);
            }
            let mut rows = Vec::new();
            let mut samples = Vec::new();
            let mut drops = Vec::new();
            for (pr, variants) in prs.iter().zip(results) {
                let mut unit = PrUnit {
                    repo: key,
                    number: pr.number,
                    base_sha: &pr.base_sha,
                    added_tokens: &prepared.added_tokens,
                    drops: &mut drops,
                    seen: &mut seen,
                    agentic_failed: false,
                    reasoning_failed: false,
                    stop_after_failure: prepared.client.is_none(),
                };
                let mut tally = Tally::default();
                for result in variants {
                    if let Some(trajectory) = result.trajectory
                        && !unit.agentic_failed
                    {
                        tally.agentic_tried += 1;
                        if let Some((row, sample)) =
                            unit.agentic(result.variant, trajectory, renderer, &options.root)?
                        {
                            rows.push(row);
                            samples.push(sample);
                            tally.agentic_kept += 1;
                        }
                    }
                    if let Some(reasoning) = result.reasoning
                        && !unit.reasoning_failed
                    {
                        tally.reasoning_tried += 1;
                        let kept = unit.reasoning(result.variant, reasoning);
                        tally.reasoning_samples += kept.len() as u64;
                        samples.extend(kept);
                    }
                }
                tally.add_to(out);
            }
            out.write(names::TRAJECTORIES, &TrajectoryRow::batch(&rows)?)?;
            out.write(
                names::SYNTHETIC_SAMPLES,
                &SampleRow::table_batch(names::SYNTHETIC_SAMPLES, &samples)?,
            )?;
            out.write_drops(&drops)?;
            Ok(())
        })?;
        if let Some(client) = &prepared.client {
            tracing::info!(
                "{key}: model engine: {} of {} trajectories kept, {} of {} reasoning answers kept; {}",
                model_tally.explored_ok,
                model_tally.explored,
                model_tally.answered_ok,
                model_tally.answered,
                client.stats.line()
            );
        }
        if not_chosen > 0 {
            // PRs outside both shares, or chosen only for reasoning with nothing to answer.
            out.count("prs_not_chosen", not_chosen);
        }
        if let Some(usage) = &usage {
            out.count("model_replies", usage.replies());
            out.count("model_completion_tokens", usage.completion_tokens());
        }
        tracing::debug!(
            "{key}: emulator cache {} hits, {} misses",
            cache.hits.load(std::sync::atomic::Ordering::Relaxed),
            cache.misses.load(std::sync::atomic::Ordering::Relaxed)
        );
        Ok(())
    }
}

/// PRs synthesized between two writes: their trajectories are what the unit holds at once.
const PRS_PER_BATCH: usize = 64;

/// What the model engine kept, over a unit's batches (for its log line).
#[derive(Default)]
struct ModelTally {
    explored: usize,
    explored_ok: usize,
    answered: usize,
    answered_ok: usize,
}

impl ModelTally {
    fn add(&mut self, results: &[Vec<jobs::VariantResult>]) {
        for result in results.iter().flatten() {
            if let Some(t) = &result.trajectory {
                self.explored += 1;
                self.explored_ok += usize::from(t.is_ok());
            }
            if let Some(reasoning) = &result.reasoning {
                for (_, _, answer) in reasoning.iter().flatten() {
                    self.answered += 1;
                    self.answered_ok += usize::from(answer.is_ok());
                }
            }
        }
    }
}

/// Where model replies are kept: the recipe's folder, else `RUN/model_cache`.
pub fn model_cache_dir(ctx: &StageContext) -> std::path::PathBuf {
    match ctx.recipe.synthesize.model.cache.as_str() {
        "" => ctx.run.root.join("model_cache"),
        dir => ctx.recipe.resolve(std::path::Path::new(dir)),
    }
}
