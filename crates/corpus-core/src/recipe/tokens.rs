//! Recipe sections of the token stages: `[tokenize]`, `[mix]` and `[shard]`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenizeOptions {
    /// `qwen2.5` (default), `qwen3`, or the path of a `tokenizer.json`.
    pub tokenizer: String,
    /// Where `just setup` put the named tokenizers; unset: `SWE_CORPUS_TOKENIZERS`, else
    /// `.tools/tokenizers` under the current directory or above the executable.
    pub tokenizer_dir: Option<PathBuf>,
    /// Longer samples are dropped (`too_long`), never truncated.
    pub max_tokens: u64,
    /// Share of repositories held out for validation, chosen by a hash of the name.
    pub validation_fraction: f64,
}

impl Default for TokenizeOptions {
    fn default() -> Self {
        Self {
            tokenizer: "qwen2.5".into(),
            tokenizer_dir: None,
            max_tokens: 32_768,
            validation_fraction: 0.005,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MixOptions {
    /// The budget the plan aims at (training tokens seen); the sources' shares are of it.
    pub total_tokens: Option<u64>,
    /// The most times one sample may be repeated to meet a source's budget.
    pub max_repeat: f64,
    /// Let `run` go on when a source cannot meet its budget (the plan still shows it).
    pub allow_shortfall: bool,
    pub sources: Vec<MixSource>,
}

impl Default for MixOptions {
    fn default() -> Self {
        Self {
            total_tokens: None,
            max_repeat: 4.0,
            allow_shortfall: false,
            sources: Vec::new(),
        }
    }
}

/// One source of the mix: the rows whose `source` column has this name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixSource {
    pub name: String,
    /// Planned training tokens: the repeat factor is planned / available, capped.
    #[serde(default)]
    pub tokens: Option<u64>,
    /// Or a fixed repeat factor (fractions repeat a seeded share of the samples once more).
    #[serde(default)]
    pub repeat: Option<f64>,
    /// Distinct variants per PR the producing stage writes (shown in the plan; the
    /// variants are distinct rows, so they are not repeats).
    #[serde(default = "default_variants")]
    pub variants: u32,
    /// The stage that produces this source.
    #[serde(default = "default_source_stage")]
    pub stage: String,
}

fn default_variants() -> u32 {
    1
}
fn default_source_stage() -> String {
    "format".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShardOptions {
    /// Target shard size, in MiB of token ids (4 bytes per token); the text comes on top.
    /// A shard is also the unit the shuffle sorts in memory, so this bounds its memory.
    pub target_mib: f64,
    /// Row groups of the shards, sized for streaming readers.
    pub row_group_rows: u64,
    /// Sequence length the packed exports use.
    pub sequence_length: u64,
}

impl ShardOptions {
    /// The target shard size in bytes of token ids.
    pub fn target_bytes(&self) -> u64 {
        ((self.target_mib * 1_048_576.0) as u64).max(1)
    }
}

impl Default for ShardOptions {
    fn default() -> Self {
        Self {
            target_mib: 512.0,
            row_group_rows: 1024,
            sequence_length: 32_768,
        }
    }
}

/// Errors of these sections that the types alone do not catch.
pub fn semantic_errors(
    tokenize: &TokenizeOptions,
    mix: &MixOptions,
    shard: &ShardOptions,
) -> Vec<String> {
    let mut errors = Vec::new();
    if !(0.0..1.0).contains(&tokenize.validation_fraction) {
        errors.push("[tokenize] validation_fraction must be within 0..1".into());
    }
    if tokenize.max_tokens == 0 {
        errors.push("[tokenize] max_tokens must be positive".into());
    }
    if mix.max_repeat.is_nan() || mix.max_repeat < 1.0 {
        errors.push("[mix] max_repeat must be at least 1".into());
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, source) in mix.sources.iter().enumerate() {
        if !seen.insert(source.name.as_str()) {
            errors.push(format!(
                "[mix] sources[{i}]: `{}` is listed twice",
                source.name
            ));
        }
        match (source.tokens, source.repeat) {
            (Some(_), Some(_)) => errors.push(format!(
                "[mix] sources[{i}] `{}`: give `tokens` or `repeat`, not both",
                source.name
            )),
            (None, None) => errors.push(format!(
                "[mix] sources[{i}] `{}`: give `tokens` (a budget) or `repeat` (a factor)",
                source.name
            )),
            (_, Some(r)) if r.is_nan() || r < 0.0 => errors.push(format!(
                "[mix] sources[{i}] `{}`: repeat must be zero or more",
                source.name
            )),
            _ => {}
        }
        if source.variants == 0 {
            errors.push(format!(
                "[mix] sources[{i}] `{}`: variants must be at least 1",
                source.name
            ));
        }
    }
    if shard.target_mib.is_nan()
        || shard.target_mib <= 0.0
        || shard.row_group_rows == 0
        || shard.sequence_length == 0
    {
        errors
            .push("[shard] target_mib, row_group_rows and sequence_length must be positive".into());
    }
    errors
}
