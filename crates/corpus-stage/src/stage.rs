//! What a stage is to the runner: a list of work units (sorted keys), a function that turns
//! one unit into rows of its output tables, and a fingerprint of its config and inputs.
//!
//! Units are the unit of resumption and of task split (`xxh3(key) % N`). Their outputs wait
//! in `_work/STAGE/` until the barrier concatenates them in key order into the tables' parts,
//! which is why the parts are byte-identical for any N.

use corpus_core::schema::names;
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
    /// The stage this context was made for, whose declared tables [`StageContext::table`]
    /// allows; `None` outside a stage run (a command that calls a stage's helpers).
    declared: Option<Declared>,
}

/// The tables a stage declares: what it reads and the tables its outputs go to.
#[derive(Debug, Clone)]
struct Declared {
    stage: &'static str,
    reads: &'static [&'static str],
    writes: Vec<&'static str>,
}

impl<'a> StageContext<'a> {
    /// A context outside any stage: every table may be named.
    pub fn new(recipe: &'a Recipe, run: &'a RunDir) -> Self {
        Self {
            recipe,
            run,
            declared: None,
        }
    }

    /// The same run and recipe for `stage`, which may then name only the tables it declares.
    pub fn for_stage(&self, stage: &dyn Stage) -> StageContext<'a> {
        StageContext {
            recipe: self.recipe,
            run: self.run,
            declared: Some(Declared {
                stage: stage.name(),
                reads: stage.reads(),
                writes: stage.writes(),
            }),
        }
    }

    /// The folder of table `name`. A stage reads only the tables it declares
    /// ([`Stage::reads`]) or writes ([`Stage::outputs`]), so the declaration the docs and
    /// the fingerprint rely on cannot fall behind the code.
    pub fn table(&self, name: &str) -> Result<PathBuf> {
        if let Some(declared) = &self.declared
            && !declared.reads.contains(&name)
            && !declared.writes.contains(&name)
        {
            return Err(crate::error::StageError::stage(
                declared.stage,
                format!(
                    "reads table {name}, which it does not declare (Stage::reads lists {})",
                    declared.reads.join(", ")
                ),
            ));
        }
        Ok(self.run.table(name))
    }
}

/// A stage's inputs, summarised: the fingerprint decides whether the stage is current.
#[derive(Debug, Clone, Default)]
pub struct StageInputs {
    pub fingerprint: String,
    pub config_hash: String,
    /// Named input versions (table fingerprints, repository ref tips).
    pub inputs: BTreeMap<String, String>,
}

/// A stage's name and the tables it writes and reads: what a newcomer reads first, declared
/// once as data (the docs' table of reads and writes is checked against these).
#[derive(Debug, Clone, Copy)]
pub struct StageSpec {
    pub name: &'static str,
    /// Tables (outputs) this stage writes besides `drops`.
    pub outputs: &'static [&'static str],
    /// Tables this stage reads: the only ones [`StageContext::table`] opens for it.
    pub reads: &'static [&'static str],
}

pub trait Stage: Sync {
    /// Its name and the tables it writes and reads.
    fn spec(&self) -> &'static StageSpec;

    fn name(&self) -> &'static str {
        self.spec().name
    }

    /// Tables this stage writes besides `drops`.
    fn outputs(&self) -> &'static [&'static str] {
        self.spec().outputs
    }

    /// The tables its outputs go to ([`Stage::layout`]), each once, in the order of
    /// [`Stage::outputs`] (besides `drops`).
    fn writes(&self) -> Vec<&'static str> {
        let mut tables: Vec<&'static str> = Vec::new();
        for output in self.outputs() {
            let table = self.layout(output).table;
            if !tables.contains(&table) {
                tables.push(table);
            }
        }
        tables
    }

    /// Tables this stage reads: the only ones [`StageContext::table`] opens for it. Its
    /// fingerprint covers each, directly or through the upstream table that was made from it.
    fn reads(&self) -> &'static [&'static str] {
        self.spec().reads
    }

    /// Fingerprint of config and inputs.
    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs>;

    /// Keys of the work units, unique; the runner sorts them. By default one for each
    /// repository, and one for rows without a repository ([`repo_units`]).
    fn units(&self, ctx: &StageContext) -> Result<Vec<String>> {
        repo_units(ctx)
    }

    /// What every unit shares (opened tables, an index, a client), made once per process:
    /// the runner calls this before each unit it runs, so a run whose units are all done
    /// never pays for it. A stage keeps what it made in a [`PreparedOnce`], so every call
    /// after the first finds it ready.
    fn prepare(&self, _ctx: &StageContext) -> Result<()> {
        Ok(())
    }

    /// Do one unit, writing rows through `out`.
    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()>;

    /// Where the barrier puts an output: by default the table of that name, parts `part-N`.
    fn layout(&self, output: &'static str) -> OutputLayout {
        OutputLayout::table(output)
    }

    /// How units write an output (part and row-group sizes).
    fn writer_options(&self, ctx: &StageContext, _output: &str) -> WriterOptions {
        ctx.recipe.tables.writer_options()
    }

    /// Outputs outside the tables (exports), completed at the barrier once every unit is done
    /// and before the manifests that make the stage current. Must be safe to repeat.
    fn finish_outputs(&self, _ctx: &StageContext) -> Result<()> {
        Ok(())
    }

    /// Whether those outputs are still there (a current stage whose outputs were deleted
    /// runs again).
    fn outputs_exist(&self, _ctx: &StageContext) -> Result<bool> {
        Ok(true)
    }

    /// A short live status shown after the unit count on the progress bar (the crawl:
    /// requests made, answered from cache, quota left).
    fn progress(&self) -> Option<String> {
        None
    }

    /// Add what the stage knows to a table's manifest before the barrier writes it.
    fn annotate(
        &self,
        _ctx: &StageContext,
        _table: &str,
        _manifest: &mut corpus_core::manifest::Manifest,
    ) -> Result<()> {
        Ok(())
    }
}

