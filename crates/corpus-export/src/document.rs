//! Documents of the shards, in shard order: ids (ending with `<|endoftext|>`) and the
//! token-aligned loss mask they imply (0 on the first `prompt_tokens`, 1 after).

use std::path::{Path, PathBuf};

use corpus_core::manifest::Manifest;
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::Int32Type;
use parquet::file::reader::{FileReader, RowGroupReader, SerializedFileReader};

use crate::error::{ExportError, Result};
use crate::id_pages;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub ids: Vec<u32>,
    pub prompt_tokens: usize,
}

impl Document {
    /// The tokens not trained on: the prompt, at most the whole document.
    pub fn masked_prefix(&self) -> usize {
        self.prompt_tokens.min(self.ids.len())
    }

    /// 1 where the token is a training target.
    pub fn mask(&self) -> Vec<u8> {
        let mut mask = vec![1u8; self.ids.len()];
        mask[..self.masked_prefix()].fill(0);
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

/// Stream the documents of one shard file. The columns are read with parquet's page and
/// column readers, not as Arrow lists: the ids of a document come out as one buffer (no list
/// arrays, validity bitmaps or per-row downcasts). Chunks in the shard stage's layout are
/// read page by page ([`id_pages`]); others (older shards with a dictionary) go through
/// parquet's column reader.
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
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g).map_err(|e| bad(e.to_string()))?;
        let rows = group.metadata().num_rows().max(0) as usize;
        let prompts = read_prompts(group.as_ref(), prompt_col, rows, bad)?;
        let mut row = 0;
        let mut emit = |ids: Vec<u32>| {
            let prompt = prompts
                .get(row)
                .ok_or_else(|| bad(format!("input_ids hold more than {rows} rows")))?;
            row += 1;
            f(Document {
                ids,
                prompt_tokens: (*prompt).max(0) as usize,
            })
        };
        if id_pages::supported(group.metadata().column(ids_col)) {
            let pages = group
                .get_column_page_reader(ids_col)
                .map_err(|e| bad(e.to_string()))?;
            id_pages::read_documents(pages, max_def, &mut emit, bad)?;
        } else {
            let ids = match group.get_column_reader(ids_col) {
                Ok(ColumnReader::Int32ColumnReader(r)) => r,
                Ok(_) => return Err(bad("input_ids are not 32-bit integers".into())),
                Err(e) => return Err(bad(e.to_string())),
            };
            read_with_column_reader(ids, max_def, rows, &mut emit, bad)?;
        }
        if row != rows {
            return Err(bad(format!("input_ids end at row {row} of {rows}")));
        }
    }
    Ok(())
}

