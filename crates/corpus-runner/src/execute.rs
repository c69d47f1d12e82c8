//! Running stages: which ones, which of their units in this process, and the barrier that
//! turns finished units into tables.

use corpus_core::schema::names;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use corpus_core::hash::task_of;
use corpus_core::manifest::{Manifest, PartInfo, StageEntry};
use corpus_core::schema::table_schema;
use corpus_core::table::{PartWriter, clear_parts, for_each_batch};

use crate::report::{StageOutcome, StageReport, cpu_seconds, peak_rss_mib, reset_peak_rss};
use crate::units::UnitStore;
use corpus_stage::error::{Result, StageError};
use corpus_stage::fault;
use corpus_stage::stage::{
    OutputLayout, Stage, StageContext, StageInputs, UnitDone, UnitOutput, partition_file,
};

/// Which stages to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Stop after this stage.
    pub until: Option<String>,
    /// Rerun from this stage on, even if current.
    pub from: Option<String>,
    /// Run only this stage, even if current.
    pub only: Option<String>,
}

/// How to run them.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Tasks per stage (the split does not change the output).
    pub tasks: usize,
    /// Run only task i of `tasks` and leave the barrier to `finalize` (cluster use).
    pub task: Option<usize>,
    /// Only run the barrier of the selected stage (all its units must be done).
    pub finalize_only: bool,
}

impl Selection {
    /// The stages to run, in order, each with whether it is forced.
    pub fn pick<'a>(&self, stages: &'a [Box<dyn Stage>]) -> Result<Vec<(&'a dyn Stage, bool)>> {
        let order = |name: &str| crate::stages::STAGE_ORDER.iter().position(|s| *s == name);
        for name in [&self.until, &self.from, &self.only].into_iter().flatten() {
            crate::stages::check_name(name)?;
        }
        let mut out = Vec::new();
        for stage in stages {
            let pos = order(stage.name());
            if let Some(only) = &self.only {
                if stage.name() == only {
                    out.push((stage.as_ref(), true));
                }
                continue;
            }
            if let Some(until) = &self.until
                && pos > order(until)
            {
                continue;
            }
            let forced = self.from.as_ref().is_some_and(|from| pos >= order(from));
            out.push((stage.as_ref(), forced));
        }
        Ok(out)
    }
}

/// Output layouts of a stage, `drops` last.
fn layouts_of(stage: &dyn Stage) -> Vec<(&'static str, OutputLayout)> {
    let mut layouts: Vec<(&'static str, OutputLayout)> = stage
        .outputs()
        .iter()
        .map(|o| (*o, stage.layout(o)))
        .collect();
    layouts.push((names::DROPS, OutputLayout::table(names::DROPS)));
    layouts
}

/// Table directories a stage writes, each once, `drops` last.
fn tables_of(stage: &dyn Stage) -> Vec<&'static str> {
    let mut tables = stage.writes();
    if !tables.contains(&names::DROPS) {
        tables.push(names::DROPS);
    }
    tables
}

/// Tables several stages write, each stage its own parts (`STAGE-part-NNNNN`): everyone's
/// `drops`, and `repos` (extract's rows of local repositories, crawl's API metadata).
pub const SHARED_TABLES: &[&str] = &[names::DROPS, names::REPOS];

fn part_prefix(stage: &str, layout: &OutputLayout) -> String {
    if SHARED_TABLES.contains(&layout.table) {
        format!("{stage}-part")
    } else {
        layout.prefix.to_string()
    }
}

/// Whether every output table of the stage was finalized under this fingerprint.
pub fn is_current(ctx: &StageContext, stage: &dyn Stage, fingerprint: &str) -> Result<bool> {
    for table in tables_of(stage) {
        let current = Manifest::read(&ctx.run.table(table))?
            .and_then(|m| {
                m.stages
                    .get(stage.name())
                    .map(|e| e.fingerprint == fingerprint)
            })
            .unwrap_or(false);
        if !current {
            return Ok(false);
        }
    }
    stage.outputs_exist(&ctx.for_stage(stage))
}