/// What a stage prepared for its units ([`Stage::prepare`]), made once per process: a second
/// thread that asks while the first is preparing waits for it instead of preparing again.
pub struct PreparedOnce<T> {
    value: std::sync::OnceLock<T>,
    preparing: std::sync::Mutex<()>,
}

impl<T> Default for PreparedOnce<T> {
    fn default() -> Self {
        Self {
            value: std::sync::OnceLock::new(),
            preparing: std::sync::Mutex::new(()),
        }
    }
}

impl<T> PreparedOnce<T> {
    /// What was prepared, if it was (for a progress line: never prepares).
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// The prepared value, made by `prepare` the first time it is asked for.
    pub fn get_or_prepare(&self, stage: &str, prepare: impl FnOnce() -> Result<T>) -> Result<&T> {
        if let Some(value) = self.value.get() {
            return Ok(value);
        }
        let _one_at_a_time = self.preparing.lock().map_err(|_| {
            crate::error::StageError::stage(stage, "a thread preparing the stage panicked")
        })?;
        if let Some(value) = self.value.get() {
            return Ok(value);
        }
        let value = prepare()?;
        Ok(self.value.get_or_init(|| value))
    }
}

/// How the barrier lays out one output of a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLayout {
    /// Table directory (and schema) the output goes to; several outputs may share one.
    pub table: &'static str,
    /// Part file prefix: `PREFIX-NNNNN.parquet`.
    pub prefix: &'static str,
    /// Units write numbered partitions ([`UnitOutput::write_partition`]); the barrier writes
    /// `PREFIX-PPPPP-NNNNN.parquet` per partition, so readers of one partition read only it.
    pub partitioned: bool,
    /// Every unit file becomes a part as it is (one unit, one part: shards).
    pub adopt_all: bool,
}

impl OutputLayout {
    pub fn table(table: &'static str) -> Self {
        Self {
            table,
            prefix: "part",
            partitioned: false,
            adopt_all: false,
        }
    }
}

/// Where one unit writes its rows: one part writer per table, opened on first use.
pub struct UnitOutput {
    dir: PathBuf,
    options: WriterOptions,
    /// Writer options of outputs that do not use the recipe's table options.
    options_for: BTreeMap<String, WriterOptions>,
    writers: BTreeMap<String, PartWriter>,
    rows: BTreeMap<String, u64>,
    dropped: BTreeMap<String, u64>,
    dropped_tokens: BTreeMap<String, u64>,
    counters: BTreeMap<String, u64>,
}

impl UnitOutput {
    pub fn new(dir: &Path, options: WriterOptions) -> Self {
        Self {
            dir: dir.to_path_buf(),
            options,
            options_for: BTreeMap::new(),
            writers: BTreeMap::new(),
            rows: BTreeMap::new(),
            dropped: BTreeMap::new(),
            dropped_tokens: BTreeMap::new(),
            counters: BTreeMap::new(),
        }
    }

    /// Add `n` to the unit's counter `name` (summed over units into the report).
    pub fn count(&mut self, name: &str, n: u64) {
        *self.counters.entry(name.to_string()).or_default() += n;
    }

    /// Use `options` for `output` instead of the recipe's table options.
    pub fn with_options(mut self, output: &str, options: WriterOptions) -> Self {
        self.options_for.insert(output.to_string(), options);
        self
    }

