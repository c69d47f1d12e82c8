//! Documents of the shards, in shard order: ids (ending with `<|endoftext|>`) and the
//! token-aligned loss mask they imply (0 on the first `prompt_tokens`, 1 after).

use std::path::{Path, PathBuf};

use arrow::array::{Array, Int64Array, ListArray, UInt32Array};
use corpus_core::manifest::Manifest;
use corpus_core::table::{column, for_each_batch_columns};

use crate::error::{ExportError, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub ids: Vec<u32>,
    pub prompt_tokens: usize,
}

impl Document {
    /// 1 where the token is a training target.
    pub fn mask(&self) -> Vec<u8> {
        let mut mask = vec![1u8; self.ids.len()];
        for m in mask.iter_mut().take(self.prompt_tokens) {
            *m = 0;
        }
        mask
    }
}

/// The shard files of a run, in order (`shard-*` then `validation-*`), with their manifest.
pub fn shard_files(shards_dir: &Path) -> Result<(Manifest, Vec<PathBuf>)> {
    let manifest = Manifest::read(shards_dir)?.ok_or_else(|| {
        ExportError::Usage(format!(
            "{} is not complete (no _manifest.json): run the shard stage first",
            shards_dir.display()
        ))
    })?;
    let files = manifest
        .parts
        .iter()
        .map(|p| shards_dir.join(&p.file))
        .collect();
    Ok((manifest, files))
}

/// Stream the documents of one shard file.
pub fn for_each_document(path: &Path, mut f: impl FnMut(Document) -> Result<()>) -> Result<()> {
    let mut failure = None;
    for_each_batch_columns(path, &["input_ids", "prompt_tokens"], 512, |batch| {
        let ids = column::<ListArray>(&batch, "input_ids")?;
        let prompt = column::<Int64Array>(&batch, "prompt_tokens")?;
        for row in 0..batch.num_rows() {
            let list = ids.value(row);
            let values = list
                .as_any()
                .downcast_ref::<UInt32Array>()
                .ok_or_else(|| corpus_core::Error::Input("input_ids are not uint32".into()))?;
            let document = Document {
                ids: values.values().to_vec(),
                prompt_tokens: prompt.value(row).max(0) as usize,
            };
            if let Err(e) = f(document) {
                failure = Some(e);
                return Err(corpus_core::Error::Internal("export stopped".into()));
            }
        }
        Ok(())
    })
    .map_err(|e| failure.take().unwrap_or_else(|| ExportError::from(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mask_is_a_prefix_of_zeros() {
        let d = Document {
            ids: vec![1, 2, 3, 151643],
            prompt_tokens: 2,
        };
        assert_eq!(d.mask(), vec![0, 0, 1, 1]);
    }
}
