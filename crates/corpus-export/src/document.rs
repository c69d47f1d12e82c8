//! Documents of the shards, in shard order: ids (ending with `<|endoftext|>`) and the
//! token-aligned loss mask they imply (0 on the first `prompt_tokens`, 1 after).

use std::path::{Path, PathBuf};

use corpus_core::manifest::Manifest;
use parquet::column::reader::ColumnReader;
use parquet::file::reader::{FileReader, SerializedFileReader};

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

/// Stream the documents of one shard file. The columns are read with parquet's column
/// readers, not as Arrow lists: the ids of a row group come out as one flat buffer split at
/// the repetition levels (no list arrays, validity bitmaps or per-row downcasts), which is
/// most of the read cost of an export.
pub fn for_each_document(path: &Path, mut f: impl FnMut(Document) -> Result<()>) -> Result<()> {
    let bad = |message: String| ExportError::Usage(format!("{}: {message}", path.display()));
    let file = std::fs::File::open(path).map_err(crate::error::io(path))?;
    let reader = SerializedFileReader::new(file).map_err(|e| bad(e.to_string()))?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let find = |name: &str| {
        schema
            .columns()
            .iter()
            .position(|c| c.path().parts().first().map(String::as_str) == Some(name))
            .ok_or_else(|| bad(format!("no column {name}")))
    };
    let (ids_col, prompt_col) = (find("input_ids")?, find("prompt_tokens")?);
    let ids_descr = schema.column(ids_col);
    if ids_descr.max_rep_level() != 1 {
        return Err(bad("input_ids is not a list".into()));
    }
    let max_def = ids_descr.max_def_level();
    const RECORDS: usize = 256;
    let (mut def, mut rep, mut values) = (Vec::new(), Vec::new(), Vec::<i32>::new());
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g).map_err(|e| bad(e.to_string()))?;
        let rows = group.metadata().num_rows().max(0) as usize;
        let mut prompts: Vec<i64> = Vec::with_capacity(rows);
        let mut prompt_def = Vec::new();
        match group.get_column_reader(prompt_col) {
            Ok(ColumnReader::Int64ColumnReader(mut r)) => {
                while prompts.len() < rows {
                    prompt_def.clear();
                    let (records, _, _) = r
                        .read_records(
                            rows - prompts.len(),
                            Some(&mut prompt_def),
                            None,
                            &mut prompts,
                        )
                        .map_err(|e| bad(e.to_string()))?;
                    if records == 0 {
                        break;
                    }
                }
            }
            Ok(_) => return Err(bad("prompt_tokens is not int64".into())),
            Err(e) => return Err(bad(e.to_string())),
        }
        if prompts.len() != rows {
            return Err(bad(format!(
                "{} prompt_tokens for {rows} rows",
                prompts.len()
            )));
        }
        let mut ids = match group.get_column_reader(ids_col) {
            Ok(ColumnReader::Int32ColumnReader(r)) => r,
            Ok(_) => return Err(bad("input_ids are not 32-bit integers".into())),
            Err(e) => return Err(bad(e.to_string())),
        };
        let mut row = 0;
        while row < rows {
            def.clear();
            rep.clear();
            values.clear();
            let (records, _, levels) = ids
                .read_records(
                    RECORDS.min(rows - row),
                    Some(&mut def),
                    Some(&mut rep),
                    &mut values,
                )
                .map_err(|e| bad(e.to_string()))?;
            if records == 0 {
                return Err(bad(format!("input_ids end at row {row} of {rows}")));
            }
            // Each repetition level 0 starts a document; a level below the maximum
            // definition is an empty list (no value). Without empty lists every level holds
            // a value, so the definition levels need no scan.
            if rep.len() < levels || def.len() < levels {
                return Err(bad("input_ids levels are missing".into()));
            }
            let every_level_a_value = values.len() == levels;
            let mut next_value = 0;
            let mut level = 0;
            while level < levels {
                let end = next_document_start(&rep[..levels], level + 1);
                let count = if every_level_a_value {
                    end - level
                } else {
                    def[level..end].iter().filter(|d| **d == max_def).count()
                };
                let slice = values
                    .get(next_value..next_value + count)
                    .ok_or_else(|| bad("input_ids levels and values disagree".into()))?;
                next_value += count;
                f(Document {
                    ids: slice.iter().map(|v| *v as u32).collect(),
                    prompt_tokens: prompts[row].max(0) as usize,
                })?;
                row += 1;
                level = end;
            }
        }
    }
    Ok(())
}

