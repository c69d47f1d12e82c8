//! Stage `synthesize`: agent trajectories from the run's PRs (`../shared/SYNTHETIC.md`). One
//! unit per repository: each PR with its commits goes through the recipe's engine once per
//! variant; a trajectory is kept in `trajectories` (the canonical record) and rendered into
//! `synthetic_samples` (kind and source `synthetic_agentic`). A PR the engine cannot serve
//! is one `drops` row with the engine's reason.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use corpus_agentless::samples::problem_and_discussion;
use corpus_core::hash::id128;
use corpus_core::recipe::Recipe;
use corpus_core::rows::{
    DropRow, PullRow, RepoRow, SampleRow, TrajectoryRow, commit_packs_from_batch,
    patches_from_batch, pulls_from_batch, sample_table_batch, trajectories_batch,
};
use corpus_core::table::KeyedTable;
use corpus_synth::emulator::ResultCache;
use corpus_synth::engine::{PrInput, trajectory};
use corpus_synth::render::Renderer;
use corpus_synth::tools::ToolFamily;

use crate::error::{Result, RunnerError};
use crate::stage::{InputsBuilder, Stage, StageContext, StageInputs, UnitOutput, read_repos};

const NAME: &str = "synthesize";
pub const KIND: &str = "synthetic_agentic";

struct Prepared {
    repos: std::collections::BTreeMap<String, RepoRow>,
    patches: KeyedTable,
    packs: KeyedTable,
    pulls: Option<KeyedTable>,
}

#[derive(Default)]
pub struct SynthesizeStage {
    prepared: OnceLock<Prepared>,
}

impl SynthesizeStage {
    fn prepared(&self, ctx: &StageContext) -> Result<&Prepared> {
        if let Some(p) = self.prepared.get() {
            return Ok(p);
        }
        let prepared = Prepared {
            repos: read_repos(ctx)?,
            patches: KeyedTable::open(&ctx.run.table("patches"), "repo")?,
            packs: KeyedTable::open(&ctx.run.table("commit_packs"), "repo")?,
            pulls: KeyedTable::open_if_present(&ctx.run.table("pulls"), "repo")?,
        };
        Ok(self.prepared.get_or_init(|| prepared))
    }
}

