//! Megatron-Bridge packed SFT Parquet (`*.idx.parquet`): per packed sequence `input_ids`,
//! `seq_start_id` (document starts, first 0) and `loss_mask`, label-aligned:
//! `loss_mask[j] = m[j+1]`, 0 at the last token of each document.

use std::path::Path;

use arrow::datatypes::DataType;

use super::parquet_io::{Column, ListFile, Lists, RowWriter, read_lists, schema};
use super::{ReadDocument, WriteContext, Written, file_with};
use crate::error::{ExportError, Result};
use crate::pack::{Pack, pack_shard};

const ROWS: usize = 64;

/// The label-aligned mask of a document of `len` tokens whose first `prompt_tokens` are the
/// prompt: position j is 1 when token j+1 is a target, and the last position is 0. Runs of
/// constants, not a mask built and shifted per document.
fn label_aligned_mask(len: usize, prompt_tokens: usize) -> impl Iterator<Item = i8> {
    let positions = len.saturating_sub(1);
    let zeros = prompt_tokens.saturating_sub(1).min(positions);
    std::iter::repeat_n(0, zeros)
        .chain(std::iter::repeat_n(1, positions - zeros))
        .chain(std::iter::repeat_n(0, usize::from(len > 0)))
}

fn columns(packs: &[Pack]) -> Vec<(&'static str, Column)> {
    let total = packs.iter().map(|p| p.tokens).sum();
    let mut ids = Lists::with_capacity(packs.len(), total);
    let mut starts = Lists::default();
    let mut masks = Lists::with_capacity(packs.len(), total);
    for p in packs {
        ids.start_row();
        masks.start_row();
        for d in &p.documents {
            ids.extend_row(d.ids.iter().map(|i| *i as i32));
            masks.extend_row(label_aligned_mask(d.ids.len(), d.prompt_tokens));
        }
        starts.row(p.starts().into_iter().map(|s| s as i32));
    }
    vec![
        ("input_ids", Column::I32(ids)),
        ("seq_start_id", Column::I32(starts)),
        ("loss_mask", Column::I8(masks)),
    ]
}

pub fn write(shard: &Path, dir: &Path, stem: &str, ctx: &WriteContext) -> Result<Written> {
    let name = format!("{stem}.idx.parquet");
    let file = ListFile::create(
        &dir.join(&name),
        schema(&[
            ("input_ids", DataType::Int32),
            ("seq_start_id", DataType::Int32),
            ("loss_mask", DataType::Int8),
        ]),
    )?;
    let mut rows = RowWriter::new(file, ROWS, columns);
    let counts = pack_shard(shard, ctx.sequence_length, |pack| rows.push(pack))?;
    rows.commit()?;
    Ok(Written {
        files: vec![name],
        documents: counts.documents,
        tokens: counts.tokens,
        too_long: counts.too_long,
    })
}

pub fn read(dir: &Path, files: &[String]) -> Result<Vec<ReadDocument>> {
    let path = dir.join(file_with(files, ".idx.parquet")?);
    let lists = read_lists(&path, &["input_ids", "seq_start_id", "loss_mask"])?;
    let mut docs = Vec::new();
    for ((ids, starts), mask) in lists[0].iter().zip(&lists[1]).zip(&lists[2]) {
        // Bridge's documented rules: starts begin at 0, increase, stay below the length;
        // the mask has the ids' length.
        let valid = starts.first() == Some(&0)
            && starts.windows(2).all(|w| w[0] < w[1])
            && starts.last().is_some_and(|s| (*s as usize) < ids.len())
            && mask.len() == ids.len();
        if !valid {
            return Err(ExportError::Mismatch(format!(
                "{}: a packed row breaks the format's rules (starts {starts:?}, {} ids, {} mask)",
                path.display(),
                ids.len(),
                mask.len()
            )));
        }
        let mut bounds: Vec<usize> = starts.iter().map(|s| *s as usize).collect();
        bounds.push(ids.len());
        for w in bounds.windows(2) {
            docs.push(ReadDocument {
                ids: ids[w[0]..w[1]].iter().map(|i| *i as u32).collect(),
                mask: Some(mask[w[0]..w[1]].iter().map(|m| *m as u8).collect()),
            });
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Document;
    use crate::formats::{Format, native_mask};

    #[test]
    fn the_mask_runs_equal_the_shifted_token_mask() {
        for len in 0..6 {
            for prompt_tokens in 0..8 {
                let doc = Document {
                    ids: (0..len as u32).collect(),
                    prompt_tokens,
                };
                let expected: Vec<i8> = native_mask(Format::MegatronBridge, &doc, false)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| m as i8)
                    .collect();
                let runs: Vec<i8> = label_aligned_mask(len, prompt_tokens).collect();
                assert_eq!(runs, expected, "len {len}, prompt {prompt_tokens}");
            }
        }
    }
}