/// Run one stage (its units for this process, then the barrier when this process owns it).
pub fn run_stage(
    ctx: &StageContext,
    stage: &dyn Stage,
    forced: bool,
    options: &ExecOptions,
) -> Result<StageReport> {
    let ctx = &ctx.for_stage(stage);
    let started = Instant::now();
    let cpu_at_start = cpu_seconds();
    reset_peak_rss();
    let name = stage.name();
    let inputs = stage.inputs(ctx)?;
    let mut report = StageReport {
        stage: name.to_string(),
        rows_in: rows_in(ctx, &inputs)?,
        ..Default::default()
    };
    if !forced && is_current(ctx, stage, &inputs.fingerprint)? {
        tracing::info!("{name}: current (inputs and config unchanged), skipped");
        report.status = StageOutcome::Current;
        fill_from_manifests(ctx, stage, &mut report)?;
        report.wall_seconds = started.elapsed().as_secs_f64();
        report.cpu_seconds = cpu_seconds() - cpu_at_start;
        report.peak_rss_mib = peak_rss_mib();
        return Ok(report);
    }
    let store = UnitStore::open(&ctx.run.work(name), &inputs.fingerprint)?;
    ctx.run.publish(&store.dir)?;
    let mut keys = stage.units(ctx)?;
    keys.sort();
    keys.dedup();
    report.units = keys.len() as u64;
    if !options.finalize_only {
        let ran = run_units(ctx, stage, &store, &keys, options);
        if let Some(task) = options.task {
            let error = ran.as_ref().err().map(|e| e.to_string());
            store.mark_task(task, options.tasks.max(1), error.as_deref())?;
            ctx.run.publish(&store.dir)?;
        }
        report.units_run = ran?;
    }
    if options.task.is_some() {
        report.status = StageOutcome::Tasks;
    } else {
        let barrier = Instant::now();
        write_tables(ctx, stage, &inputs, &store, &keys, &mut report)?;
        store.remove()?;
        // The tables (manifests last), then the units they came from are gone there too.
        ctx.run.publish(&ctx.run.root)?;
        tracing::info!(
            "{name}: units {:.2}s, barrier {:.2}s",
            barrier.duration_since(started).as_secs_f64(),
            barrier.elapsed().as_secs_f64()
        );
        report.status = StageOutcome::Ran;
    }
    report.wall_seconds = started.elapsed().as_secs_f64();
    report.cpu_seconds = cpu_seconds() - cpu_at_start;
    report.peak_rss_mib = peak_rss_mib();
    Ok(report)
}

