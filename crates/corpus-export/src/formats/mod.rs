//! The formats: one writer and one reader each. A reader gives back documents and their mask
//! in the format's own alignment, so the check compares like with like.

mod bridge;
mod datatrove;
mod file;
mod hf;
mod list_chunk;
mod megatron;
mod olmo;
mod parquet_io;

use std::path::Path;

use crate::document::Document;
use crate::error::Result;

pub(crate) use file::AtomicFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Megatron,
    MegatronBridge,
    Olmo,
    Datatrove,
    Hf,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Megatron,
        Format::MegatronBridge,
        Format::Olmo,
        Format::Datatrove,
        Format::Hf,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Megatron => "megatron",
            Format::MegatronBridge => "megatron-bridge",
            Format::Olmo => "olmo",
            Format::Datatrove => "datatrove",
            Format::Hf => "hf",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether documents are packed into sequences of the recipe's length.
    pub fn packs(self, hf_packed: bool) -> bool {
        matches!(self, Format::MegatronBridge) || (self == Format::Hf && hf_packed)
    }
}

/// What a writer needs besides the documents.
#[derive(Debug, Clone)]
pub struct WriteContext {
    pub sequence_length: usize,
    pub tokenizer: String,
    pub hf_packed: bool,
    /// `train` or `validation`, and the shard's index and count within its split.
    pub split: String,
    pub index: usize,
    pub count: usize,
}

/// What one shard became.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// Files, relative to the export folder.
    pub files: Vec<String>,
    pub documents: u64,
    pub tokens: u64,
    pub too_long: u64,
}

impl Written {
    /// Commit a shard's files (each appears under its name only now) and say what they hold.
    pub(crate) fn commit(
        files: Vec<AtomicFile>,
        names: &[String],
        documents: u64,
        tokens: u64,
    ) -> Result<Written> {
        for file in files {
            file.commit()?;
        }
        Ok(Written {
            files: names.to_vec(),
            documents,
            tokens,
            too_long: 0,
        })
    }
}

/// A document as a reader gives it back: ids and the mask in the format's alignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadDocument {
    pub ids: Vec<u32>,
    pub mask: Option<Vec<u8>>,
}

/// The mask of `document` in `format`'s alignment (None: the format has none). Packed HF
/// rows never learn a document's first token from the one before.
pub fn native_mask(format: Format, document: &Document, hf_packed: bool) -> Option<Vec<u8>> {
    let mut mask = document.mask();
    if format == Format::Hf
        && hf_packed
        && let Some(first) = mask.first_mut()
    {
        *first = 0;
    }
    match format {
        Format::Megatron => None,
        // Label-aligned: position j says whether token j+1 is a target; 0 at the last token.
        Format::MegatronBridge => {
            let mut shifted: Vec<u8> = mask.iter().skip(1).copied().collect();
            if !mask.is_empty() {
                shifted.push(0);
            }
            Some(shifted)
        }
        Format::Olmo | Format::Datatrove | Format::Hf => Some(mask),
    }
}

pub fn write(
    format: Format,
    shard: &Path,
    dir: &Path,
    stem: &str,
    ctx: &WriteContext,
) -> Result<Written> {
    match format {
        Format::Megatron => megatron::write(shard, dir, stem),
        Format::MegatronBridge => bridge::write(shard, dir, stem, ctx),
        Format::Olmo => olmo::write(shard, dir, stem),
        Format::Datatrove => datatrove::write(shard, dir, stem, ctx),
        Format::Hf => hf::write(shard, dir, stem, ctx),
    }
}

pub fn read(format: Format, dir: &Path, files: &[String]) -> Result<Vec<ReadDocument>> {
    match format {
        Format::Megatron => megatron::read(dir, files),
        Format::MegatronBridge => bridge::read(dir, files),
        Format::Olmo => olmo::read(dir, files),
        Format::Datatrove => datatrove::read(dir, files),
        Format::Hf => hf::read(dir, files),
    }
}

/// Token ids from the little-endian uint32 bytes of datatrove's `.ds` and OLMo's `.npy`.
pub(crate) fn u32s_from_le(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// A token stream and its token-aligned mask cut into documents at `ends` (the exclusive
/// end of each document), which must increase and cover every token.
pub(crate) fn cut_documents(
    ids: &[u32],
    mask: &[u8],
    ends: &[usize],
    what: &str,
) -> Result<Vec<ReadDocument>> {
    if mask.len() != ids.len() {
        return Err(crate::error::ExportError::Mismatch(format!(
            "{what}: {} tokens but {} mask bytes",
            ids.len(),
            mask.len()
        )));
    }
    let mut docs = Vec::with_capacity(ends.len());
    let mut start = 0usize;
    for &end in ends {
        if end < start || end > ids.len() {
            return Err(crate::error::ExportError::Mismatch(format!(
                "{what}: document end {end} out of order"
            )));
        }
        docs.push(ReadDocument {
            ids: ids[start..end].to_vec(),
            mask: Some(mask[start..end].to_vec()),
        });
        start = end;
    }
    if start != ids.len() {
        return Err(crate::error::ExportError::Mismatch(format!(
            "{what}: the documents do not cover every token"
        )));
    }
    Ok(docs)
}

/// The file among `files` ending with `suffix`.
pub(crate) fn file_with<'a>(files: &'a [String], suffix: &str) -> Result<&'a String> {
    files.iter().find(|f| f.ends_with(suffix)).ok_or_else(|| {
        crate::error::ExportError::Mismatch(format!("no {suffix} file among {files:?}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recipe_folder_is_a_format() {
        for folder in corpus_core::recipe::EXPORT_FOLDERS {
            let name = folder.strip_suffix("-packed").unwrap_or(folder);
            assert!(Format::parse(name).is_some(), "{folder}");
        }
        assert_eq!(
            corpus_core::recipe::EXPORT_FOLDERS.len(),
            Format::ALL.len() + 1,
            "every format, plus hf-packed"
        );
    }
}
