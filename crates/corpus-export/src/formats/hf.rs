//! HF `datasets` Parquet under `data/{split}-NNNNN-of-MMMMM.parquet`: one document per row
//! (`input_ids`, `labels` = the id or -100 on prompt tokens, not shifted), or packed rows
//! (`input_ids`, `position_ids` restarting at 0 per document, `labels` with the first label of
//! every document -100, `cu_seqlens` `[0, ..., L]`).

use std::path::Path;

use arrow::datatypes::DataType;

use super::parquet_io::{Column, ListFile, Lists, RowWriter, read_lists, schema};
use super::{ReadDocument, WriteContext, Written};
use crate::document::{Document, for_each_document};
use crate::error::{ExportError, Result};
use crate::pack::{Pack, pack_shard};

const ROWS: usize = 256;
const IGNORE: i32 = -100;

/// Turn a document's ids, copied as labels, into its labels: -100 on the prompt (and,
/// packed, on its first token). A slice fill, not a test per token.
pub fn mask_labels(labels: &mut [i32], prompt_tokens: usize, packed: bool) {
    let ignored = if packed {
        prompt_tokens.max(1)
    } else {
        prompt_tokens
    };
    let end = ignored.min(labels.len());
    labels[..end].fill(IGNORE);
}

fn as_i32(ids: &[u32]) -> impl Iterator<Item = i32> + '_ {
    ids.iter().map(|i| *i as i32)
}

pub fn file_name(ctx: &WriteContext) -> String {
    format!(
        "data/{}-{:05}-of-{:05}.parquet",
        ctx.split,
        ctx.index,
        ctx.count.max(1)
    )
}

fn unpacked(docs: &[Document]) -> Vec<(&'static str, Column)> {
    let total = docs.iter().map(|d| d.ids.len()).sum();
    let mut ids = Lists::with_capacity(docs.len(), total);
    let mut label_rows = Lists::with_capacity(docs.len(), total);
    for d in docs {
        ids.row(as_i32(&d.ids));
        mask_labels(label_rows.row(as_i32(&d.ids)), d.prompt_tokens, false);
    }
    vec![
        ("input_ids", Column::I32(ids)),
        ("labels", Column::I32(label_rows)),
    ]
}

fn packed(packs: &[Pack]) -> Vec<(&'static str, Column)> {
    let total = packs.iter().map(|p| p.tokens).sum();
    let mut ids = Lists::with_capacity(packs.len(), total);
    let mut positions = Lists::with_capacity(packs.len(), total);
    let mut label_rows = Lists::with_capacity(packs.len(), total);
    let mut cu = Lists::default();
    for p in packs {
        ids.start_row();
        positions.start_row();
        label_rows.start_row();
        for d in &p.documents {
            ids.extend_row(as_i32(&d.ids));
            positions.extend_row(0..d.ids.len() as i32);
            mask_labels(label_rows.extend_row(as_i32(&d.ids)), d.prompt_tokens, true);
        }
        cu.row(
            p.starts()
                .into_iter()
                .map(|s| s as i32)
                .chain(std::iter::once(p.tokens as i32)),
        );
    }
    vec![
        ("input_ids", Column::I32(ids)),
        ("position_ids", Column::I32(positions)),
        ("labels", Column::I32(label_rows)),
        ("cu_seqlens", Column::I32(cu)),
    ]
}

pub fn write(shard: &Path, dir: &Path, _stem: &str, ctx: &WriteContext) -> Result<Written> {
    let name = file_name(ctx);
    let path = dir.join(&name);
    let mut written = Written {
        files: vec![name],
        ..Default::default()
    };
    if ctx.hf_packed {
        let file = ListFile::create(
            &path,
            schema(&[
                ("input_ids", DataType::Int32),
                ("position_ids", DataType::Int32),
                ("labels", DataType::Int32),
                ("cu_seqlens", DataType::Int32),
            ]),
        )?;
        let mut rows = RowWriter::new(file, ROWS, packed);
        let counts = pack_shard(shard, ctx.sequence_length, |pack| rows.push(pack))?;
        rows.commit()?;
        written.documents = counts.documents;
        written.tokens = counts.tokens;
        written.too_long = counts.too_long;
    } else {
        let file = ListFile::create(
            &path,
            schema(&[("input_ids", DataType::Int32), ("labels", DataType::Int32)]),
        )?;
        let mut rows = RowWriter::new(file, ROWS, unpacked);
        for_each_document(shard, |doc| {
            written.documents += 1;
            written.tokens += doc.ids.len() as u64;
            rows.push(doc)
        })?;
        rows.commit()?;
    }
    Ok(written)
}

pub fn read(dir: &Path, files: &[String]) -> Result<Vec<ReadDocument>> {
    let path = dir.join(
        files
            .iter()
            .find(|f| f.ends_with(".parquet"))
            .ok_or_else(|| ExportError::Mismatch("no parquet file".into()))?,
    );
    let has_cu = corpus_core::table::for_each_batch(&path, 1, |_| Ok(())).is_ok()
        && read_lists(&path, &["cu_seqlens"]).is_ok();
    let to_mask = |labels: &[i32]| labels.iter().map(|l| u8::from(*l != IGNORE)).collect();
    if !has_cu {
        let lists = read_lists(&path, &["input_ids", "labels"])?;
        return Ok(lists[0]
            .iter()
            .zip(&lists[1])
            .map(|(ids, labels)| ReadDocument {
                ids: ids.iter().map(|i| *i as u32).collect(),
                mask: Some(to_mask(labels)),
            })
            .collect());
    }
    let lists = read_lists(
        &path,
        &["input_ids", "position_ids", "labels", "cu_seqlens"],
    )?;
    let mut docs = Vec::new();
    for (((ids, positions), labels), cu) in
        lists[0].iter().zip(&lists[1]).zip(&lists[2]).zip(&lists[3])
    {
        if cu.first() != Some(&0) || cu.last().map(|l| *l as usize) != Some(ids.len()) {
            return Err(ExportError::Mismatch(format!(
                "{}: cu_seqlens {cu:?}",
                path.display()
            )));
        }
        for w in cu.windows(2) {
            let (a, b) = (w[0] as usize, w[1] as usize);
            if positions[a..b]
                .iter()
                .enumerate()
                .any(|(i, p)| *p as usize != i)
            {
                return Err(ExportError::Mismatch(
                    "position_ids do not restart per document".into(),
                ));
            }
            docs.push(ReadDocument {
                ids: ids[a..b].iter().map(|i| *i as u32).collect(),
                mask: Some(to_mask(&labels[a..b])),
            });
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_hide_the_prompt_and_packed_the_first_token() {
        let mut labels = vec![5, 6, 7, 151643];
        mask_labels(&mut labels, 2, false);
        assert_eq!(labels, vec![-100, -100, 7, 151643]);
        let mut labels = vec![5, 6, 7, 151643];
        mask_labels(&mut labels, 0, false);
        assert_eq!(labels, vec![5, 6, 7, 151643]);
        let mut labels = vec![5, 6, 7, 151643];
        mask_labels(&mut labels, 0, true);
        assert_eq!(labels, vec![-100, 6, 7, 151643]);
        // A prompt count past the end (bad input) masks everything, never panics.
        let mut labels = vec![5, 6];
        mask_labels(&mut labels, 9, true);
        assert_eq!(labels, vec![-100, -100]);
    }
}