/// The first index from `from` whose repetition level is 0 (a new record), or the end.
/// Scans 32 levels at a time: the test of a whole block vectorizes, and documents are
/// thousands of tokens long.
fn next_document_start(rep: &[i16], from: usize) -> usize {
    const BLOCK: usize = 32;
    let mut i = from.min(rep.len());
    while i + BLOCK <= rep.len() {
        if rep[i..i + BLOCK]
            .iter()
            .fold(true, |all, r| all & (*r != 0))
        {
            i += BLOCK;
        } else {
            break;
        }
    }
    rep[i..]
        .iter()
        .position(|r| *r == 0)
        .map_or(rep.len(), |p| i + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_document_starts_at_the_next_zero_level() {
        let mut rep = vec![1i16; 100];
        rep[0] = 0;
        rep[70] = 0;
        assert_eq!(next_document_start(&rep, 1), 70);
        assert_eq!(next_document_start(&rep, 70), 70);
        assert_eq!(next_document_start(&rep, 71), 100);
        assert_eq!(next_document_start(&rep[..3], 1), 3);
        assert_eq!(next_document_start(&rep, 100), 100);
    }

    #[test]
    fn the_mask_is_a_prefix_of_zeros() {
        let d = Document {
            ids: vec![1, 2, 3, 151643],
            prompt_tokens: 2,
        };
        assert_eq!(d.mask(), vec![0, 0, 1, 1]);
    }

    #[test]
    fn documents_come_back_exactly_across_row_groups_and_batches() {
        use arrow::array::{ArrayRef, Int64Array, ListArray, UInt32Array};
        use arrow::buffer::OffsetBuffer;
        use arrow::datatypes::{DataType, Field, Schema};
        use std::sync::Arc;
        // 700 documents of varied lengths (one empty), 300 rows a row group: the reader's
        // 256-record batches cross row groups' ends.
        let docs: Vec<Document> = (0..700u32)
            .map(|i| Document {
                ids: (0..(i * 7) % 23).map(|t| t * 1000 + i).collect(),
                prompt_tokens: (i % 5) as usize,
            })
            .collect();
        let item = Arc::new(Field::new("item", DataType::UInt32, false));
        let values: Vec<u32> = docs.iter().flat_map(|d| d.ids.clone()).collect();
        let ids = ListArray::try_new(
            item.clone(),
            OffsetBuffer::from_lengths(docs.iter().map(|d| d.ids.len())),
            Arc::new(UInt32Array::from(values)),
            None,
        )
        .expect("list");
        let prompts = Int64Array::from_iter_values(docs.iter().map(|d| d.prompt_tokens as i64));
        let schema = Arc::new(Schema::new(vec![
            Field::new("input_ids", DataType::List(item), false),
            Field::new("prompt_tokens", DataType::Int64, false),
        ]));
        let batch = arrow::record_batch::RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(ids) as ArrayRef, Arc::new(prompts) as ArrayRef],
        )
        .expect("batch");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shard.parquet");
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(300))
            .build();
        let mut writer = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&path).expect("create"),
            schema,
            Some(props),
        )
        .expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        let mut read = Vec::new();
        for_each_document(&path, |d| {
            read.push(d);
            Ok(())
        })
        .expect("read");
        assert_eq!(read, docs);
    }
}
