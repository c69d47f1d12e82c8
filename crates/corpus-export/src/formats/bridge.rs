//! Megatron-Bridge packed SFT Parquet (`*.idx.parquet`): per packed sequence `input_ids`,
//! `seq_start_id` (document starts, first 0) and `loss_mask`, label-aligned:
//! `loss_mask[j] = m[j+1]`, 0 at the last token of each document.

use std::path::Path;

use arrow::datatypes::DataType;

use super::parquet_io::{Column, ListFile, Lists, RowWriter, read_lists, schema};
use super::{ReadDocument, WriteContext, Written, file_with, native_mask};
use crate::error::{ExportError, Result};
use crate::pack::{Pack, pack_shard};

const ROWS: usize = 64;

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
            masks.extend_row(
                native_mask(super::Format::MegatronBridge, d, false)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| m as i8),
            );
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
