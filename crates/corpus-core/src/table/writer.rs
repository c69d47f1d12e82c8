//! Writes a table's Parquet parts: zstd, bounded part size, row groups bounded in bytes, each
//! part written under a temporary name and renamed only once complete, so a part that exists
//! under its final name is always whole.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaDataReader};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;

use crate::error::{Error, IoContext, Result};
use crate::hash::file_hex64;
use crate::manifest::PartInfo;

/// Knobs of the part writer (from the recipe's `[tables]` section).
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// A part is closed once its data reaches this many bytes (uncompressed, in memory).
    pub max_part_bytes: u64,
    /// A row group is flushed once its encoded size reaches this many bytes.
    pub max_row_group_bytes: usize,
    /// And at the latest after this many rows.
    pub max_row_group_rows: usize,
    pub zstd_level: i32,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            max_part_bytes: 256 << 20,
            max_row_group_bytes: 32 << 20,
            max_row_group_rows: 8192,
            zstd_level: 3,
        }
    }
}

/// List columns of token ids: ~150k distinct values make a dictionary cost a hash per
/// value; BYTE_STREAM_SPLIT leaves the ids' zero high bytes as runs for zstd.
const TOKEN_ID_COLUMNS: &[&str] = &["input_ids"];

/// Top-level columns that hold long, mostly unique text.
const LONG_TEXT_COLUMNS: &[&str] = &[
    "diff",
    "code_diff",
    "test_diff",
    "content",
    "text",
    "prompt",
    "response",
    "body",
];

/// The row group being encoded: one column writer per leaf column.
struct InProgress {
    writers: Vec<ArrowColumnWriter>,
    rows: usize,
}

struct OpenPart {
    writer: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    in_progress: Option<InProgress>,
    tmp: PathBuf,
    path: PathBuf,
    rows: u64,
    bytes: u64,
}

impl OpenPart {
    fn context(&self) -> String {
        format!("write {}", self.tmp.display())
    }

    /// Encode a batch into the row group in progress, closing row groups at the row limit
    /// (and, after the batch, at the byte limit), as Arrow's own writer does.
    fn encode(
        &mut self,
        batch: &RecordBatch,
        schema: &SchemaRef,
        limits: (usize, usize),
    ) -> Result<()> {
        let (max_rows, max_bytes) = limits;
        let mut rest = batch.clone();
        while rest.num_rows() > 0 {
            if self.in_progress.is_none() {
                let index = self.writer.flushed_row_groups().len();
                let writers = self
                    .factory
                    .create_column_writers(index)
                    .map_err(|e| Error::parquet(self.context(), e))?;
                self.in_progress = Some(InProgress { writers, rows: 0 });
            }
            let context = self.context();
            let group = self
                .in_progress
                .as_mut()
                .ok_or_else(|| Error::Internal("no row group in progress".into()))?;
            let take = (max_rows - group.rows).min(rest.num_rows());
            let slice = rest.slice(0, take);
            let mut writers = group.writers.iter_mut();
            for (field, column) in schema.fields().iter().zip(slice.columns()) {
                for leaf in
                    compute_leaves(field, column).map_err(|e| Error::parquet(&context, e))?
                {
                    writers
                        .next()
                        .ok_or_else(|| Error::Internal("more leaves than column writers".into()))?
                        .write(&leaf)
                        .map_err(|e| Error::parquet(&context, e))?;
                }
            }
            group.rows += take;
            if group.rows >= max_rows {
                self.flush()?;
            }
            rest = rest.slice(take, rest.num_rows() - take);
        }
        let size: usize = self
            .in_progress
            .as_ref()
            .map(|g| {
                g.writers
                    .iter()
                    .map(|w| w.get_estimated_total_bytes())
                    .sum()
            })
            .unwrap_or(0);
        if size >= max_bytes {
            self.flush()?;
        }
        Ok(())
    }

