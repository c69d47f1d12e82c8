//! Stage `format`: extracted PRs to Agentless samples, commit packs and commit documents
//! (table `samples`). One unit per repository; its rows are read from the sorted input
//! tables by row-group statistics, not by scanning everything.

use crate::packs::{render_commit, render_pack};
use crate::samples::{Rendered, Skipped, check_pr, render_pr};
use crate::templates::Templates;
use corpus_core::drop_reason::DropReason;
use corpus_core::identity::PatchKind;
use corpus_core::recipe::Recipe;
use corpus_core::rows::{CommitPackRow, DropRow, PatchRow, SampleRow};
use corpus_core::schema::names;
use corpus_core::table::KeyedTable;

mod blobs;

use crate::prompt_inputs::{load_templates, prompt_inputs, pulls_of};
use blobs::SpilledBlobs;
use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::{
    InputsBuilder, PreparedOnce, Stage, StageContext, StageInputs, StageSpec, UnitOutput,
    each_batch_of, read_repos,
};

const NAME: &str = "format";
const INPUTS: &[&str] = &[
    names::REPOS,
    names::PATCHES,
    names::COMMIT_PACKS,
    names::BLOBS,
];

/// The input tables, opened once per run.
struct Inputs {
    patches: KeyedTable,
    packs: KeyedTable,
    blobs: KeyedTable,
    /// The crawl's PR metadata, when the run has it.
    pulls: Option<KeyedTable>,
    templates: Templates,
    /// Added-token strings of the recipe's tokenizer: content holding one is dropped.
    added_tokens: corpus_tokenize::AddedTokens,
}

#[derive(Default)]
pub struct FormatStage {
    inputs: PreparedOnce<Inputs>,
}

impl FormatStage {
    fn opened(&self, ctx: &StageContext) -> Result<&Inputs> {
        self.inputs.get_or_prepare(NAME, || {
            let opened = Inputs {
                patches: KeyedTable::open(&ctx.table(names::PATCHES)?, "repo")?,
                packs: KeyedTable::open(&ctx.table(names::COMMIT_PACKS)?, "repo")?,
                blobs: KeyedTable::open(&ctx.table(names::BLOBS)?, "repo")?,
                pulls: KeyedTable::open_if_present(&ctx.table(names::PULLS)?, "repo")?,
                templates: load_templates(ctx.recipe, NAME)?,
                added_tokens: corpus_tokenize::AddedTokens::new(
                    corpus_tokenize::added_tokens_of_recipe(&ctx.recipe.tokenize)?,
                ),
            };
            Ok(opened)
        })
    }
}

const SPEC: StageSpec = StageSpec {
    name: NAME,
    outputs: &[names::SAMPLES],
    reads: &[
        names::REPOS,
        names::PATCHES,
        names::COMMIT_PACKS,
        names::BLOBS,
        names::PULLS,
    ],
};

