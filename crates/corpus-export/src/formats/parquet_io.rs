//! Writing and reading the Parquet files of the `megatron-bridge` and `hf` formats.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, Int8Array, Int32Array, ListArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::{ArrowSchemaConverter, add_encoded_arrow_schema_to_metadata};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnDescPtr;

use super::AtomicFile;
use super::list_chunk::ChunkEncoder;
use crate::error::{ExportError, Result};

/// Rows of a list column, flat: the values of every row in order and each row's length (no
/// vector per row, and the values become the Arrow buffer without a copy).
#[derive(Debug, Default)]
pub struct Lists<T> {
    values: Vec<T>,
    lengths: Vec<usize>,
}

impl<T> Lists<T> {
    pub fn with_capacity(rows: usize, values: usize) -> Self {
        Self {
            values: Vec::with_capacity(values),
            lengths: Vec::with_capacity(rows),
        }
    }

    /// A row of these values.
    pub fn row(&mut self, items: impl IntoIterator<Item = T>) -> &mut [T] {
        self.start_row();
        self.extend_row(items)
    }

    /// Start an empty row, then [`Self::extend_row`] it.
    pub fn start_row(&mut self) {
        self.lengths.push(0);
    }

    /// Append values to the last row; returns them, to be changed in place.
    pub fn extend_row(&mut self, items: impl IntoIterator<Item = T>) -> &mut [T] {
        let before = self.values.len();
        self.values.extend(items);
        let added = self.values.len() - before;
        match self.lengths.last_mut() {
            Some(last) => *last += added,
            None => self.lengths.push(added),
        }
        &mut self.values[before..]
    }
}

pub enum Column {
    I32(Lists<i32>),
    I8(Lists<i8>),
}

impl Column {
    /// Row lengths and the values as int32 (Parquet's physical type for both).
    fn into_i32(self) -> (Vec<usize>, Vec<i32>) {
        match self {
            Column::I32(l) => (l.lengths, l.values),
            Column::I8(l) => (l.lengths, l.values.iter().map(|v| i32::from(*v)).collect()),
        }
    }
}

pub fn schema(columns: &[(&str, DataType)]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, t)| {
                Field::new(
                    *name,
                    DataType::List(Arc::new(Field::new("item", t.clone(), false))),
                    false,
                )
            })
            .collect::<Vec<_>>(),
    ))
}

/// A Parquet file of list columns, written in row batches: one row group a batch, each
/// column chunk encoded by [`ChunkEncoder`]. Token ids have ~150k distinct values, so no
/// dictionary (hashing every value costs more than it saves), and zstd's fastest level.
/// Values are BYTE_STREAM_SPLIT (a page's first bytes, then its second bytes, ...): ids stay
/// below 2^18 and masks are 0 or 1, so the high bytes become runs zstd passes over quickly.
/// Integer columns in this encoding need pyarrow >= 16 or parquet-rs.
pub struct ListFile {
    writer: SerializedFileWriter<AtomicFile>,
    columns: Vec<ColumnDescPtr>,
    encoder: ChunkEncoder,
    path: PathBuf,
}

impl ListFile {
    pub fn create(path: &Path, schema: SchemaRef) -> Result<Self> {
        let bad = |e: String| ExportError::Usage(format!("{}: {e}", path.display()));
        let file = AtomicFile::create(path)?;
        let descr = ArrowSchemaConverter::new()
            .convert(&schema)
            .map_err(|e| bad(e.to_string()))?;
        // Statistics (min/max of token ids) serve no reader here.
        let mut props = WriterProperties::builder()
            .set_statistics_enabled(EnabledStatistics::None)
            .build();
        // Readers get the Arrow schema back (field names, int8 masks) as with Arrow's writer.
        add_encoded_arrow_schema_to_metadata(&schema, &mut props);
        let columns = descr.columns().to_vec();
        let writer = SerializedFileWriter::new(file, descr.root_schema_ptr(), Arc::new(props))
            .map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            writer,
            columns,
            encoder: ChunkEncoder::new().map_err(bad)?,
            path: path.to_path_buf(),
        })
    }

    /// One row group of these columns, in the schema's order.
    pub fn write(&mut self, columns: Vec<(&str, Column)>) -> Result<()> {
        let bad = |e: String| ExportError::Usage(format!("{}: {e}", self.path.display()));
        if columns.len() != self.columns.len() {
            return Err(bad(format!(
                "{} columns for a schema of {}",
                columns.len(),
                self.columns.len()
            )));
        }
        let mut group = self
            .writer
            .next_row_group()
            .map_err(|e| bad(e.to_string()))?;
        for ((name, column), descr) in columns.into_iter().zip(&self.columns) {
            if descr.path().parts().first().map(String::as_str) != Some(name) {
                return Err(bad(format!("column {name} is not {}", descr.path())));
            }
            let (lengths, values) = column.into_i32();
            let chunk = self
                .encoder
                .encode(descr.clone(), &lengths, &values)
                .map_err(bad)?;
            group
                .append_column(&chunk.bytes, chunk.close)
                .map_err(|e| bad(e.to_string()))?;
        }
        group.close().map_err(|e| bad(e.to_string()))?;
        Ok(())
    }

    pub fn commit(self) -> Result<()> {
        let file = self
            .writer
            .into_inner()
            .map_err(|e| ExportError::Usage(format!("close parquet: {e}")))?;
        file.commit()
    }
}

