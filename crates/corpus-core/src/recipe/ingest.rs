//! Recipe section `[ingest]`: samples produced elsewhere (chat messages or plain text, in
//! JSONL or Parquet), each file a source of the mix.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestOptions {
    #[serde(default)]
    pub sources: Vec<ExternalSource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalSource {
    /// The source name its rows count toward in the mix.
    pub name: String,
    /// A `.jsonl` or `.parquet` file.
    pub path: PathBuf,
    /// Column (JSON key) of chat messages: a list of `{role, content}`.
    #[serde(default = "default_messages")]
    pub messages_column: String,
    /// Column of plain text, used by rows without messages.
    #[serde(default = "default_text")]
    pub text_column: String,
    /// A minijinja template rendering one turn from `role` and `content`; default Qwen's
    /// ChatML, `<|im_start|>{{ role }}\n{{ content }}<|im_end|>\n`.
    #[serde(default)]
    pub template: Option<PathBuf>,
}

fn default_messages() -> String {
    "messages".into()
}
fn default_text() -> String {
    "text".into()
}

/// Errors of the section the types alone do not catch.
pub fn semantic_errors(ingest: &IngestOptions) -> Vec<String> {
    let mut errors = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, source) in ingest.sources.iter().enumerate() {
        if !seen.insert(source.name.as_str()) {
            errors.push(format!(
                "[ingest] sources[{i}]: `{}` is listed twice",
                source.name
            ));
        }
        if source.name.is_empty() {
            errors.push(format!("[ingest] sources[{i}]: `name` is empty"));
        }
        let extension = source
            .path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase());
        if !matches!(extension.as_deref(), Some("jsonl" | "parquet")) {
            errors.push(format!(
                "[ingest] sources[{i}] `{}`: {} is neither .jsonl nor .parquet",
                source.name,
                source.path.display()
            ));
        }
    }
    errors
}