impl Stage for SynthesizeStage {
    fn name(&self) -> &'static str {
        NAME
    }

    fn outputs(&self) -> &'static [&'static str] {
        &["trajectories", "synthetic_samples"]
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        let config = Recipe::section_hash(&(&ctx.recipe.synthesize, ctx.recipe.seed));
        let mut builder = InputsBuilder::new(config);
        if ctx.recipe.synthesize.enabled {
            for table in ["repos", "patches", "commit_packs"] {
                builder.table(ctx, NAME, table, true)?;
            }
            builder.table(ctx, NAME, "pulls", false)?;
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

    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()> {
        let prepared = self.prepared(ctx)?;
        let options = &ctx.recipe.synthesize;
        let Some(path) = prepared.repos.get(key).and_then(|r| r.path.clone()) else {
            return Ok(());
        };
        let repo = corpus_synth::Repository::open(&path)
            .map_err(|e| RunnerError::stage(NAME, format!("{key}: open {path}: {e}")))?;
        type Commits = Vec<(String, String, String)>;
        let mut commits: HashMap<i64, (Commits, bool)> = HashMap::new();
        prepared.packs.for_each_batch_of(key, 256, |batch| {
            for pack in commit_packs_from_batch(&batch)? {
                let list = pack
                    .commits
                    .iter()
                    .map(|c| (c.sha.clone(), c.message.clone(), c.diff.clone()))
                    .collect();
                commits.insert(pack.pr_number, (list, pack.has_merge_in_branch));
            }
            Ok(())
        })?;
        let mut pulls: HashMap<i64, PullRow> = HashMap::new();
        if let Some(table) = &prepared.pulls {
            table.for_each_batch_of(key, 256, |batch| {
                for pull in pulls_from_batch(&batch)? {
                    pulls.insert(pull.pr_number, pull);
                }
                Ok(())
            })?;
        }
        let mut patches = Vec::new();
        prepared.patches.for_each_batch_of(key, 256, |batch| {
            patches.extend(patches_from_batch(&batch)?);
            Ok(())
        })?;
        // The recipe check refuses unknown names before any stage runs.
        let family = ToolFamily::parse(&options.tool_family).ok_or_else(|| {
            RunnerError::stage(NAME, format!("unknown tool_family {}", options.tool_family))
        })?;
        let renderer = Renderer::parse(&options.renderer).ok_or_else(|| {
            RunnerError::stage(NAME, format!("unknown renderer {}", options.renderer))
        })?;
        let cache = Arc::new(ResultCache::default());
        let mut rows = Vec::new();
        let mut samples = Vec::new();
        let mut drops = Vec::new();
        let mut seen = BTreeSet::new();
        for patch in &patches {
            let Some(number) = patch.pr_number else {
                continue;
            };
            let (problem, _) = problem_and_discussion(patch, pulls.get(&number));
            let (pr_commits, merges) = commits.get(&number).cloned().unwrap_or_default();
            let input = PrInput {
                repo: key,
                pr_number: number,
                base_sha: &patch.base_sha,
                head_sha: &patch.head_sha,
                problem: &problem,
                diff: &patch.diff,
                commits: pr_commits,
                has_merge_in_branch: merges || patch.has_merge_in_branch,
                max_file_bytes: ctx.recipe.extract.max_file_bytes as usize,
            };
            for variant in 0..options.variants {
                let drop_row = |reason: &str, detail: String| {
                    DropRow::new(NAME, reason)
                        .repo(key)
                        .pr(Some(number))
                        .detail(format!("variant {variant}: {detail}"))
                };
                let t = match trajectory(
                    &repo,
                    &input,
                    ctx.recipe.seed,
                    variant,
                    family,
                    Some(cache.clone()),
                ) {
                    Ok(t) => t,
                    Err(d) => {
                        drops.push(drop_row(d.reason, d.detail));
                        break; // the same PR fails the same way in every variant
                    }
                };
                let (prompt, response) = match renderer.render(&t, &options.root) {
                    Ok(text) => text,
                    Err(marker) => {
                        drops.push(drop_row(
                            "chat_marker_in_content",
                            format!("the text holds {marker}"),
                        ));
                        break;
                    }
                };
                let sample = SampleRow::new(
                    KIND,
                    KIND,
                    key,
                    Some(number),
                    &patch.base_sha,
                    prompt,
                    response,
                );
                if !seen.insert(sample.sample_id.clone()) {
                    let mut d = drop_row(
                        "duplicate_variant",
                        "the same text as an earlier variant".into(),
                    );
                    d = d.sample(&sample.sample_id);
                    drops.push(d);
                    continue;
                }
                let record = serde_json::to_string(&t)
                    .map_err(|e| RunnerError::stage(NAME, format!("serialize: {e}")))?;
                rows.push(TrajectoryRow {
                    trajectory_id: id128(record.as_bytes()),
                    repo: key.to_string(),
                    pr_number: number,
                    base_sha: patch.base_sha.clone(),
                    variant: i64::from(variant),
                    engine: t.engine.clone(),
                    tool_family: t.tool_family.clone(),
                    n_steps: t.steps.len() as i64,
                    named_files: t.named_files.clone(),
                    gold_files: t.gold_files.clone(),
                    distractor_files: t.distractor_files.clone(),
                    record,
                });
                samples.push(sample);
            }
        }
        tracing::debug!(
            "{key}: emulator cache {} hits, {} misses",
            cache.hits.load(std::sync::atomic::Ordering::Relaxed),
            cache.misses.load(std::sync::atomic::Ordering::Relaxed)
        );
        out.write("trajectories", &trajectories_batch(&rows)?)?;
        out.write(
            "synthetic_samples",
            &sample_table_batch("synthetic_samples", &samples)?,
        )?;
        out.write_drops(&drops)?;
        Ok(())
    }
}