    /// Append a batch to `table` (its schema is the table's).
    pub fn write(&mut self, table: &str, batch: &RecordBatch) -> corpus_core::Result<()> {
        self.write_file(table, table, batch)
    }

    /// Append a batch to partition `partition` of a partitioned output.
    pub fn write_partition(
        &mut self,
        output: &str,
        partition: u32,
        batch: &RecordBatch,
    ) -> corpus_core::Result<()> {
        self.write_file(output, &partition_file(output, partition), batch)
    }

    fn write_file(
        &mut self,
        output: &str,
        file: &str,
        batch: &RecordBatch,
    ) -> corpus_core::Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if !self.writers.contains_key(file) {
            let options = self
                .options_for
                .get(output)
                .unwrap_or(&self.options)
                .clone();
            let writer = PartWriter::new(&self.dir, file, batch.schema(), options)?;
            self.writers.insert(file.to_string(), writer);
        }
        if let Some(writer) = self.writers.get_mut(file) {
            writer.write(batch)?;
        }
        *self.rows.entry(output.to_string()).or_default() += batch.num_rows() as u64;
        Ok(())
    }

    /// Write drop rows to `drops` and count them by reason for the manifest.
    pub fn write_drops(&mut self, drops: &[corpus_core::rows::DropRow]) -> corpus_core::Result<()> {
        for drop in drops {
            *self.dropped.entry(drop.reason.clone()).or_default() += 1;
            if let Some(n) = drop.n_tokens {
                *self.dropped_tokens.entry(drop.reason.clone()).or_default() += n as u64;
            }
        }
        self.write(names::DROPS, &corpus_core::rows::DropRow::batch(drops)?)
    }

    /// Close every writer; returns rows per table and drops per reason.
    pub fn finish(self) -> corpus_core::Result<UnitDone> {
        for (_, writer) in self.writers {
            writer.finish()?;
        }
        Ok(UnitDone {
            rows: self.rows,
            dropped: self.dropped,
            dropped_tokens: self.dropped_tokens,
            counters: self.counters,
        })
    }
}

/// The unit-file name of one partition of an output.
pub fn partition_file(output: &str, partition: u32) -> String {
    format!("{output}@{partition:05}")
}

/// The `_done.json` of a unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnitDone {
    pub rows: BTreeMap<String, u64>,
    pub dropped: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dropped_tokens: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counters: BTreeMap<String, u64>,
}

/// Builds a stage's [`StageInputs`]: the tool version and config hash, then each input (an
/// upstream table's stage fingerprints, a file's checksum, ...), all in the fingerprint.
pub struct InputsBuilder {
    fingerprint: corpus_core::hash::Fingerprint,
    config_hash: String,
    inputs: BTreeMap<String, String>,
}

impl InputsBuilder {
    pub fn new(config_hash: String) -> Self {
        let mut fingerprint = corpus_core::hash::Fingerprint::new();
        fingerprint
            .field("version", corpus_core::version::VERSION.as_bytes())
            .field("config", config_hash.as_bytes());
        Self {
            fingerprint,
            config_hash,
            inputs: BTreeMap::new(),
        }
    }

    /// A named input version, recorded in the manifest and the fingerprint.
    pub fn input(&mut self, name: &str, version: &str) -> &mut Self {
        self.fingerprint.field(name, version.as_bytes());
        self.inputs.insert(name.to_string(), version.to_string());
        self
    }

    /// Something that changes the output without being an input worth listing (a template).
    pub fn hidden(&mut self, label: &str, value: &[u8]) -> &mut Self {
        self.fingerprint.field(label, value);
        self
    }

    /// An upstream table, by the fingerprints of the stages that wrote it. A missing required
    /// table is an error naming `stage`; a missing optional one is left out.
    pub fn table(
        &mut self,
        ctx: &StageContext,
        stage: &str,
        table: &str,
        required: bool,
    ) -> Result<&mut Self> {
        match corpus_core::manifest::Manifest::read(&ctx.table(table)?)? {
            Some(manifest) => {
                let version: Vec<String> = manifest
                    .stages
                    .iter()
                    .map(|(writer, entry)| format!("{writer}:{}", entry.fingerprint))
                    .collect();
                Ok(self.input(table, &version.join(",")))
            }
            None if required => Err(crate::error::StageError::stage(
                stage,
                format!("table {table} is missing: run the stages before {stage}"),
            )),
            None => Ok(self),
        }
    }

    pub fn finish(self) -> StageInputs {
        StageInputs {
            fingerprint: self.fingerprint.finish(),
            config_hash: self.config_hash,
            inputs: self.inputs,
        }
    }
}

