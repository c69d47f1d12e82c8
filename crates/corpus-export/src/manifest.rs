//! `_manifest.json` of an export: what it was made from and a checksum per file. Written last:
//! a folder without it is not a (complete) export.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ExportError, Result, io};

pub const MANIFEST: &str = "_manifest.json";
/// Written first: which run's shards the folder is being filled from.
pub const IN_PROGRESS: &str = "_export.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportFile {
    pub file: String,
    pub shard: String,
    pub bytes: u64,
    pub xxh3: String,
    pub documents: u64,
    pub tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportManifest {
    pub format: String,
    pub hf_packed: bool,
    pub sequence_length: u64,
    pub tokenizer: String,
    pub tokenizer_sha256: String,
    pub recipe_hash: String,
    /// xxh3 of the shards' checksums: which shards this export is of.
    pub shards_digest: String,
    pub tool_version: String,
    pub tool_commit: String,
    pub documents: u64,
    pub tokens: u64,
    /// Documents longer than the sequence length, left out of packed formats.
    pub too_long: u64,
    /// The shards' decontamination certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decontam: Option<corpus_core::manifest::DecontamCertificate>,
    pub files: Vec<ExportFile>,
}

impl ExportManifest {
    /// `N documents, T tokens in F files` (and the documents packing left out).
    pub fn summary(&self) -> String {
        let left_out = if self.too_long > 0 {
            format!(
                " ({} documents longer than {} tokens left out)",
                self.too_long, self.sequence_length
            )
        } else {
            String::new()
        };
        format!(
            "{} documents, {} tokens in {} files{left_out}",
            self.documents,
            self.tokens,
            self.files.len()
        )
    }
}

/// The in-progress marker: enough to tell an export of another run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InProgress {
    pub format: String,
    pub shards_digest: String,
}

pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ExportError::Usage(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| ExportError::Usage(format!("serialize {}: {e}", path.display())))?;
    corpus_core::manifest::write_atomically(path, format!("{text}\n").as_bytes())?;
    Ok(())
}
