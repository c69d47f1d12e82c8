//! corpus-sql: DataFusion over a run directory. Every complete table (`RUN/tables/NAME` with a
//! `_manifest.json`) is registered under its name, so "why did PR X vanish?" is one query.
//!
//! ```no_run
//! # async fn demo() -> Result<(), corpus_sql::SqlError> {
//! let session = corpus_sql::RunSession::open(std::path::Path::new("runs/demo")).await?;
//! let batches = session.query("select kind, count(*) from patches group by kind").await?;
//! print!("{}", corpus_sql::render(&batches, corpus_sql::OutputFormat::Table)?);
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("{0}")]
    NoRun(String),
    #[error("query failed: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
    #[error("cannot format results: {0}")]
    Format(#[from] datafusion::arrow::error::ArrowError),
    #[error("{0}")]
    Core(#[from] corpus_core::Error),
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
}

pub struct RunSession {
    ctx: SessionContext,
    tables: Vec<String>,
}

impl RunSession {
    /// Register every complete table of `run_dir`.
    pub async fn open(run_dir: &Path) -> Result<Self, SqlError> {
        let tables_dir = run_dir.join("tables");
        if !tables_dir.is_dir() {
            return Err(SqlError::NoRun(format!(
                "{} is not a run directory (no tables/): run `swe-corpus run` first or pass --run",
                run_dir.display()
            )));
        }
        let ctx = SessionContext::new();
        let mut tables = Vec::new();
        for (name, dir) in complete_tables(&tables_dir)? {
            let parts: Vec<String> = corpus_core::table::table_parts(&dir)?
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if let Some(name) = Self::register(&ctx, &name, &parts).await? {
                tables.push(name);
            }
        }
        Ok(Self { ctx, tables })
    }

    /// Register every complete table of the run at `prefix` in `store` (reachable as
    /// `base`, e.g. `s3://bucket/`), reading the parts in place: only the parts a table's
    /// manifest lists, so a stage still writing is invisible.
    pub async fn open_in_store(
        store: std::sync::Arc<dyn object_store::ObjectStore>,
        base: &str,
        prefix: &str,
    ) -> Result<Self, SqlError> {
        use object_store::ObjectStoreExt;
        let run = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        let tables_path = object_store::path::Path::from(format!("{run}tables"));
        let listing = store
            .list_with_delimiter(Some(&tables_path))
            .await
            .map_err(|e| SqlError::NoRun(format!("{base}{run}: cannot list tables/: {e}")))?;
        if listing.common_prefixes.is_empty() {
            return Err(SqlError::NoRun(format!(
                "{base}{run} holds no tables: run `swe-corpus run --run {base}{prefix}` first"
            )));
        }
        let ctx = SessionContext::new();
        let base_url = url::Url::parse(base)
            .map_err(|e| SqlError::NoRun(format!("{base}: not a URL: {e}")))?;
        ctx.register_object_store(&base_url, store.clone());
        let mut tables = Vec::new();
        let mut folders = listing.common_prefixes;
        folders.sort();
        for folder in folders {
            let Some(name) = folder.filename().map(str::to_string) else {
                continue;
            };
            let manifest_path = folder.clone().join(corpus_core::manifest::MANIFEST_FILE);
            let text = match store.get(&manifest_path).await {
                Ok(result) => result.bytes().await.map_err(|e| {
                    SqlError::NoRun(format!("{base}{manifest_path}: cannot read: {e}"))
                })?,
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => {
                    return Err(SqlError::NoRun(format!(
                        "{base}{manifest_path}: cannot read: {e}"
                    )));
                }
            };
            let manifest = corpus_core::manifest::Manifest::parse(
                &String::from_utf8_lossy(&text),
                &format!("{base}{manifest_path}"),
            )?;
            let urls: Vec<String> = manifest
                .parts
                .iter()
                .map(|part| format!("{base}{folder}/{}", part.file))
                .collect();
            if let Some(name) = Self::register(&ctx, &name, &urls).await? {
                tables.push(name);
            }
        }
        Ok(Self { ctx, tables })
    }

    /// Register table `name` over `parts` (paths or URLs); `None` when it cannot be typed.
    async fn register(
        ctx: &SessionContext,
        name: &str,
        parts: &[String],
    ) -> Result<Option<String>, SqlError> {
        let schema = corpus_core::schema::table_schema(name);
        if parts.is_empty() {
            // A complete table without parts (a mixture with no rows): empty, same columns.
            let Some(schema) = schema else {
                return Ok(None);
            };
            let empty = datafusion::datasource::MemTable::try_new(schema, vec![vec![]])?;
            ctx.register_table(name, std::sync::Arc::new(empty))?;
            return Ok(Some(name.to_string()));
        }
        let urls = parts
            .iter()
            .map(ListingTableUrl::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let options = ListingOptions::new(std::sync::Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options);
        let config = match schema {
            Some(schema) => config.with_schema(schema),
            None => config.infer_schema(&ctx.state()).await?,
        };
        let table = ListingTable::try_new(config)?;
        ctx.register_table(name, std::sync::Arc::new(table))?;
        Ok(Some(name.to_string()))
    }

    pub fn tables(&self) -> &[String] {
        &self.tables
    }

    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>, SqlError> {
        let df = self.ctx.sql(sql).await?;
        Ok(df.collect().await?)
    }
}

fn complete_tables(tables_dir: &Path) -> Result<Vec<(String, PathBuf)>, SqlError> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(tables_dir)
        .map_err(|e| corpus_core::Error::io_path("list", tables_dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| corpus_core::Error::io_path("list", tables_dir, e))?;
        let dir = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if dir.join(corpus_core::manifest::MANIFEST_FILE).is_file() {
            out.push((name, dir));
        }
    }
    out.sort();
    Ok(out)
}

/// Render batches as a text table, CSV or JSON lines.
pub fn render(batches: &[RecordBatch], format: OutputFormat) -> Result<String, SqlError> {
    use datafusion::arrow::{csv, json, util::pretty};
    match format {
        OutputFormat::Table => Ok(format!("{}\n", pretty::pretty_format_batches(batches)?)),
        OutputFormat::Csv => {
            let mut buf = Vec::new();
            {
                let mut writer = csv::WriterBuilder::new().with_header(true).build(&mut buf);
                for batch in batches {
                    writer.write(batch)?;
                }
            }
            Ok(String::from_utf8_lossy(&buf).into_owned())
        }
        OutputFormat::Json => {
            let mut buf = Vec::new();
            {
                let mut writer = json::LineDelimitedWriter::new(&mut buf);
                let refs: Vec<&RecordBatch> = batches.iter().collect();
                writer.write_batches(&refs)?;
                writer.finish()?;
            }
            Ok(String::from_utf8_lossy(&buf).into_owned())
        }
    }
}
