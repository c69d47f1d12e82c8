//! Writes a table's Parquet parts: zstd, bounded part size, row groups bounded in bytes, each
//! part written under a temporary name and renamed only once complete, so a part that exists
//! under its final name is always whole.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
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

struct OpenPart {
    writer: ArrowWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    rows: u64,
    bytes: u64,
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
            let writer = ArrowWriter::try_new(file, self.schema.clone(), Some(self.properties()?))
                .map_err(|e| Error::parquet(format!("open {}", tmp.display()), e))?;
            self.open = Some(OpenPart {
                writer,
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
        let max_group = self.options.max_row_group_bytes;
        let max_part = self.options.max_part_bytes;
        let part = self.open_part()?;
        part.writer
            .write(batch)
            .map_err(|e| Error::parquet(format!("write {}", part.tmp.display()), e))?;
        if part.writer.in_progress_size() >= max_group {
            part.writer
                .flush()
                .map_err(|e| Error::parquet(format!("write {}", part.tmp.display()), e))?;
        }
        part.rows += batch.num_rows() as u64;
        part.bytes += batch.get_array_memory_size() as u64;
        if part.bytes >= max_part {
            self.close_part()?;
        }
        Ok(())
    }

    fn close_part(&mut self) -> Result<()> {
        let Some(part) = self.open.take() else {
            return Ok(());
        };
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