/// The unit of the rows that belong to no repository (external sources). `~` sorts after
/// every `owner/name`, so these rows come last in every table.
pub const NO_REPO_UNIT: &str = "~external";

/// The `repo` column value of a unit's rows.
pub fn repo_of_unit(key: &str) -> &str {
    if key == NO_REPO_UNIT { "" } else { key }
}

/// Units of a per-repository stage over sample tables: every repository, then external rows.
pub fn repo_units(ctx: &StageContext) -> Result<Vec<String>> {
    let mut keys: Vec<String> = read_repos(ctx)?.into_keys().collect();
    keys.push(NO_REPO_UNIT.to_string());
    Ok(keys)
}

/// Every row of the run's `repos` table, by repository.
pub fn read_repos(ctx: &StageContext) -> Result<BTreeMap<String, corpus_core::rows::RepoRow>> {
    let mut repos = BTreeMap::new();
    corpus_core::table::for_each_table_batch(&ctx.table(names::REPOS)?, 4096, |batch| {
        for row in corpus_core::rows::RepoRow::from_batch(&batch)? {
            // `crawl` and `extract` each write a row of a repository they both saw.
            match repos.entry(row.repo.clone()) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(row);
                }
                std::collections::btree_map::Entry::Occupied(mut slot) => {
                    slot.get_mut().merge(row);
                }
            }
        }
        Ok(())
    })?;
    Ok(repos)
}

/// [`KeyedTable::for_each_batch_of`](corpus_core::table::KeyedTable::for_each_batch_of)
/// for work that fails with the runner's errors: the first one stops the scan and is
/// returned as it was.
pub fn each_batch_of(
    table: &corpus_core::table::KeyedTable,
    key: &str,
    batch_rows: usize,
    mut f: impl FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    let mut failure = None;
    let scanned = table.for_each_batch_of(key, batch_rows, |batch| {
        f(batch).map_err(|e| {
            failure = Some(e);
            corpus_core::Error::Internal("scan stopped by its reader".into())
        })
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(scanned?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_stage_is_prepared_once_however_many_threads_ask() {
        let once = PreparedOnce::default();
        let made = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    let value = once.get_or_prepare("test", || {
                        made.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        Ok(42)
                    });
                    assert_eq!(*value.expect("prepared"), 42);
                });
            }
        });
        assert_eq!(made.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failed_preparation_is_reported_and_tried_again() {
        let once: PreparedOnce<u32> = PreparedOnce::default();
        let failed =
            once.get_or_prepare("test", || Err(crate::StageError::stage("test", "no table")));
        assert!(failed.expect_err("error").to_string().contains("no table"));
        assert_eq!(
            *once.get_or_prepare("test", || Ok(7)).expect("second try"),
            7
        );
    }

    /// A stage that reads `patches` and writes `samples` (through an output of another name).
    struct Reader;

    impl Stage for Reader {
        fn spec(&self) -> &'static StageSpec {
            &StageSpec {
                name: "reader",
                outputs: &["sample_rows"],
                reads: &[names::PATCHES],
            }
        }
        fn layout(&self, _output: &'static str) -> OutputLayout {
            OutputLayout::table(names::SAMPLES)
        }
        fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
            let mut builder = InputsBuilder::new(String::new());
            builder.table(ctx, "reader", names::BLOBS, false)?;
            Ok(builder.finish())
        }
        fn units(&self, _ctx: &StageContext) -> Result<Vec<String>> {
            Ok(Vec::new())
        }
        fn run_unit(&self, _: &StageContext, _: &str, _: &mut UnitOutput) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stage_opens_only_the_tables_it_declares() {
        let recipe = Recipe::demo().expect("demo recipe");
        let run = RunDir::new(Path::new("/nonexistent-run"));
        let anywhere = StageContext::new(&recipe, &run);
        assert!(anywhere.table(names::BLOBS).is_ok(), "outside a stage");

        let ctx = anywhere.for_stage(&Reader);
        assert_eq!(
            ctx.table(names::PATCHES).expect("declared read"),
            run.table(names::PATCHES)
        );
        assert!(ctx.table(names::SAMPLES).is_ok(), "the output's table");
        let undeclared = ctx.table(names::BLOBS).expect_err("undeclared");
        assert_eq!(
            undeclared.to_string(),
            "stage reader: reads table blobs, which it does not declare (Stage::reads lists patches)"
        );
        // A fingerprint over an undeclared table fails the same way, before any file is read.
        let inputs = Reader.inputs(&ctx).expect_err("undeclared input");
        assert!(inputs.to_string().contains("reads table blobs"), "{inputs}");
    }
}
