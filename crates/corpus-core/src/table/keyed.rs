//! Reading the rows of one key (a repository) from a table sorted by that key. Every stage
//! writes its tables in unit-key order, so a key's rows sit in a few row groups, and the
//! row groups' min/max statistics say which: a per-repository stage reads only those.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{Array, StringArray};
use arrow::compute::filter_record_batch;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::statistics::Statistics;

use crate::error::{Error, IoContext, Result};
use crate::table::table_parts;

struct RowGroupRange {
    index: usize,
    /// Min and max of the key column; None where the writer kept no statistics.
    range: Option<(String, String)>,
}

/// Row groups of a table, with the range of a key column in each.
pub struct KeyedTable {
    column: String,
    parts: Vec<(PathBuf, Vec<RowGroupRange>)>,
}

impl KeyedTable {
    pub fn open(table_dir: &Path, column: &str) -> Result<Self> {
        let mut parts = Vec::new();
        for path in table_parts(table_dir)? {
            let file = File::open(&path).at("open", &path)?;
            let reader = SerializedFileReader::new(file)
                .map_err(|e| Error::parquet(format!("read {}", path.display()), e))?;
            let meta = reader.metadata();
            let column_index = meta
                .file_metadata()
                .schema_descr()
                .columns()
                .iter()
                .position(|c| c.path().string() == column);
            let mut groups = Vec::new();
            for (index, group) in meta.row_groups().iter().enumerate() {
                let range = column_index
                    .and_then(|i| group.column(i).statistics())
                    .and_then(|stats| match stats {
                        Statistics::ByteArray(s) => {
                            let min = s.min_opt()?.as_utf8().ok()?.to_string();
                            let max = s.max_opt()?.as_utf8().ok()?.to_string();
                            Some((min, max))
                        }
                        _ => None,
                    });
                groups.push(RowGroupRange { index, range });
            }
            parts.push((path, groups));
        }
        Ok(Self {
            column: column.to_string(),
            parts,
        })
    }

    /// The table when it is complete (has a manifest), else None: for optional inputs.
    pub fn open_if_present(table_dir: &Path, column: &str) -> Result<Option<Self>> {
        match crate::manifest::Manifest::read(table_dir)? {
            Some(_) => Ok(Some(Self::open(table_dir, column)?)),
            None => Ok(None),
        }
    }

    /// Stream the rows whose key column equals `key`, in table order.
    pub fn for_each_batch_of(
        &self,
        key: &str,
        batch_rows: usize,
        f: impl FnMut(RecordBatch) -> Result<()>,
    ) -> Result<()> {
        self.for_each_batch_of_columns(key, None, batch_rows, f)
    }

    /// As [`Self::for_each_batch_of`], reading only `columns` (the key column is added): a
    /// stage that needs a few small columns of a wide table skips the rest.
    pub fn for_each_batch_of_columns(
        &self,
        key: &str,
        columns: Option<&[&str]>,
        batch_rows: usize,
        mut f: impl FnMut(RecordBatch) -> Result<()>,
    ) -> Result<()> {
        for (path, groups) in &self.parts {
            let wanted: Vec<usize> = groups
                .iter()
                .filter(|g| match &g.range {
                    Some((min, max)) => min.as_str() <= key && key <= max.as_str(),
                    None => true,
                })
                .map(|g| g.index)
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let file = File::open(path).at("open", path)?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| Error::parquet(format!("read {}", path.display()), e))?;
            let builder = match columns {
                Some(columns) => {
                    let names = columns
                        .iter()
                        .copied()
                        .chain(std::iter::once(self.column.as_str()));
                    let mask = ProjectionMask::columns(builder.parquet_schema(), names);
                    builder.with_projection(mask)
                }
                None => builder,
            };
            let reader = builder
                .with_row_groups(wanted)
                .with_batch_size(batch_rows.max(1))
                .build()
                .map_err(|e| Error::parquet(format!("read {}", path.display()), e))?;
            for batch in reader {
                let batch =
                    batch.map_err(|e| Error::arrow(format!("read {}", path.display()), e))?;
                let keys = batch
                    .column_by_name(&self.column)
                    .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                    .ok_or_else(|| {
                        Error::Input(format!(
                            "{}: no utf8 column {}",
                            path.display(),
                            self.column
                        ))
                    })?;
                let mask: arrow::array::BooleanArray = (0..keys.len())
                    .map(|i| Some(!keys.is_null(i) && keys.value(i) == key))
                    .collect();
                let selected = filter_record_batch(&batch, &mask)
                    .map_err(|e| Error::arrow("filter rows by key", e))?;
                if selected.num_rows() > 0 {
                    f(selected)?;
                }
            }
        }
        Ok(())
    }
}
