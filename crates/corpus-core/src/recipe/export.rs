//! The recipe's `[export]` section: which loader formats the `export` stage writes into
//! `RUN/exports/FOLDER/` (the packed sequence length is `[shard] sequence_length`).

use serde::{Deserialize, Serialize};

/// Folder names the export stage knows: a format, or `hf-packed` (the `hf` format packed).
pub const EXPORT_FOLDERS: &[&str] = &[
    "megatron",
    "megatron-bridge",
    "olmo",
    "datatrove",
    "hf",
    "hf-packed",
];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRecipe {
    /// Exports `run` writes after the shards; empty: none (`swe-corpus export` still works).
    #[serde(default)]
    pub formats: Vec<String>,
}

pub fn semantic_errors(export: &ExportRecipe) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, name) in export.formats.iter().enumerate() {
        if !EXPORT_FOLDERS.contains(&name.as_str()) {
            errors.push(format!(
                "[export] formats[{i}] `{name}` is not a format (expected one of: {})",
                EXPORT_FOLDERS.join(", ")
            ));
        }
        if export.formats[..i].contains(name) {
            errors.push(format!("[export] formats[{i}] `{name}` is listed twice"));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_repeated_formats_are_named() {
        let export = ExportRecipe {
            formats: vec!["hf".into(), "parquet".into(), "hf".into()],
        };
        let errors = semantic_errors(&export);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("`parquet` is not a format"));
        assert!(errors[1].contains("listed twice"));
        assert!(semantic_errors(&ExportRecipe::default()).is_empty());
    }
}