    /// Close the row group in progress, if any, and append it to the file.
    fn flush(&mut self) -> Result<()> {
        let Some(group) = self.in_progress.take() else {
            return Ok(());
        };
        let context = self.context();
        let mut row_group = self
            .writer
            .next_row_group()
            .map_err(|e| Error::parquet(&context, e))?;
        for writer in group.writers {
            let chunk = writer.close().map_err(|e| Error::parquet(&context, e))?;
            chunk
                .append_to_row_group(&mut row_group)
                .map_err(|e| Error::parquet(&context, e))?;
        }
        row_group.close().map_err(|e| Error::parquet(&context, e))?;
        Ok(())
    }

    /// Append every row group of `source` (a Parquet file of the same schema) as it is
    /// encoded: its column chunks are copied byte for byte, never decoded.
    fn splice(&mut self, source: &Path) -> Result<Option<(u64, u64)>> {
        self.flush()?;
        let file = File::open(source).at("open", source)?;
        // The offset index (page locations) comes along, so the part keeps one for every
        // row group; parquet moves its offsets to where the pages land.
        let metadata = ParquetMetaDataReader::new()
            .with_offset_index_policy(PageIndexPolicy::Optional)
            .parse_and_finish(&file)
            .map_err(|e| Error::parquet(format!("read {}", source.display()), e))?;
        let complete = metadata.offset_index().is_some_and(|groups| {
            groups.len() == metadata.num_row_groups()
                && groups
                    .iter()
                    .zip(metadata.row_groups())
                    .all(|(columns, group)| columns.len() == group.num_columns())
        });
        if !complete {
            // Written elsewhere without page locations: parquet cannot mix such row groups
            // with its own, so the caller decodes this file instead.
            return Ok(None);
        }
        let context = self.context();
        let (mut rows, mut bytes) = (0u64, 0u64);
        for (g, group) in metadata.row_groups().iter().enumerate() {
            let mut row_group = self
                .writer
                .next_row_group()
                .map_err(|e| Error::parquet(&context, e))?;
            for (c, column) in group.columns().iter().enumerate() {
                let offset_index = metadata
                    .offset_index()
                    .and_then(|groups| groups.get(g))
                    .and_then(|columns| columns.get(c))
                    .cloned();
                let close = ColumnCloseResult {
                    bytes_written: column.compressed_size() as u64,
                    rows_written: group.num_rows() as u64,
                    metadata: column.clone(),
                    bloom_filter: None,
                    column_index: None,
                    offset_index,
                };
                row_group
                    .append_column(&file, close)
                    .map_err(|e| Error::parquet(&context, e))?;
            }
            row_group.close().map_err(|e| Error::parquet(&context, e))?;
            rows += group.num_rows() as u64;
            bytes += group.total_byte_size() as u64;
        }
        Ok(Some((rows, bytes)))
    }
}

/// Writes `PREFIX-NNNNN.parquet` files into a directory.
pub struct PartWriter {
    dir: PathBuf,
    prefix: String,
    schema: SchemaRef,
    options: WriterOptions,
    next_index: usize,
    open: Option<OpenPart>,
    done: Vec<PartInfo>,
}

