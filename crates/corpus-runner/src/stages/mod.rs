//! The pipeline's stages, in the order docs/conventions.md lists them.

mod blob_spill;
mod crawl;
mod curate;
mod decontaminate;
mod drop_tokens;
mod export;
mod extract;
mod format;
mod ingest;
mod mix;
mod shard;
mod shard_certificate;
pub(crate) mod spill;
mod synthesize;
pub(crate) mod tokenize;

pub use crawl::{CrawlStage, discover_search, mirrors_dir};
pub use curate::CurateStage;
pub use decontaminate::DecontaminateStage;
pub use export::ExportStage;
pub use extract::ExtractStage;
pub use format::FormatStage;
pub use ingest::IngestStage;
pub use mix::{MixStage, compute_plan};
pub use shard::ShardStage;
pub use synthesize::SynthesizeStage;
pub use tokenize::TokenizeStage;

use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::Stage;

/// Every stage name of the contract, in pipeline order.
pub const STAGE_ORDER: &[&str] = &[
    "crawl",
    "extract",
    "format",
    "synthesize",
    "ingest",
    "decontaminate",
    "curate",
    "tokenize",
    "mix",
    "shard",
    "export",
];

/// The stages this build implements, in order.
pub fn available() -> Vec<Box<dyn Stage>> {
    vec![
        Box::new(CrawlStage::default()),
        Box::new(ExtractStage::default()),
        Box::new(FormatStage::default()),
        Box::new(SynthesizeStage::default()),
        Box::new(IngestStage),
        Box::new(DecontaminateStage::default()),
        Box::new(CurateStage::default()),
        Box::new(TokenizeStage::default()),
        Box::new(MixStage::default()),
        Box::new(ShardStage),
        Box::new(ExportStage::default()),
    ]
}

/// Check a stage name given on the command line.
pub fn check_name(name: &str) -> Result<()> {
    if !STAGE_ORDER.contains(&name) {
        return Err(StageError::Usage(format!(
            "unknown stage `{name}`; stages are: {}",
            STAGE_ORDER.join(", ")
        )));
    }
    if !available().iter().any(|s| s.name() == name) {
        return Err(StageError::Usage(format!(
            "stage `{name}` is not part of this version of swe-corpus yet (available: {})",
            available()
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}
