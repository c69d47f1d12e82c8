//! The pipeline's stages, in the order docs/conventions.md lists them.

pub use corpus_agentless::stage::FormatStage;
pub use corpus_crawl::stage::{CrawlStage, discover_search, mirrors_dir};
pub use corpus_curate::stage::CurateStage;
pub use corpus_decontam::stage::DecontaminateStage;
pub use corpus_export::stage::ExportStage;
pub use corpus_git::stage::ExtractStage;
pub use corpus_ingest::stage::IngestStage;
pub use corpus_mix::stage::{MixStage, compute_plan};
pub use corpus_shard::stage::ShardStage;
pub use corpus_synth::stage::SynthesizeStage;
pub use corpus_tokenize::stage::TokenizeStage;

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
        Box::new(MixStage::new(STAGE_ORDER)),
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
