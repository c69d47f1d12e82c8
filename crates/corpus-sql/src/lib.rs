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
            let parts = corpus_core::table::table_parts(&dir)?;
            let schema = corpus_core::schema::table_schema(&name);
            if parts.is_empty() {
                // A complete table without parts (a mixture with no rows): empty, same columns.
                if let Some(schema) = schema {
                    let empty = datafusion::datasource::MemTable::try_new(schema, vec![vec![]])?;
                    ctx.register_table(name.as_str(), std::sync::Arc::new(empty))?;
                    tables.push(name);
                }
                continue;
            }
            let urls = parts
                .iter()
                .map(|p| ListingTableUrl::parse(p.to_string_lossy()))
                .collect::<Result<Vec<_>, _>>()?;
            let options = ListingOptions::new(std::sync::Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet");
            let config =
                ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options);
            let config = match schema {
                Some(schema) => config.with_schema(schema),
                None => config.infer_schema(&ctx.state()).await?,
            };
            let table = ListingTable::try_new(config)?;
            ctx.register_table(name.as_str(), std::sync::Arc::new(table))?;
            tables.push(name);
        }
        Ok(Self { ctx, tables })
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