impl PartWriter {
    pub fn new(
        dir: &Path,
        prefix: &str,
        schema: SchemaRef,
        options: WriterOptions,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).at("create directory", dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            prefix: prefix.to_string(),
            schema,
            options,
            next_index: 0,
            open: None,
            done: Vec::new(),
        })
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn properties(&self) -> Result<WriterProperties> {
        let level = ZstdLevel::try_new(self.options.zstd_level)
            .map_err(|e| Error::Config(format!("zstd level: {e}")))?;
        let mut builder = WriterProperties::builder();
        for field in self.schema.fields() {
            // Long unique texts gain nothing from a dictionary but cost hashing every value.
            if LONG_TEXT_COLUMNS.contains(&field.name().as_str()) {
                builder = builder
                    .set_column_dictionary_enabled(ColumnPath::from(field.name().as_str()), false);
            }
            if TOKEN_ID_COLUMNS.contains(&field.name().as_str()) {
                let path = ColumnPath::new(vec![
                    field.name().to_string(),
                    "list".to_string(),
                    "item".to_string(),
                ]);
                builder = builder
                    .set_column_dictionary_enabled(path.clone(), false)
                    .set_column_encoding(path, Encoding::BYTE_STREAM_SPLIT);
            }
        }
        Ok(builder
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_row_count(Some(self.options.max_row_group_rows))
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_created_by("swe-corpus".to_string())
            .build())
    }

    fn open_part(&mut self) -> Result<&mut OpenPart> {
        if self.open.is_none() {
            let name = format!("{}-{:05}.parquet", self.prefix, self.next_index);
            self.next_index += 1;
            let path = self.dir.join(&name);
            let tmp = self.dir.join(format!(".{name}.tmp"));
            let file = File::create(&tmp).at("create", &tmp)?;
            // Arrow's writer sets up the file (the Arrow schema in its metadata); its parts
            // are then driven row group by row group, so that row groups of finished files
            // can be spliced in between encoded ones.
            let (writer, factory) =
                ArrowWriter::try_new(file, self.schema.clone(), Some(self.properties()?))
                    .and_then(ArrowWriter::into_serialized_writer)
                    .map_err(|e| Error::parquet(format!("open {}", tmp.display()), e))?;
            self.open = Some(OpenPart {
                writer,
                factory,
                in_progress: None,
                tmp,
                path,
                rows: 0,
                bytes: 0,
            });
        }
        self.open
            .as_mut()
            .ok_or_else(|| Error::Internal("part writer lost its open part".into()))
    }

    /// Append a batch; parts roll over at batch boundaries once they pass `max_part_bytes`.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if batch.schema().fields() != self.schema.fields() {
            return Err(Error::Internal(format!(
                "batch schema does not match table {}: {:?}",
                self.prefix,
                batch.schema()
            )));
        }
        let limits = (
            self.options.max_row_group_rows.max(1),
            self.options.max_row_group_bytes,
        );
        let max_part = self.options.max_part_bytes;
        let schema = self.schema.clone();
        let part = self.open_part()?;
        part.encode(batch, &schema, limits)?;
        part.rows += batch.num_rows() as u64;
        part.bytes += batch.get_array_memory_size() as u64;
        if part.bytes >= max_part {
            self.close_part()?;
        }
        Ok(())
    }

    /// Append the rows of a finished Parquet file of this table's schema without decoding
    /// them: its row groups are spliced in as they are (after the rows written so far), so a
    /// barrier gathering units' files re-encodes nothing. Parts roll over after a file once
    /// they pass `max_part_bytes`.
    pub fn splice(&mut self, file: &Path) -> Result<()> {
        let max_part = self.options.max_part_bytes;
        let part = self.open_part()?;
        let Some((rows, bytes)) = part.splice(file)? else {
            return crate::table::reader::for_each_batch(file, 4096, |batch| self.write(&batch));
        };
        part.rows += rows;
        part.bytes += bytes;
        if part.bytes >= max_part {
            self.close_part()?;
        }
        Ok(())
    }

    fn close_part(&mut self) -> Result<()> {
        let Some(mut part) = self.open.take() else {
            return Ok(());
        };
        part.flush()?;
        let file = part
            .writer
            .into_inner()
            .map_err(|e| Error::parquet(format!("finish {}", part.tmp.display()), e))?;
        file.sync_all().at("sync", &part.tmp)?;
        drop(file);
        std::fs::rename(&part.tmp, &part.path).at("rename into place", &part.path)?;
        let bytes = std::fs::metadata(&part.path).at("stat", &part.path)?.len();
        let xxh3 = file_hex64(&part.path).at("checksum", &part.path)?;
        let file = part
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.done.push(PartInfo {
            file,
            rows: part.rows,
            bytes,
            xxh3,
            tokens: None,
            certificate: None,
        });
        Ok(())
    }

    /// Take a finished Parquet file of this table's schema as the next part, as it is: the
    /// open part is closed first, then the file is hard-linked (copied where links are not
    /// possible) under the next part name. The source file stays where it is.
    pub fn adopt(&mut self, file: &Path) -> Result<()> {
        self.close_part()?;
        let name = format!("{}-{:05}.parquet", self.prefix, self.next_index);
        self.next_index += 1;
        let path = self.dir.join(&name);
        if path.exists() {
            std::fs::remove_file(&path).at("remove", &path)?;
        }
        if std::fs::hard_link(file, &path).is_err() {
            let tmp = self.dir.join(format!(".{name}.tmp"));
            std::fs::copy(file, &tmp).at("copy", file)?;
            std::fs::rename(&tmp, &path).at("rename into place", &path)?;
        }
        let rows = std::fs::File::open(&path)
            .ok()
            .and_then(|f| parquet::file::reader::SerializedFileReader::new(f).ok())
            .map(|r| {
                use parquet::file::reader::FileReader;
                r.metadata().file_metadata().num_rows() as u64
            })
            .ok_or_else(|| {
                Error::Input(format!("{} is not a readable Parquet file", file.display()))
            })?;
        let bytes = std::fs::metadata(&path).at("stat", &path)?.len();
        let xxh3 = file_hex64(&path).at("checksum", &path)?;
        tracing::debug!("{} adopted as {}", file.display(), path.display());
        self.done.push(PartInfo {
            file: name,
            rows,
            bytes,
            xxh3,
            tokens: None,
            certificate: None,
        });
        Ok(())
    }

    /// Close the last part and return every part written, in order. A table with no rows
    /// still gets one (empty) part, so readers always find its schema.
    pub fn finish(mut self) -> Result<Vec<PartInfo>> {
        if self.done.is_empty() && self.open.is_none() {
            self.open_part()?;
        }
        self.close_part()?;
        Ok(self.done)
    }
}

