//! The rows of one PR across its variants: a trajectory becomes a `trajectories` row and a
//! rendered `synthetic_agentic` sample; a reasoning answer a `synthetic_reasoning` sample.
//! Every failure is a drop (once per kind when later variants would fail the same way);
//! identical variants are `duplicate_variant` drops.

use corpus_core::drop_reason::DropReason;
use std::collections::BTreeSet;

use crate::engine::Drop;
use crate::render::Renderer;
use crate::trajectory::Trajectory;
use corpus_core::hash::id128;
use corpus_core::rows::{DropRow, SampleRow, TrajectoryRow};

use super::{KIND, NAME, REASONING_KIND};
use corpus_stage::error::{Result, StageError};

/// One variant's reasoning: per localization task (kind, prompt, answer), or the drop that
/// stopped all of them.
pub type Reasoning =
    std::result::Result<Vec<(&'static str, String, std::result::Result<String, Drop>)>, Drop>;

/// The rows of one PR across its variants: each failure is one drop per kind, identical
/// variants are `duplicate_variant` drops.
pub struct PrUnit<'a> {
    pub repo: &'a str,
    pub number: i64,
    pub base_sha: &'a str,
    pub added_tokens: &'a corpus_tokenize::AddedTokens,
    pub drops: &'a mut Vec<DropRow>,
    pub seen: &'a mut BTreeSet<String>,
    pub agentic_failed: bool,
    pub reasoning_failed: bool,
    /// Whether a failure ends that kind for the PR (the deterministic engine fails the same
    /// way in every variant; a model's variants are independent samples).
    pub stop_after_failure: bool,
}

impl PrUnit<'_> {
    fn drop_row(&self, variant: u32, kind: &str, reason: DropReason, detail: &str) -> DropRow {
        DropRow::new(NAME, reason)
            .repo(self.repo)
            .pr(Some(self.number))
            .detail(format!("{kind} variant {variant}: {detail}"))
    }

    /// A sample unless the same text came from an earlier variant.
    fn fresh(&mut self, variant: u32, sample: SampleRow) -> Option<SampleRow> {
        if self.seen.insert(sample.sample_id.clone()) {
            return Some(sample);
        }
        let d = self
            .drop_row(
                variant,
                &sample.sample_kind.clone(),
                DropReason::DuplicateVariant,
                "the same text as an earlier variant",
            )
            .sample(&sample.sample_id);
        self.drops.push(d);
        None
    }

    pub fn agentic(
        &mut self,
        variant: u32,
        trajectory: std::result::Result<Trajectory, Drop>,
        renderer: Renderer,
        root: &str,
    ) -> Result<Option<(TrajectoryRow, SampleRow)>> {
        let fail = |unit: &mut Self, reason: DropReason, detail: &str| {
            let d = unit.drop_row(variant, KIND.code(), reason, detail);
            unit.drops.push(d);
            unit.agentic_failed = unit.stop_after_failure;
        };
        let t = match trajectory {
            Ok(t) => t,
            Err(d) => {
                fail(self, d.reason, &d.detail);
                return Ok(None);
            }
        };
        // The tokenizer's added tokens first (docs/conventions.md), then the renderers' markers.
        if let Some(token) =
            crate::render::texts(&t).find_map(|text| self.added_tokens.first_in(text))
        {
            fail(
                self,
                DropReason::SpecialTokenInContent,
                &format!("the text holds {token}"),
            );
            return Ok(None);
        }
        let (prompt, response) = match renderer.render(&t, root) {
            Ok(text) => text,
            Err(marker) => {
                fail(
                    self,
                    DropReason::MarkerInContent,
                    &format!("the text holds {marker}"),
                );
                return Ok(None);
            }
        };
        let sample = SampleRow::new(
            KIND,
            KIND.code(),
            self.repo,
            Some(self.number),
            self.base_sha,
            prompt,
            response,
        );
        let Some(sample) = self.fresh(variant, sample) else {
            return Ok(None);
        };
        let record = serde_json::to_string(&t)
            .map_err(|e| StageError::stage(NAME, format!("serialize: {e}")))?;
        let row = TrajectoryRow {
            trajectory_id: id128(record.as_bytes()),
            repo: self.repo.to_string(),
            pr_number: self.number,
            base_sha: self.base_sha.to_string(),
            variant: i64::from(variant),
            engine: t.engine.clone(),
            tool_family: t.tool_family.clone(),
            n_steps: t.steps.len() as i64,
            named_files: t.named_files.clone(),
            gold_files: t.gold_files.clone(),
            distractor_files: t.distractor_files.clone(),
            record,
        };
        Ok(Some((row, sample)))
    }

    /// One reasoning sample per answered localization task.
    pub fn reasoning(&mut self, variant: u32, reasoning: Reasoning) -> Vec<SampleRow> {
        let answers = match reasoning {
            Ok(a) => a,
            Err(d) => {
                let row = self.drop_row(variant, REASONING_KIND.code(), d.reason, &d.detail);
                self.drops.push(row);
                self.reasoning_failed = self.stop_after_failure;
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (kind, prompt, answer) in answers {
            let response = match answer {
                Ok(text) => text,
                Err(d) => {
                    let row = self.drop_row(
                        variant,
                        REASONING_KIND.code(),
                        d.reason,
                        &format!("{kind}: {}", d.detail),
                    );
                    self.drops.push(row);
                    continue;
                }
            };
            let text = format!("{prompt}{response}");
            if let Some(token) = self.added_tokens.first_in(&text) {
                let row = self.drop_row(
                    variant,
                    REASONING_KIND.code(),
                    DropReason::SpecialTokenInContent,
                    &format!("{kind}: the text holds {token}"),
                );
                self.drops.push(row);
                continue;
            }
            let sample = SampleRow::new(
                REASONING_KIND,
                REASONING_KIND.code(),
                self.repo,
                Some(self.number),
                self.base_sha,
                prompt,
                response,
            );
            out.extend(self.fresh(variant, sample));
        }
        out
    }
}