/// Items (documents or packs) written as rows of a [`ListFile`], `rows` at a time.
pub struct RowWriter<T, F> {
    file: ListFile,
    pending: Vec<T>,
    rows: usize,
    columns: F,
}

impl<T, F: Fn(&[T]) -> Vec<(&'static str, Column)>> RowWriter<T, F> {
    pub fn new(file: ListFile, rows: usize, columns: F) -> Self {
        Self {
            file,
            pending: Vec::with_capacity(rows),
            rows: rows.max(1),
            columns,
        }
    }

    pub fn push(&mut self, item: T) -> Result<()> {
        self.pending.push(item);
        if self.pending.len() >= self.rows {
            self.file.write((self.columns)(&self.pending))?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Write what is pending, then rename the file into place.
    pub fn commit(mut self) -> Result<()> {
        if !self.pending.is_empty() {
            self.file.write((self.columns)(&self.pending))?;
        }
        self.file.commit()
    }
}

/// Every row of list columns `names` of a Parquet file, as i32 (int8 widened).
pub fn read_lists(path: &Path, names: &[&str]) -> Result<Vec<Vec<Vec<i32>>>> {
    let mut out: Vec<Vec<Vec<i32>>> = vec![Vec::new(); names.len()];
    corpus_core::table::for_each_batch(path, 1024, |batch| {
        for (i, name) in names.iter().enumerate() {
            let list = batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<ListArray>())
                .ok_or_else(|| {
                    corpus_core::Error::Input(format!("{}: no list column {name}", path.display()))
                })?;
            for row in 0..list.len() {
                let values = list.value(row);
                let ints: Vec<i32> = if let Some(a) = values.as_any().downcast_ref::<Int32Array>() {
                    a.values().to_vec()
                } else if let Some(a) = values.as_any().downcast_ref::<Int8Array>() {
                    a.values().iter().map(|v| i32::from(*v)).collect()
                } else {
                    return Err(corpus_core::Error::Input(format!(
                        "{name}: not int32 or int8"
                    )));
                };
                out[i].push(ints);
            }
        }
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_files_read_back_exactly_across_pages_and_row_groups() {
        // Rows: empty ones, one-value ones, and long ones that fill several pages (a page is
        // cut at 2^18 values, at the end of a row); int8 values widened like masks.
        let lengths: Vec<usize> = vec![0, 1, 5, 0, 0, 300_000, 1, 70_000, 200_000, 3, 0];
        let rows: Vec<Vec<i32>> = lengths
            .iter()
            .enumerate()
            .map(|(r, n)| (0..*n).map(|i| ((i * 7919 + r) % 151_700) as i32).collect())
            .collect();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lists.parquet");
        let schema = schema(&[("ids", DataType::Int32), ("mask", DataType::Int8)]);
        let mut file = ListFile::create(&path, schema).expect("create");
        for batch in [&rows[..4], &rows[4..]] {
            let mut ids = Lists::with_capacity(batch.len(), 0);
            let mut mask = Lists::with_capacity(batch.len(), 0);
            for row in batch {
                ids.row(row.iter().copied());
                mask.row(row.iter().map(|v| (v % 2) as i8));
            }
            file.write(vec![("ids", Column::I32(ids)), ("mask", Column::I8(mask))])
                .expect("write");
        }
        file.commit().expect("commit");
        let read = read_lists(&path, &["ids", "mask"]).expect("read");
        assert_eq!(read[0], rows);
        let masks: Vec<Vec<i32>> = rows
            .iter()
            .map(|r| r.iter().map(|v| v % 2).collect())
            .collect();
        assert_eq!(read[1], masks);
        // The columns are what a loader's schema expects: non-null lists of non-null items.
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(&path).expect("open"),
        )
        .expect("reader");
        assert_eq!(
            reader.schema().field(1).data_type(),
            &DataType::List(Arc::new(Field::new("item", DataType::Int8, false)))
        );
        assert_eq!(reader.metadata().num_row_groups(), 2);
    }

    #[test]
    fn columns_out_of_the_schema_order_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lists.parquet");
        let schema = schema(&[("a", DataType::Int32), ("b", DataType::Int32)]);
        let mut file = ListFile::create(&path, schema).expect("create");
        let one = || {
            let mut l = Lists::with_capacity(1, 1);
            l.row([1]);
            Column::I32(l)
        };
        let error = file
            .write(vec![("b", one()), ("a", one())])
            .expect_err("order");
        assert!(error.to_string().contains("column b"), "{error}");
        assert!(file.write(vec![("a", one())]).is_err());
    }
}