/// Remove leftovers of an interrupted writer (`.*.tmp`) and parts with this prefix, so a
/// rewrite starts clean.
pub fn clear_parts(dir: &Path, prefix: &str) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry.at("list", dir)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with(&format!("{prefix}-")) && name.ends_with(".parquet");
        let temp = name.starts_with(&format!(".{prefix}-")) && name.ends_with(".tmp");
        if ours || temp {
            std::fs::remove_file(entry.path()).at("remove", &entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, ListArray, StringArray};
    use arrow::datatypes::{DataType, Field, Int32Type, Schema};

    use super::*;
    use crate::table::reader::for_each_batch;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("text", DataType::Utf8, false),
            Field::new(
                "input_ids",
                DataType::List(Arc::new(Field::new("item", DataType::Int32, true))),
                true,
            ),
        ]))
    }

    fn batch(from: i64, rows: i64) -> RecordBatch {
        let n: ArrayRef = Arc::new(Int64Array::from_iter_values(from..from + rows));
        let text: ArrayRef = Arc::new(StringArray::from_iter_values(
            (from..from + rows).map(|i| format!("row {i} {}", "x".repeat((i % 7) as usize))),
        ));
        let ids: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(
            (from..from + rows).map(|i| (i % 5 != 0).then(|| (0..i % 9).map(|v| Some(v as i32)))),
        ));
        RecordBatch::try_new(schema(), vec![n, text, ids]).expect("batch")
    }

    fn read_all(dir: &Path, parts: &[PartInfo]) -> Vec<RecordBatch> {
        let mut out = Vec::new();
        for part in parts {
            for_each_batch(&dir.join(&part.file), 1000, |b| {
                out.push(b);
                Ok(())
            })
            .expect("read");
        }
        out
    }

    fn options() -> WriterOptions {
        WriterOptions {
            max_row_group_rows: 40,
            ..Default::default()
        }
    }

    #[test]
    fn spliced_row_groups_read_back_like_encoded_ones() {
        let dir = tempfile::tempdir().expect("tmp");
        // A finished file of two row groups (rows 100..150, 40 rows a group).
        let mut source =
            PartWriter::new(&dir.path().join("src"), "unit", schema(), options()).expect("writer");
        source.write(&batch(100, 50)).expect("write");
        let source_parts = source.finish().expect("finish");
        let source_file = dir.path().join("src").join(&source_parts[0].file);

        // Encoded rows, the spliced file, then encoded rows again, in one part.
        let mut mixed = PartWriter::new(&dir.path().join("mixed"), "part", schema(), options())
            .expect("writer");
        mixed.write(&batch(0, 30)).expect("write");
        mixed.splice(&source_file).expect("splice");
        mixed.write(&batch(200, 25)).expect("write");
        let parts = mixed.finish().expect("finish");
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].rows, 105);

        // The same rows written plainly.
        let mut plain = PartWriter::new(&dir.path().join("plain"), "part", schema(), options())
            .expect("writer");
        for b in [batch(0, 30), batch(100, 50), batch(200, 25)] {
            plain.write(&b).expect("write");
        }
        let plain_parts = plain.finish().expect("finish");
        let got =
            arrow::compute::concat_batches(&schema(), &read_all(&dir.path().join("mixed"), &parts))
                .expect("concat");
        let want = arrow::compute::concat_batches(
            &schema(),
            &read_all(&dir.path().join("plain"), &plain_parts),
        )
        .expect("concat");
        assert_eq!(got, want);

        // The row groups: 30 encoded, the file's own 40 + 10 spliced as they were, 25.
        let file = File::open(dir.path().join("mixed").join(&parts[0].file)).expect("open");
        let metadata = ParquetMetaDataReader::new()
            .parse_and_finish(&file)
            .expect("metadata");
        let rows: Vec<i64> = metadata.row_groups().iter().map(|g| g.num_rows()).collect();
        assert_eq!(rows, [30, 40, 10, 25]);
    }

    #[test]
    fn a_file_without_page_locations_is_decoded_instead() {
        let dir = tempfile::tempdir().expect("tmp");
        let source_file = dir.path().join("foreign.parquet");
        let props = WriterProperties::builder()
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(true)
            .build();
        let mut foreign = ArrowWriter::try_new(
            File::create(&source_file).expect("create"),
            schema(),
            Some(props),
        )
        .expect("writer");
        foreign.write(&batch(100, 50)).expect("write");
        foreign.close().expect("close");
        let mut mixed = PartWriter::new(&dir.path().join("mixed"), "part", schema(), options())
            .expect("writer");
        mixed.write(&batch(0, 30)).expect("write");
        mixed.splice(&source_file).expect("splice falls back");
        let parts = mixed.finish().expect("finish");
        let got =
            arrow::compute::concat_batches(&schema(), &read_all(&dir.path().join("mixed"), &parts))
                .expect("concat");
        let want = arrow::compute::concat_batches(&schema(), &[batch(0, 30), batch(100, 50)])
            .expect("concat");
        assert_eq!(got, want);
    }

    #[test]
    fn a_file_of_another_schema_cannot_be_spliced() {
        let dir = tempfile::tempdir().expect("tmp");
        let other = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let mut source =
            PartWriter::new(dir.path(), "other", other.clone(), options()).expect("writer");
        let n: ArrayRef = Arc::new(Int64Array::from_iter_values(0..3));
        source
            .write(&RecordBatch::try_new(other, vec![n]).expect("batch"))
            .expect("write");
        let parts = source.finish().expect("finish");
        let mut target =
            PartWriter::new(&dir.path().join("t"), "part", schema(), options()).expect("writer");
        assert!(target.splice(&dir.path().join(&parts[0].file)).is_err());
    }
}
