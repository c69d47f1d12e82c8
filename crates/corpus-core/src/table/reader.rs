//! Reads tables back: the parts a manifest lists, in order, checking each one exists.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{Error, IoContext, Result};
use crate::manifest::Manifest;

/// Stream the batches of one Parquet file through `f` (memory: one batch at a time).
pub fn for_each_batch(
    path: &Path,
    batch_rows: usize,
    f: impl FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    stream(path, None, batch_rows, f)
}

/// Stream the batches of one Parquet file, reading only `columns`.
pub fn for_each_batch_columns(
    path: &Path,
    columns: &[&str],
    batch_rows: usize,
    f: impl FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    stream(path, Some(columns), batch_rows, f)
}

/// Both of the above: every column, or the top-level columns named in `projection`.
fn stream(
    path: &Path,
    projection: Option<&[&str]>,
    batch_rows: usize,
    mut f: impl FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).at("open", path)?;
    let mut builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::parquet(format!("read {}", path.display()), e))?;
    if let Some(columns) = projection {
        let schema = builder.parquet_schema();
        let indices: Vec<usize> = schema
            .columns()
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                let top = c.path().parts().first().map(String::as_str).unwrap_or("");
                columns.contains(&top)
            })
            .map(|(i, _)| i)
            .collect();
        let mask = parquet::arrow::ProjectionMask::leaves(schema, indices);
        builder = builder.with_projection(mask);
    }
    let reader = builder
        .with_batch_size(batch_rows.max(1))
        .build()
        .map_err(|e| Error::parquet(format!("read {}", path.display()), e))?;
    for batch in reader {
        let batch = batch.map_err(|e| Error::arrow(format!("read {}", path.display()), e))?;
        f(batch)?;
    }
    Ok(())
}

/// The part files of a complete table (one whose manifest exists), in order.
pub fn table_parts(table_dir: &Path) -> Result<Vec<PathBuf>> {
    let manifest = Manifest::read(table_dir)?.ok_or_else(|| {
        Error::Input(format!(
            "table {} is not complete (no _manifest.json): run the stage that writes it",
            table_dir.display()
        ))
    })?;
    let mut parts = Vec::with_capacity(manifest.parts.len());
    for part in &manifest.parts {
        let path = table_dir.join(&part.file);
        if !path.exists() {
            return Err(Error::Input(format!(
                "{} lists {} but the file is missing",
                table_dir.join(crate::manifest::MANIFEST_FILE).display(),
                part.file
            )));
        }
        parts.push(path);
    }
    Ok(parts)
}

/// A column of `batch` as its Arrow array type; an input error names a column that is missing
/// or of another type.
pub fn column<'a, T: arrow::array::Array + 'static>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| {
            let wanted = std::any::type_name::<T>().rsplit("::").next().unwrap_or("");
            Error::Input(format!("column {name} is missing or not a {wanted}"))
        })
}

/// Stream every batch of a complete table, reading only `columns`, part by part.
pub fn for_each_table_batch_columns(
    table_dir: &Path,
    columns: &[&str],
    batch_rows: usize,
    mut f: impl FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    for part in table_parts(table_dir)? {
        for_each_batch_columns(&part, columns, batch_rows, &mut f)?;
    }
    Ok(())
}

/// Stream every batch of a complete table through `f`, part by part.
pub fn for_each_table_batch(
    table_dir: &Path,
    batch_rows: usize,
    mut f: impl FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    for part in table_parts(table_dir)? {
        for_each_batch(&part, batch_rows, &mut f)?;
    }
    Ok(())
}