impl Stage for FormatStage {
    fn spec(&self) -> &'static StageSpec {
        &SPEC
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        let config = Recipe::section_hash(&(&ctx.recipe.format, &ctx.recipe.extract));
        let mut builder = InputsBuilder::new(config);
        for table in INPUTS {
            builder.table(ctx, NAME, table, true)?;
        }
        // `pulls` is optional (history alone has no issue text), but an input when there.
        builder.table(ctx, NAME, names::PULLS, false)?;
        prompt_inputs(&mut builder, ctx, NAME)?;
        Ok(builder.finish())
    }

    fn units(&self, ctx: &StageContext) -> Result<Vec<String>> {
        Ok(read_repos(ctx)?
            .into_values()
            .filter(|row| row.skipped_reason.is_none())
            .map(|row| row.repo)
            .collect())
    }

    fn prepare(&self, ctx: &StageContext) -> Result<()> {
        self.opened(ctx).map(|_| ())
    }

    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()> {
        let inputs = self.opened(ctx)?;
        let options = &ctx.recipe.format;
        let rules = crate::rules::FormatRules::of(options);
        // Streamed: blobs wait on disk, PRs and packs come a batch at a time and their rows
        // leave after each batch, so memory does not grow with the history.
        let blobs = SpilledBlobs::collect(&inputs.blobs, key, &ctx.run.work(NAME))?;
        let pulls = pulls_of(inputs.pulls.as_ref(), key)?;
        each_batch_of(&inputs.patches, key, 256, |batch| {
            let mut samples = Vec::new();
            let mut drops = Vec::new();
            for patch in PatchRow::from_batch(&batch)? {
                let drop_for = |s: &Skipped| {
                    let mut d = DropRow::new(NAME, s.reason).repo(key).pr(patch.pr_number);
                    if let Some(p) = &s.path {
                        d = d.path(p);
                    }
                    let what = s.kind.map_or("pr", |k| k.code());
                    d.detail(format!(
                        "{what} of {} {}: {}",
                        patch.kind, patch.merge_sha, s.detail
                    ))
                };
                if patch.kind == PatchKind::Commit.code() {
                    if options.commits {
                        let sample = render_commit(&patch);
                        push_checked(
                            &mut samples,
                            &mut drops,
                            sample,
                            &options.source_commits,
                            &patch,
                            key,
                            &inputs.added_tokens,
                        );
                    }
                    continue;
                }
                if let Err(s) = check_pr(&patch, &rules) {
                    drops.push(drop_for(&s));
                    continue;
                }
                let (rendered, skipped) = render_pr(
                    &patch,
                    &blobs.for_patch(&patch)?,
                    &rules,
                    &inputs.templates,
                    &ctx.recipe.extract,
                    patch.pr_number.and_then(|n| pulls.get(&n)),
                )
                .map_err(|e| StageError::stage(NAME, e.to_string()))?;
                drops.extend(skipped.iter().map(drop_for));
                for sample in rendered {
                    push_checked(
                        &mut samples,
                        &mut drops,
                        sample,
                        &options.source_agentless,
                        &patch,
                        key,
                        &inputs.added_tokens,
                    );
                }
            }
            out.write(names::SAMPLES, &SampleRow::batch(&samples)?)?;
            out.write_drops(&drops)?;
            Ok(())
        })?;
        drop(blobs);
        if options.commit_packs {
            each_batch_of(&inputs.packs, key, 256, |batch| {
                let mut samples = Vec::new();
                let mut drops = Vec::new();
                for pack in CommitPackRow::from_batch(&batch)? {
                    let as_patch = PatchRow {
                        repo: pack.repo.clone(),
                        pr_number: Some(pack.pr_number),
                        base_sha: pack.base_sha.clone(),
                        ..Default::default()
                    };
                    match render_pack(&pack, &rules) {
                        Ok(sample) => push_checked(
                            &mut samples,
                            &mut drops,
                            sample,
                            &options.source_commit_packs,
                            &as_patch,
                            key,
                            &inputs.added_tokens,
                        ),
                        Err(s) => {
                            let mut d = DropRow::new(NAME, s.reason)
                                .repo(key)
                                .pr(Some(pack.pr_number));
                            if let Some(p) = &s.path {
                                d = d.path(p);
                            }
                            drops.push(d.detail(format!(
                                "commit_pack of PR {}: {}",
                                pack.pr_number, s.detail
                            )));
                        }
                    }
                }
                out.write(names::SAMPLES, &SampleRow::batch(&samples)?)?;
                out.write_drops(&drops)?;
                Ok(())
            })?;
        }
        Ok(())
    }
}

/// Keep a rendered sample unless its content holds an added-token string of the tokenizer.
fn push_checked(
    samples: &mut Vec<SampleRow>,
    drops: &mut Vec<DropRow>,
    sample: Rendered,
    source: &str,
    patch: &PatchRow,
    repo: &str,
    added_tokens: &corpus_tokenize::AddedTokens,
) {
    let row = SampleRow::new(
        sample.kind,
        source,
        repo,
        patch.pr_number,
        &patch.base_sha,
        sample.prompt,
        sample.response,
    );
    if let Some(token) = added_tokens.first_in(&row.text) {
        drops.push(
            DropRow::new(NAME, DropReason::SpecialTokenInContent)
                .repo(repo)
                .pr(patch.pr_number)
                .sample(&row.sample_id)
                .detail(format!("{} holds {token}", sample.kind)),
        );
        return;
    }
    samples.push(row);
}