/// A row group's `prompt_tokens`, one per row.
fn read_prompts(
    group: &dyn RowGroupReader,
    column: usize,
    rows: usize,
    bad: impl Fn(String) -> ExportError,
) -> Result<Vec<i64>> {
    let mut prompts: Vec<i64> = Vec::with_capacity(rows);
    let mut def = Vec::new();
    match group.get_column_reader(column) {
        Ok(ColumnReader::Int64ColumnReader(mut r)) => {
            while prompts.len() < rows {
                def.clear();
                let (records, _, _) = r
                    .read_records(rows - prompts.len(), Some(&mut def), None, &mut prompts)
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
    Ok(prompts)
}

/// The documents of a row group through parquet's column reader, 256 records at a time,
/// split at the repetition levels.
fn read_with_column_reader(
    mut ids: ColumnReaderImpl<Int32Type>,
    max_def: i16,
    rows: usize,
    mut emit: impl FnMut(Vec<u32>) -> Result<()>,
    bad: impl Fn(String) -> ExportError,
) -> Result<()> {
    const RECORDS: usize = 256;
    let (mut def, mut rep, mut values) = (Vec::new(), Vec::new(), Vec::<i32>::new());
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
            return Ok(());
        }
        // Each repetition level 0 starts a document; a level below the maximum definition
        // is an empty list (no value). Without empty lists every level holds a value, so
        // the definition levels need no scan.
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
            emit(slice.iter().map(|v| *v as u32).collect())?;
            row += 1;
            level = end;
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

    /// 700 documents of varied lengths (some empty) written with `props`, 300 rows a row
    /// group (the column reader's 256-record batches cross row groups' ends).
    fn write_documents(
        path: &Path,
        props: parquet::file::properties::WriterPropertiesBuilder,
    ) -> Vec<Document> {
        use arrow::array::{ArrayRef, Int64Array, ListArray, UInt32Array};
        use arrow::buffer::OffsetBuffer;
        use arrow::datatypes::{DataType, Field, Schema};
        use std::sync::Arc;
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
        let props = props.set_max_row_group_row_count(Some(300)).build();
        let mut writer = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(path).expect("create"),
            schema,
            Some(props),
        )
        .expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        docs
    }

    fn read_all(path: &Path) -> Vec<Document> {
        let mut read = Vec::new();
        for_each_document(path, |d| {
            read.push(d);
            Ok(())
        })
        .expect("read");
        read
    }

    /// Whether the ids of the file's first row group are read page by page.
    fn read_by_pages(path: &Path) -> bool {
        let reader =
            SerializedFileReader::new(std::fs::File::open(path).expect("open")).expect("reader");
        id_pages::supported(reader.metadata().row_group(0).column(0))
    }

    #[test]
    fn documents_come_back_exactly_in_every_page_layout() {
        use parquet::basic::Encoding;
        use parquet::file::properties::{WriterProperties, WriterVersion};
        use parquet::schema::types::ColumnPath;
        let split = || {
            WriterProperties::builder()
                .set_dictionary_enabled(false)
                .set_column_encoding(
                    ColumnPath::new(vec!["input_ids".into(), "list".into(), "item".into()]),
                    Encoding::BYTE_STREAM_SPLIT,
                )
        };
        // Tiny pages and write batches make documents span pages.
        let layouts = [
            (
                "dictionary (older shards)",
                WriterProperties::builder(),
                false,
            ),
            ("byte stream split", split(), true),
            (
                "byte stream split, documents across pages",
                split().set_data_page_size_limit(64).set_write_batch_size(5),
                true,
            ),
            (
                "byte stream split, v2 pages",
                split()
                    .set_writer_version(WriterVersion::PARQUET_2_0)
                    .set_data_page_size_limit(64)
                    .set_write_batch_size(5),
                true,
            ),
            (
                "plain",
                WriterProperties::builder()
                    .set_dictionary_enabled(false)
                    .set_data_page_size_limit(100),
                true,
            ),
            (
                "delta (v2 pages' default)",
                WriterProperties::builder()
                    .set_dictionary_enabled(false)
                    .set_writer_version(WriterVersion::PARQUET_2_0),
                false,
            ),
        ];
        let dir = tempfile::tempdir().expect("tempdir");
        for (i, (name, props, by_pages)) in layouts.into_iter().enumerate() {
            let path = dir.path().join(format!("shard-{i}.parquet"));
            let docs = write_documents(&path, props);
            assert_eq!(read_by_pages(&path), by_pages, "{name}");
            assert_eq!(read_all(&path), docs, "{name}");
        }
    }

    #[test]
    fn a_shard_cut_short_is_an_error_not_a_panic() {
        use parquet::file::properties::WriterProperties;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shard.parquet");
        write_documents(
            &path,
            WriterProperties::builder()
                .set_dictionary_enabled(false)
                .set_compression(parquet::basic::Compression::ZSTD(Default::default())),
        );
        assert!(read_by_pages(&path));
        // Keep the footer but zero the middle of the data: the pages no longer decode.
        let mut broken = std::fs::read(&path).expect("read");
        let middle = broken.len() / 3;
        broken[middle..middle + 200].fill(0);
        std::fs::write(&path, &broken).expect("write");
        let error = for_each_document(&path, |_| Ok(())).expect_err("a broken shard");
        assert!(error.to_string().contains("shard.parquet"), "{error}");
    }
}
