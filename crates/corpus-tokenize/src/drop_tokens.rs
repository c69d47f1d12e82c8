//! Token counts of the samples `decontaminate` and `curate` remove, so `drops.n_tokens` and
//! `decontam_report.tokens` say what each reason cost in tokens. The count is the one
//! `tokenize` would give (prompt + response + EOD). Without the recipe's tokenizer on the
//! machine the counts are null and the stage says so once; the tokenizer's identity (or its
//! absence) is part of the stage's fingerprint, so a later run with it fills them in.

use crate::Encoder;
use corpus_core::rows::SampleRow;

use corpus_stage::stage::{InputsBuilder, StageContext};

/// `name:sha256` of the recipe's tokenizer, or `unavailable` when it cannot be found.
pub fn record_identity(ctx: &StageContext, builder: &mut InputsBuilder) {
    let identity = crate::locate(&ctx.recipe.tokenize)
        .map(|f| format!("{}:{}", f.name, f.sha256))
        .unwrap_or_else(|_| "unavailable".to_string());
    builder.input(crate::TOKENIZER_INPUT, &identity);
}

pub struct DropTokens {
    options: corpus_core::recipe::TokenizeOptions,
    stage: &'static str,
    /// Loaded at the first removed sample: a unit that removes nothing never pays for it.
    encoder: std::sync::OnceLock<Option<Encoder>>,
}

impl DropTokens {
    pub fn new(ctx: &StageContext, stage: &'static str) -> Self {
        Self {
            options: ctx.recipe.tokenize.clone(),
            stage,
            encoder: std::sync::OnceLock::new(),
        }
    }

    /// The encoder, or None without a tokenizer (said once); a broken one is an error.
    fn encoder(&self) -> corpus_core::Result<Option<&Encoder>> {
        if let Some(e) = self.encoder.get() {
            return Ok(e.as_ref());
        }
        let loaded = if crate::locate(&self.options).is_err() {
            tracing::warn!(
                "{}: the recipe's tokenizer is not available, so removed samples are \
                 counted without tokens (run `just setup` to fetch it)",
                self.stage
            );
            None
        } else {
            Some(
                Encoder::for_recipe(&self.options)
                    .map_err(|e| corpus_core::Error::Config(format!("{}: {e}", self.stage)))?,
            )
        };
        Ok(self.encoder.get_or_init(|| loaded).as_ref())
    }

    /// Tokens of a removed sample (None without a tokenizer).
    pub fn count(&self, stage: &str, sample: &SampleRow) -> corpus_core::Result<Option<i64>> {
        let Some(encoder) = self.encoder()? else {
            return Ok(None);
        };
        let (ids, _) = encoder
            .encode_sample(&sample.prompt, &sample.response)
            .map_err(|e| {
                corpus_core::Error::Input(format!("{stage}: sample {}: {e}", sample.sample_id))
            })?;
        Ok(Some(ids.len() as i64))
    }
}