fn run_units(
    ctx: &StageContext,
    stage: &dyn Stage,
    store: &UnitStore,
    keys: &[String],
    options: &ExecOptions,
) -> Result<u64> {
    let tasks = options.tasks.max(1);
    let my_tasks: Vec<usize> = match options.task {
        Some(t) if t >= tasks => {
            return Err(StageError::Usage(format!(
                "--task {t} is out of range for --tasks {tasks}"
            )));
        }
        Some(t) => vec![t],
        None => (0..tasks).collect(),
    };
    let pending: Vec<(usize, &String)> = keys
        .iter()
        .map(|k| (task_of(k, tasks), k))
        .filter(|(t, _)| my_tasks.contains(t))
        .collect();
    let bar = progress_bar(stage.name(), pending.len() as u64);
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let ran = std::sync::atomic::AtomicU64::new(0);
    let writer_options = ctx.recipe.tables.writer_options();
    std::thread::scope(|scope| {
        for task in &my_tasks {
            let mine: Vec<&String> = pending
                .iter()
                .filter(|(t, _)| t == task)
                .map(|(_, k)| *k)
                .collect();
            let (errors, ran, bar, writer_options) = (&errors, &ran, &bar, &writer_options);
            scope.spawn(move || {
                for key in mine {
                    let outcome = run_unit_once(ctx, stage, store, key, writer_options);
                    bar.inc(1);
                    if let Some(status) = stage.progress() {
                        bar.set_message(status);
                    }
                    match outcome {
                        Ok(true) => {
                            ran.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Ok(false) => {}
                        Err(e) => {
                            if let Ok(mut errors) = errors.lock() {
                                errors.push(format!("unit {key}: {e}"));
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    let errors = errors.into_inner().unwrap_or_default();
    if !errors.is_empty() {
        return Err(StageError::stage(stage.name(), errors.join("\n")));
    }
    Ok(ran.into_inner())
}

/// Run one unit unless it is done already; whether it ran.
pub(crate) fn run_unit_once(
    ctx: &StageContext,
    stage: &dyn Stage,
    store: &UnitStore,
    key: &str,
    writer_options: &corpus_core::table::WriterOptions,
) -> Result<bool> {
    if store.done(key)?.is_some() {
        return Ok(false);
    }
    let ctx = &ctx.for_stage(stage);
    fault::check(stage.name(), "start")?;
    // Before the first unit that runs (later calls find it prepared).
    stage.prepare(ctx)?;
    let dir = store.begin(key)?;
    let mut out = UnitOutput::new(&dir, writer_options.clone());
    for output in stage.outputs() {
        out = out.with_options(output, stage.writer_options(ctx, output));
    }
    stage.run_unit(ctx, key, &mut out)?;
    let done = out.finish()?;
    store.mark_done(key, &done)?;
    ctx.run.publish(&store.unit_dir(key))?;
    fault::check(stage.name(), "unit")?;
    Ok(true)
}

pub(crate) fn progress_bar(stage: &str, len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{prefix:>12} [{bar:30}] {pos}/{len} units, {elapsed} (eta {eta}) {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(stage.to_string());
    bar
}

/// The barrier's tables: the units' rows concatenated in key order into each output table,
/// then the manifests (the units stay; the caller clears them). Manifests of this stage are
/// invalidated first, so a kill midway never leaves a table that looks complete.
pub(crate) fn write_tables(
    ctx: &StageContext,
    stage: &dyn Stage,
    inputs: &StageInputs,
    store: &UnitStore,
    keys: &[String],
    report: &mut StageReport,
) -> Result<()> {
    let ctx = &ctx.for_stage(stage);
    let name = stage.name();
    let mut done: Vec<UnitDone> = Vec::with_capacity(keys.len());
    let mut missing = Vec::new();
    for key in keys {
        match store.done(key)? {
            Some(d) => done.push(d),
            None => missing.push(key.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(StageError::stage(
            name,
            format!(
                "{} of {} units are not done ({}{}); run their tasks first",
                missing.len(),
                keys.len(),
                missing
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if missing.len() > 5 { ", ..." } else { "" }
            ),
        ));
    }
    stage.finish_outputs(ctx)?;
    fault::check(name, "outputs")?;
    let tables = tables_of(stage);
    for table in &tables {
        let dir = ctx.run.table(table);
        corpus_core::manifest::clear_stale_temporaries(&dir)?;
        if let Some(mut manifest) = Manifest::read(&dir)? {
            if SHARED_TABLES.contains(table) {
                manifest.stages.remove(name);
                let prefix = format!("{name}-part-");
                manifest.parts.retain(|p| !p.file.starts_with(&prefix));
                manifest.rows = manifest.parts.iter().map(|p| p.rows).sum();
                manifest.write(&dir)?;
            } else {
                let path = dir.join(corpus_core::manifest::MANIFEST_FILE);
                std::fs::remove_file(&path)
                    .map_err(|e| corpus_core::Error::io_path("remove", &path, e))?;
            }
        }
    }
    let mut dropped: BTreeMap<String, u64> = BTreeMap::new();
    let mut dropped_tokens: BTreeMap<String, u64> = BTreeMap::new();
    let mut counters: BTreeMap<String, u64> = BTreeMap::new();
    for d in &done {
        for (name, n) in &d.counters {
            *counters.entry(name.clone()).or_default() += n;
        }
        for (reason, n) in &d.dropped {
            *dropped.entry(reason.clone()).or_default() += n;
        }
        for (reason, n) in &d.dropped_tokens {
            *dropped_tokens.entry(reason.clone()).or_default() += n;
        }
    }
    // Parts first, every output; manifests only once all parts of their table exist.
    let mut written: BTreeMap<&'static str, Vec<(String, Vec<PartInfo>)>> = BTreeMap::new();
    for (output, layout) in layouts_of(stage) {
        let prefix = part_prefix(name, &layout);
        let parts = write_output_parts(ctx, stage, store, keys, output, &layout, &prefix)?;
        fault::check(name, "part")?;
        written
            .entry(layout.table)
            .or_default()
            .push((prefix, parts));
    }
    for table in &tables {
        let outputs = written.remove(table).unwrap_or_default();
        let rows: u64 = outputs
            .iter()
            .flat_map(|(_, parts)| parts.iter().map(|p| p.rows))
            .sum();
        let dir = ctx.run.table(table);
        let mut manifest = Manifest::read(&dir)?.unwrap_or_else(|| Manifest::new(table));
        let entry = StageEntry {
            fingerprint: inputs.fingerprint.clone(),
            config_hash: inputs.config_hash.clone(),
            inputs: inputs.inputs.clone(),
            rows,
            dropped: if *table == names::DROPS {
                dropped.clone()
            } else {
                BTreeMap::new()
            },
            dropped_tokens: if *table == names::DROPS {
                dropped_tokens.clone()
            } else {
                BTreeMap::new()
            },
            counters: if *table == names::DROPS {
                counters.clone()
            } else {
                BTreeMap::new()
            },
        };
        for (prefix, parts) in outputs {
            manifest.set_stage(name, &prefix, parts, entry.clone());
        }
        stage.annotate(ctx, table, &mut manifest)?;
        manifest.write(&dir)?;
        fault::check(name, "manifest")?;
        if *table != names::DROPS {
            report.rows_out.insert(table.to_string(), rows);
        }
    }
    report.dropped = dropped;
    report.dropped_tokens = dropped_tokens;
    report.counters = counters;
    Ok(())
}

/// A unit file of at least this many bytes keeps its row groups at the barrier (smaller ones
/// would leave many small row groups, each with its own metadata in the part's footer).
const SPLICE_BYTES: u64 = 1 << 20;

/// Concatenate the units' files of one output, in key order (per partition for a
/// partitioned output), into the parts of its table.
fn write_output_parts(
    ctx: &StageContext,
    stage: &dyn Stage,
    store: &UnitStore,
    keys: &[String],
    output: &'static str,
    layout: &OutputLayout,
    prefix: &str,
) -> Result<Vec<PartInfo>> {
    let name = stage.name();
    let dir = ctx.run.table(layout.table);
    clear_parts(&dir, prefix)?;
    let schema = table_schema(layout.table)
        .ok_or_else(|| StageError::stage(name, format!("no schema for table {}", layout.table)))?;
    let options = if output == names::DROPS {
        ctx.recipe.tables.writer_options()
    } else {
        stage.writer_options(ctx, output)
    };
    // A unit file big enough to stand as a part is linked in as it is; one big enough to
    // make good row groups has its row groups spliced into the part as they are encoded;
    // only small ones are decoded and merged into fuller row groups. Nothing is compressed
    // twice but those, and which is which depends only on the file, so the parts stay the
    // same for any task split.
    let adopt_bytes = if layout.adopt_all {
        0
    } else {
        options.max_part_bytes / 16
    };
    let splice_bytes = adopt_bytes.min(SPLICE_BYTES);
    let copy = |writer: &mut PartWriter, file: &str| -> Result<()> {
        for key in keys {
            for part in store.unit_parts(key, file)? {
                let size = std::fs::metadata(&part)
                    .map_err(|e| corpus_core::Error::io_path("stat", &part, e))?
                    .len();
                if size >= adopt_bytes {
                    writer.adopt(&part)?;
                } else if size >= splice_bytes {
                    writer.splice(&part)?;
                } else {
                    for_each_batch(&part, 4096, |batch| writer.write(&batch))?;
                }
            }
        }
        Ok(())
    };
    if !layout.partitioned {
        let mut writer = PartWriter::new(&dir, prefix, schema, options)?;
        copy(&mut writer, output)?;
        return Ok(writer.finish()?);
    }
    let mut partitions = std::collections::BTreeSet::new();
    for key in keys {
        partitions.extend(store.unit_partitions(key, output)?);
    }
    let mut parts = Vec::new();
    for partition in partitions {
        let mut writer = PartWriter::new(
            &dir,
            &format!("{prefix}-{partition:05}"),
            schema.clone(),
            options.clone(),
        )?;
        copy(&mut writer, &partition_file(output, partition))?;
        parts.extend(writer.finish()?);
    }
    Ok(parts)
}

/// Rows of the stage's input tables (`drops` left out: it is everyone's output).
fn rows_in(ctx: &StageContext, inputs: &StageInputs) -> Result<BTreeMap<String, u64>> {
    let mut rows = BTreeMap::new();
    for name in inputs.inputs.keys() {
        if name == names::DROPS || !corpus_core::schema::TABLES.contains(&name.as_str()) {
            continue;
        }
        if let Some(manifest) = Manifest::read(&ctx.run.table(name))? {
            rows.insert(name.clone(), manifest.rows);
        }
    }
    Ok(rows)
}

fn fill_from_manifests(
    ctx: &StageContext,
    stage: &dyn Stage,
    report: &mut StageReport,
) -> Result<()> {
    for table in tables_of(stage) {
        if let Some(m) = Manifest::read(&ctx.run.table(table))?
            && let Some(entry) = m.stages.get(stage.name())
        {
            if table == names::DROPS {
                report.dropped = entry.dropped.clone();
                report.dropped_tokens = entry.dropped_tokens.clone();
                report.counters = entry.counters.clone();
            } else {
                report.rows_out.insert(table.to_string(), entry.rows);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(picked: &[(&dyn Stage, bool)]) -> Vec<(String, bool)> {
        picked
            .iter()
            .map(|(s, f)| (s.name().to_string(), *f))
            .collect()
    }

    #[test]
    fn selection_picks_and_forces() {
        let stages = crate::stages::available();
        let all = Selection::default().pick(&stages).expect("pick");
        assert_eq!(
            names(&all),
            vec![
                ("crawl".to_string(), false),
                ("extract".to_string(), false),
                ("format".to_string(), false),
                ("synthesize".to_string(), false),
                ("ingest".to_string(), false),
                ("decontaminate".to_string(), false),
                ("curate".to_string(), false),
                ("tokenize".to_string(), false),
                ("mix".to_string(), false),
                ("shard".to_string(), false),
                ("export".to_string(), false),
            ]
        );
        let only = Selection {
            only: Some("extract".into()),
            ..Default::default()
        };
        assert_eq!(
            names(&only.pick(&stages).expect("pick")),
            vec![("extract".to_string(), true)]
        );
        let until_crawl = Selection {
            until: Some("crawl".into()),
            ..Default::default()
        };
        assert_eq!(
            names(&until_crawl.pick(&stages).expect("pick")),
            vec![("crawl".to_string(), false)]
        );
        let bad = Selection {
            from: Some("nope".into()),
            ..Default::default()
        };
        let err = bad
            .pick(&stages)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("unknown stage `nope`"), "{err}");
    }
}
