//! What a stage is to the runner: a list of work units (sorted keys), a function that turns
//! one unit into rows of its output tables, and a fingerprint of its config and inputs.
//!
//! Units are the unit of resumption and of task split (`xxh3(key) % N`). Their outputs wait
//! in `_work/STAGE/` until the barrier concatenates them in key order into the tables' parts,
//! which is why the parts are byte-identical for any N.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use corpus_core::recipe::Recipe;
use corpus_core::table::{PartWriter, WriterOptions};

use crate::error::Result;
use crate::run_dir::RunDir;

/// What every stage gets.
pub struct StageContext<'a> {
    pub recipe: &'a Recipe,
    pub run: &'a RunDir,
}

/// A stage's inputs, summarised: the fingerprint decides whether the stage is current.
#[derive(Debug, Clone, Default)]
pub struct StageInputs {
    pub fingerprint: String,
    pub config_hash: String,
    /// Named input versions (table fingerprints, repository ref tips).
    pub inputs: BTreeMap<String, String>,
}

pub trait Stage: Sync {
    fn name(&self) -> &'static str;

    /// Tables this stage writes besides `drops`.
    fn outputs(&self) -> &'static [&'static str];

    /// Fingerprint of config and inputs.
    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs>;

    /// Keys of the work units, unique; the runner sorts them.
    fn units(&self, ctx: &StageContext) -> Result<Vec<String>>;

    /// Do one unit, writing rows through `out`.
    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()>;
}

/// Where one unit writes its rows: one part writer per table, opened on first use.
pub struct UnitOutput {
    dir: PathBuf,
    options: WriterOptions,
    writers: BTreeMap<String, PartWriter>,
    rows: BTreeMap<String, u64>,
    dropped: BTreeMap<String, u64>,
}

impl UnitOutput {
    pub fn new(dir: &Path, options: WriterOptions) -> Self {
        Self {
            dir: dir.to_path_buf(),
            options,
            writers: BTreeMap::new(),
            rows: BTreeMap::new(),
            dropped: BTreeMap::new(),
        }
    }

    /// Append a batch to `table` (its schema is the table's).
    pub fn write(&mut self, table: &str, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if !self.writers.contains_key(table) {
            let writer = PartWriter::new(&self.dir, table, batch.schema(), self.options.clone())?;
            self.writers.insert(table.to_string(), writer);
        }
        if let Some(writer) = self.writers.get_mut(table) {
            writer.write(batch)?;
        }
        *self.rows.entry(table.to_string()).or_default() += batch.num_rows() as u64;
        Ok(())
    }

    /// Count drops by reason for the manifest (the rows themselves go through `write`).
    pub fn count_drops<'a>(&mut self, reasons: impl Iterator<Item = &'a str>) {
        for reason in reasons {
            *self.dropped.entry(reason.to_string()).or_default() += 1;
        }
    }

    /// Close every writer; returns rows per table and drops per reason.
    pub fn finish(self) -> Result<UnitDone> {
        for (_, writer) in self.writers {
            writer.finish()?;
        }
        Ok(UnitDone {
            rows: self.rows,
            dropped: self.dropped,
        })
    }
}

/// The `_done.json` of a unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnitDone {
    pub rows: BTreeMap<String, u64>,
    pub dropped: BTreeMap<String, u64>,
}
