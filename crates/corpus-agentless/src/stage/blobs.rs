//! A repository's `blobs` rows spilled to scratch and read back by id. `format` renders a PR
//! from the before and after versions of its files; holding every blob of a long history at
//! once grew with the repository (gigabytes), so each PR reads back its own.

use std::path::Path;

use crate::samples::BlobContents;
use corpus_core::rows::{BlobRow, PatchRow};
use corpus_core::table::KeyedTable;

use corpus_stage::error::{Result, StageError};
use corpus_stage::spill::{Spill, SpillWriter};

pub struct SpilledBlobs {
    spill: Spill<String>,
}

impl SpilledBlobs {
    /// Spill the blobs of repository `key` into a scratch file in `scratch_dir`.
    pub fn collect(table: &KeyedTable, key: &str, scratch_dir: &Path) -> Result<Self> {
        let mut writer = SpillWriter::new(scratch_dir)?;
        corpus_stage::stage::each_batch_of(table, key, 1024, |batch| {
            for blob in BlobRow::from_batch(&batch)? {
                writer.put(blob.blob_id, blob.content.as_bytes())?;
            }
            Ok(())
        })?;
        Ok(Self {
            spill: writer.finish()?,
        })
    }

    /// The contents of the blobs `patch` names (before and after each file); a blob the
    /// table lacks is left out, as it was when every blob was in memory (the renderer then
    /// drops the PR as `missing_blob`).
    pub fn for_patch(&self, patch: &PatchRow) -> Result<BlobContents> {
        let mut contents = BlobContents::new();
        let ids = patch
            .files
            .iter()
            .flat_map(|f| [f.before_blob.as_ref(), f.after_blob.as_ref()])
            .flatten();
        for id in ids {
            if contents.contains_key(id) {
                continue;
            }
            if let Some(bytes) = self.spill.get(id)? {
                // Written from a String a moment ago: anything else is a damaged disk.
                let text = String::from_utf8(bytes).map_err(|e| {
                    StageError::stage(
                        "format",
                        format!("blob {id} came back damaged from scratch: {e}"),
                    )
                })?;
                contents.insert(id.clone(), text);
            }
        }
        Ok(contents)
    }
}
