//! What one unit (repository) of `synthesize` counts for the report: the (PR, variant) pairs
//! each engine tried and kept, and the model's replies and generated tokens.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::chat::{Chat, ChatError, Completion, Message};

use corpus_stage::stage::UnitOutput;

/// One PR's attempts and results.
#[derive(Debug, Default)]
pub struct Tally {
    pub agentic_tried: u64,
    pub agentic_kept: u64,
    pub reasoning_tried: u64,
    pub reasoning_samples: u64,
}

impl Tally {
    /// Add the PR's counts to the unit: per (PR, variant) pair and per PR, so the report
    /// gives both the acceptance rate and the share of PRs that yield data.
    pub fn add_to(&self, out: &mut UnitOutput) {
        out.count("agentic_variants_tried", self.agentic_tried);
        out.count("agentic_variants_kept", self.agentic_kept);
        out.count("agentic_prs_tried", u64::from(self.agentic_tried > 0));
        out.count("agentic_prs_kept", u64::from(self.agentic_kept > 0));
        out.count("reasoning_prs_tried", u64::from(self.reasoning_tried > 0));
        out.count("reasoning_prs_kept", u64::from(self.reasoning_samples > 0));
        out.count("reasoning_samples", self.reasoning_samples);
    }
}

/// The model endpoint as one unit sees it: counts this unit's replies and the tokens the
/// model generated for them (a cached reply counts what the endpoint generated for it, so
/// the counts do not depend on the cache).
pub struct UnitUsage<'a> {
    inner: &'a dyn Chat,
    replies: AtomicU64,
    completion_tokens: AtomicU64,
}

impl<'a> UnitUsage<'a> {
    pub fn new(inner: &'a dyn Chat) -> Self {
        Self {
            inner,
            replies: AtomicU64::new(0),
            completion_tokens: AtomicU64::new(0),
        }
    }

    pub fn replies(&self) -> u64 {
        self.replies.load(Ordering::Relaxed)
    }

    pub fn completion_tokens(&self) -> u64 {
        self.completion_tokens.load(Ordering::Relaxed)
    }
}

impl Chat for UnitUsage<'_> {
    fn complete(&self, messages: &[Message], seed: u64) -> Result<Completion, ChatError> {
        let reply = self.inner.complete(messages, seed)?;
        self.replies.fetch_add(1, Ordering::Relaxed);
        self.completion_tokens
            .fetch_add(reply.completion_tokens, Ordering::Relaxed);
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl Chat for Fixed {
        fn complete(&self, _: &[Message], seed: u64) -> Result<Completion, ChatError> {
            Ok(Completion {
                text: "ok".into(),
                completion_tokens: seed,
            })
        }
    }

    #[test]
    fn a_unit_counts_its_own_replies_and_tokens() {
        let usage = UnitUsage::new(&Fixed);
        for seed in [3, 4] {
            assert_eq!(
                usage
                    .complete(&[Message::user("x")], seed)
                    .expect("reply")
                    .text,
                "ok"
            );
        }
        assert_eq!((usage.replies(), usage.completion_tokens()), (2, 7));
    }
}
