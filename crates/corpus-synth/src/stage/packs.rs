//! A repository's commit packs spilled to scratch and read back by PR: each PR's commits
//! (sha, message, diff) replay its history, and holding every pack of a long history at once
//! grew with the repository.

use std::path::Path;

use corpus_core::rows::CommitPackRow;
use corpus_core::table::KeyedTable;

use super::NAME;
use corpus_stage::error::{Result, StageError};
use corpus_stage::spill::{Spill, SpillWriter, pack_fields, unpack_fields};
use corpus_stage::stage::each_batch_of;

/// A PR's commits as (sha, message, diff), and whether its branch merged another.
pub type PrCommits = (Vec<(String, String, String)>, bool);

pub struct SpilledPacks {
    spill: Spill<i64>,
}

impl SpilledPacks {
    pub fn collect(table: &KeyedTable, key: &str, scratch_dir: &Path) -> Result<Self> {
        let mut writer = SpillWriter::new(scratch_dir)?;
        each_batch_of(table, key, 256, |batch| {
            for pack in CommitPackRow::from_batch(&batch)? {
                let merges: &[u8] = if pack.has_merge_in_branch { b"1" } else { b"0" };
                let fields = std::iter::once(merges).chain(
                    pack.commits
                        .iter()
                        .flat_map(|c| [c.sha.as_bytes(), c.message.as_bytes(), c.diff.as_bytes()]),
                );
                writer.put(pack.pr_number, &pack_fields(fields))?;
            }
            Ok(())
        })?;
        Ok(Self {
            spill: writer.finish()?,
        })
    }

    /// PR `number`'s commits, if it has a pack.
    pub fn of(&self, number: i64) -> Result<Option<PrCommits>> {
        let Some(record) = self.spill.get(&number)? else {
            return Ok(None);
        };
        let damaged = || {
            StageError::stage(
                NAME,
                format!("the commit pack of PR {number} came back damaged from scratch"),
            )
        };
        let fields = unpack_fields(&record).ok_or_else(damaged)?;
        let (merges, commits) = fields.split_first().ok_or_else(damaged)?;
        if commits.len() % 3 != 0 {
            return Err(damaged());
        }
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| damaged());
        let commits = commits
            .chunks(3)
            .map(|c| Ok((text(c[0])?, text(c[1])?, text(c[2])?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((commits, *merges == b"1")))
    }
}
