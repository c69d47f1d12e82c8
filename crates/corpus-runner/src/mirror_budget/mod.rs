//! Mirrors under a disk budget (`[inputs] mirror_budget_gib`, docs/architecture.md).
//!
//! The stages that read a crawled repository's git objects (crawl, extract, synthesize) then
//! run as one group, a repository at a time: fetch (the crawl's unit, which waits until the
//! mirror fits the budget), extract, synthesize, evict. Fetches run on threads of their own,
//! ahead of the processing tasks, so the network and the cores work at once.
//!
//! Each unit lands in its stage's unit store under the fingerprint that stage will have at
//! its barrier, so the barriers that follow in the usual stage order only concatenate them:
//! the same tables, byte for byte, as a run without a budget. A unit reads its upstream rows
//! from a scratch run directory that holds that one repository's tables.
//!
//! Resumption: a repository whose group is done is marked in `_work/mirrors` before its
//! mirror goes; a killed run leaves its other repositories' units and mirrors, and the next
//! run goes on from them (a mirror that went missing is fetched again).

use corpus_core::schema::names;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use corpus_core::memory::{cpu_seconds, peak_rss_mib, reset_peak_rss, thread_cpu_seconds};
use corpus_core::recipe::Recipe;
use corpus_core::rows::RepoRow;
pub use corpus_crawl::mirror_budget::{MirrorBudget, MirrorStats};

use crate::execute::{ExecOptions, is_current, progress_bar, run_unit_once, write_tables};
use crate::report::StageReport;
use crate::stages::{CrawlStage, ExtractStage, SynthesizeStage, mirrors_dir};
use crate::units::UnitStore;
use corpus_stage::disk::folder_bytes;
use corpus_stage::error::{Result, StageError};
use corpus_stage::fault;
use corpus_stage::run_dir::RunDir;
use corpus_stage::stage::{Stage, StageContext, StageInputs, UnitDone};

/// The stages that read a crawled mirror, in order.
pub const GROUP: [&str; 3] = ["crawl", "extract", "synthesize"];
/// The unit store of finished repositories.
const DONE_STORE: &str = "mirrors";
/// Scratch run directories, one per repository in flight.
const SCRATCH: &str = "mirror_scratch";
/// Fetches at once (network-bound; they wait on the budget, not on the cores).
const FETCHERS: usize = 2;
/// The prefix of a mirror being removed.
const EVICTING: &str = ".evicting-";

/// Whether the selection runs the group under a budget. Selecting only part of the group
/// is an error (they share each mirror), and so is a cluster task (the budget is a node's).
pub fn group_selected(
    recipe: &Recipe,
    picked: &[(&dyn Stage, bool)],
    options: &ExecOptions,
) -> Result<bool> {
    if !recipe.mirrors_are_scratch() {
        return Ok(false);
    }
    let chosen: Vec<&str> = picked
        .iter()
        .map(|(s, _)| s.name())
        .filter(|n| GROUP.contains(n))
        .collect();
    if chosen.is_empty() {
        return Ok(false);
    }
    if chosen.len() != GROUP.len() {
        return Err(StageError::Usage(format!(
            "with [inputs] mirror_budget_gib, {} run together (each mirror is removed once all \
             three are done with it); this selection runs only {}",
            GROUP.join(", "),
            chosen.join(", ")
        )));
    }
    if options.task.is_some() || options.finalize_only {
        return Err(StageError::Usage(
            "[inputs] mirror_budget_gib bounds one machine's disk: run the crawl, extract and \
             synthesize stages without --task or --finalize"
                .into(),
        ));
    }
    Ok(true)
}

/// Whether the group must run: one of its stages is forced or not current.
pub fn group_needed(ctx: &StageContext, picked: &[(&dyn Stage, bool)]) -> Result<bool> {
    if picked
        .iter()
        .any(|(s, forced)| *forced && GROUP.contains(&s.name()))
    {
        return Ok(true);
    }
    // Fresh stages: the run's own remember what they listed.
    for stage in crate::stages::available() {
        if !GROUP.contains(&stage.name()) {
            continue;
        }
        match stage.inputs(&ctx.for_stage(stage.as_ref())) {
            Ok(inputs) if is_current(ctx, stage.as_ref(), &inputs.fingerprint)? => {}
            _ => return Ok(true),
        }
    }
    Ok(false)
}

/// The group's inputs, as each stage will have them at its barrier.
struct GroupInputs {
    crawl: StageInputs,
    extract: StageInputs,
    synthesize: StageInputs,
}

/// The unit stores the group fills, and the record of repositories done.
struct Stores {
    crawl: UnitStore,
    extract: UnitStore,
    synthesize: UnitStore,
    done: UnitStore,
}

/// What the group did: the mirrors' account, and per stage the units it ran and their
/// processor seconds.
#[derive(Debug, Clone, Default)]
pub struct GroupRun {
    pub mirrors: MirrorStats,
    pub units_run: BTreeMap<&'static str, u64>,
    pub cpu_seconds: BTreeMap<&'static str, f64>,
}

impl GroupRun {
    /// Add the group's work to a stage's report (its barrier ran in the stage loop).
    pub fn add_to(&self, report: &mut StageReport) {
        let Some(stage) = GROUP.iter().find(|s| **s == report.stage) else {
            return;
        };
        report.units_run += self.units_run.get(stage).copied().unwrap_or(0);
        report.cpu_seconds += self.cpu_seconds.get(stage).copied().unwrap_or(0.0);
        report.peak_rss_mib = report.peak_rss_mib.max(self.mirrors.peak_rss_mib);
    }
}

/// Run the group for every crawled repository within `limit` bytes of mirrors; the stages'
/// barriers are left to the usual run that follows.
pub fn run_group(ctx: &StageContext, limit: u64, tasks: usize) -> Result<GroupRun> {
    let started = std::time::Instant::now();
    let cpu_at_start = cpu_seconds();
    reset_peak_rss();
    let budget = Arc::new(MirrorBudget::new(limit));
    let crawl = CrawlStage::with_budget(budget.clone());
    let inputs = group_inputs(ctx, &crawl)?;
    let stores = Stores {
        crawl: UnitStore::open(&ctx.run.work("crawl"), &inputs.crawl.fingerprint)?,
        extract: UnitStore::open(&ctx.run.work("extract"), &inputs.extract.fingerprint)?,
        synthesize: UnitStore::open(&ctx.run.work("synthesize"), &inputs.synthesize.fingerprint)?,
        done: UnitStore::open(
            &ctx.run.work(DONE_STORE),
            &corpus_core::hash::hex64(
                format!(
                    "{}\n{}\n{}",
                    inputs.crawl.fingerprint,
                    inputs.extract.fingerprint,
                    inputs.synthesize.fingerprint
                )
                .as_bytes(),
            ),
        )?,
    };
    let mut keys = crawl.units(&ctx.for_stage(&crawl))?;
    keys.sort();
    keys.dedup();
    let mirrors = mirrors_dir(ctx);
    clear_evicting(&mirrors)?;
    // Repositories whose mirror is on disk go first: they hold budget the others wait for.
    let mut pending = Vec::new();
    let mut on_disk = Vec::new();
    for key in &keys {
        let path = corpus_crawl::mirror::mirror_path(&mirrors, key);
        let done = stores.done.done(key)?.is_some();
        if done && path.exists() {
            evict(&path, key)?;
        } else if path.exists() {
            budget.adopt(key, folder_bytes(&path));
            on_disk.push(key.as_str());
        } else if !done {
            pending.push(key.as_str());
        }
    }
    on_disk.extend(pending);
    let pending = on_disk;
    tracing::info!(
        "mirrors: {} repositories to fetch and process ({} done before), at most {} of mirrors at a time",
        pending.len(),
        keys.len() - pending.len(),
        gib(limit)
    );
    let group = Group {
        ctx,
        crawl: &crawl,
        inputs: &inputs,
        stores: &stores,
        budget: &budget,
        mirrors: &mirrors,
        costs: Mutex::new(BTreeMap::new()),
    };
    group.run(&pending, tasks)?;
    remove_dir(&ctx.run.root.join("_work").join(SCRATCH))?;
    let mut stats = budget.stats();
    stats.wall_seconds = started.elapsed().as_secs_f64();
    stats.peak_rss_mib = peak_rss_mib();
    tracing::info!(
        "mirrors: {} fetched ({}), {} evicted, peak {} of {}",
        stats.fetched,
        gib(stats.fetched_bytes),
        stats.evicted,
        gib(stats.peak_bytes),
        gib(limit)
    );
    // The crawl's units work on their own thread (the `git` they start is not this
    // process's time, with or without a budget): their thread time is theirs. Extract and
    // synthesize units run at once and start threads of their own (rayon, the variants), so
    // no clock sees one alone: each unit's share is the process's processor time while it
    // ran, scaled so that the two stages share what the crawl left of the process's total.
    // An apportioning, not a measurement of each unit.
    let costs = group.costs.into_inner().unwrap_or_else(|p| p.into_inner());
    let crawl_cpu = costs.get("crawl").map(|c| c.1).unwrap_or(0.0);
    let processing: f64 = costs
        .iter()
        .filter(|(s, _)| **s != "crawl")
        .map(|(_, c)| c.1)
        .sum();
    let left = (cpu_seconds() - cpu_at_start - crawl_cpu).max(0.0);
    let scale = if processing > 0.0 {
        left / processing
    } else {
        0.0
    };
    Ok(GroupRun {
        mirrors: stats,
        units_run: costs.iter().map(|(s, (n, _))| (*s, *n)).collect(),
        cpu_seconds: costs
            .iter()
            .map(|(s, (_, c))| (*s, if *s == "crawl" { *c } else { c * scale }))
            .collect(),
    })
}

/// Forget the repositories done (after the group's barriers: nothing waits on them now).
pub fn finish(ctx: &StageContext) -> Result<()> {
    UnitStore {
        dir: ctx.run.work(DONE_STORE),
    }
    .remove()
}

fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// The three fingerprints, read off an empty scratch run: the crawl's from the recipe, the
/// others from the table versions the crawl's (and extract's) barrier will write.
fn group_inputs(ctx: &StageContext, crawl: &CrawlStage) -> Result<GroupInputs> {
    let crawl_inputs = crawl.inputs(&ctx.for_stage(crawl))?;
    let probe = scratch_run(ctx, "_probe")?;
    let pctx = StageContext::new(ctx.recipe, &probe);
    let none = UnitStore {
        dir: probe.work("none"),
    };
    write_tables(
        &pctx,
        crawl,
        &crawl_inputs,
        &none,
        &[],
        &mut StageReport::default(),
    )?;
    let extract = ExtractStage::default();
    let extract_inputs = extract.inputs(&pctx.for_stage(&extract))?;
    write_tables(
        &pctx,
        &extract,
        &extract_inputs,
        &none,
        &[],
        &mut StageReport::default(),
    )?;
    let synthesize_inputs = {
        let synthesize = SynthesizeStage::default();
        synthesize.inputs(&pctx.for_stage(&synthesize))?
    };
    remove_dir(&probe.root)?;
    Ok(GroupInputs {
        crawl: crawl_inputs,
        extract: extract_inputs,
        synthesize: synthesize_inputs,
    })
}

/// A clean scratch run directory for `name`.
fn scratch_run(ctx: &StageContext, name: &str) -> Result<RunDir> {
    let store = UnitStore {
        dir: ctx.run.root.join("_work").join(SCRATCH),
    };
    let root = store.unit_dir(name);
    remove_dir(&root)?;
    let run = RunDir::new(&root);
    // The stages' scratch files go where their unit stores would be.
    for dir in GROUP.iter().map(|s| run.work(s)).chain([run.tables()]) {
        std::fs::create_dir_all(&dir)
            .map_err(|e| corpus_core::Error::io_path("create directory", &dir, e))?;
    }
    Ok(run)
}

fn remove_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| corpus_core::Error::io_path("remove", dir, e))?;
    }
    Ok(())
}

/// Remove a mirror: renamed aside first, so a kill midway never leaves a mirror that looks
/// whole.
fn evict(path: &Path, repo: &str) -> Result<()> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    let aside = dir.join(format!("{EVICTING}{}", repo.replace('/', "+")));
    remove_dir(&aside)?;
    std::fs::rename(path, &aside).map_err(|e| corpus_core::Error::io_path("rename", path, e))?;
    remove_dir(&aside)
}

/// What a killed eviction left.
fn clear_evicting(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(EVICTING) {
            remove_dir(&entry.path())?;
        }
    }
    Ok(())
}

struct Group<'a> {
    ctx: &'a StageContext<'a>,
    crawl: &'a CrawlStage,
    inputs: &'a GroupInputs,
    stores: &'a Stores,
    budget: &'a MirrorBudget,
    mirrors: &'a Path,
    /// Per stage: units run, the process's processor seconds while they ran.
    costs: Mutex<BTreeMap<&'static str, (u64, f64)>>,
}

impl Group<'_> {
    /// Run one unit unless done, counting processor time while it ran: the thread's for
    /// the crawl, the process's for the others (see [`run_group`]).
    fn unit(
        &self,
        ctx: &StageContext,
        stage: &dyn Stage,
        store: &UnitStore,
        key: &str,
    ) -> Result<()> {
        let clock = if stage.name() == "crawl" {
            thread_cpu_seconds
        } else {
            cpu_seconds
        };
        let options = ctx.recipe.tables.writer_options();
        let before = clock();
        if run_unit_once(ctx, stage, store, key, &options)? {
            let mut costs = self.costs.lock().unwrap_or_else(|p| p.into_inner());
            let entry = costs.entry(stage.name()).or_default();
            entry.0 += 1;
            entry.1 += clock() - before;
        }
        Ok(())
    }

    /// Fetchers crawl and mirror in key order; `tasks` workers process what they hand on.
    fn run(&self, pending: &[&str], tasks: usize) -> Result<()> {
        let next = AtomicUsize::new(0);
        let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let fail = |key: &str, e: StageError| {
            errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(format!("{key}: {e}"));
        };
        let (ready, fetched) = std::sync::mpsc::channel::<&str>();
        let fetched = Mutex::new(fetched);
        let bar = progress_bar(DONE_STORE, pending.len() as u64);
        std::thread::scope(|scope| {
            for _ in 0..FETCHERS.min(pending.len()) {
                let ready = ready.clone();
                let (next, fail) = (&next, &fail);
                scope.spawn(move || {
                    while let Some(key) = pending.get(next.fetch_add(1, Ordering::Relaxed)) {
                        match self.fetch(key) {
                            Ok(()) => {
                                if ready.send(key).is_err() {
                                    return;
                                }
                            }
                            Err(e) => {
                                self.budget.release(key, false);
                                fail(key, e);
                            }
                        }
                    }
                });
            }
            drop(ready);
            for _ in 0..tasks.max(1) {
                let (fetched, fail, bar) = (&fetched, &fail, &bar);
                scope.spawn(move || {
                    loop {
                        let key = match fetched.lock().map(|rx| rx.recv()) {
                            Ok(Ok(key)) => key,
                            _ => return,
                        };
                        if let Err(e) = self.process(key) {
                            // Its units stay; the mirror goes so the others can go on.
                            let _ = self.evict_mirror(key);
                            fail(key, e);
                        }
                        bar.inc(1);
                    }
                });
            }
        });
        bar.finish_and_clear();
        let errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
        if errors.is_empty() {
            Ok(())
        } else {
            Err(StageError::stage("crawl", errors.join("\n")))
        }
    }

    /// The crawl's unit of `key` done, with its mirror on disk.
    fn fetch(&self, key: &str) -> Result<()> {
        let store = &self.stores.crawl;
        if store.done(key)?.is_some() {
            match self.crawled_path(key)? {
                Some(path) if !Path::new(&path).exists() => store.forget(key)?,
                _ => return Ok(()),
            }
        }
        self.unit(self.ctx, self.crawl, store, key)
    }

    /// The mirror path the crawl's unit of `key` recorded.
    fn crawled_path(&self, key: &str) -> Result<Option<String>> {
        let mut path = None;
        for part in self.stores.crawl.unit_parts(key, names::REPOS)? {
            corpus_core::table::for_each_batch(&part, 64, |batch| {
                for row in RepoRow::from_batch(&batch)? {
                    path = path.take().or(row.path);
                }
                Ok(())
            })?;
        }
        Ok(path)
    }

    /// Extract and synthesize `key` from its scratch tables, then evict its mirror.
    fn process(&self, key: &str) -> Result<()> {
        let scratch = scratch_run(self.ctx, key)?;
        let sctx = StageContext::new(self.ctx.recipe, &scratch);
        let one = [key.to_string()];
        let sink = &mut StageReport::default();
        write_tables(
            &sctx,
            self.crawl,
            &self.inputs.crawl,
            &self.stores.crawl,
            &one,
            sink,
        )?;
        let extract = ExtractStage::default();
        let ectx = sctx.for_stage(&extract);
        same_inputs(&extract, &extract.inputs(&ectx)?, &self.inputs.extract)?;
        let extracted: &[String] = if extract.units(&ectx)?.iter().any(|k| k == key) {
            self.unit(&sctx, &extract, &self.stores.extract, key)?;
            &one
        } else {
            &[]
        };
        write_tables(
            &sctx,
            &extract,
            &self.inputs.extract,
            &self.stores.extract,
            extracted,
            sink,
        )?;
        let synthesize = SynthesizeStage::default();
        let syctx = sctx.for_stage(&synthesize);
        same_inputs(
            &synthesize,
            &synthesize.inputs(&syctx)?,
            &self.inputs.synthesize,
        )?;
        if synthesize.units(&syctx)?.iter().any(|k| k == key) {
            self.unit(&sctx, &synthesize, &self.stores.synthesize, key)?;
        }
        remove_dir(&scratch.root)?;
        self.stores.done.begin(key)?;
        self.stores.done.mark_done(key, &UnitDone::default())?;
        self.ctx.run.publish(&self.stores.done.unit_dir(key))?;
        self.evict_mirror(key)?;
        fault::check(DONE_STORE, "evict")?;
        Ok(())
    }

    fn evict_mirror(&self, key: &str) -> Result<()> {
        let path: PathBuf = corpus_crawl::mirror::mirror_path(self.mirrors, key);
        if path.exists() {
            evict(&path, key)?;
        }
        self.budget.release(key, true);
        Ok(())
    }
}

/// A stage's inputs seen from one repository's scratch run must be those of its barrier.
fn same_inputs(stage: &dyn Stage, got: &StageInputs, want: &StageInputs) -> Result<()> {
    if got.fingerprint == want.fingerprint {
        return Ok(());
    }
    Err(StageError::stage(
        stage.name(),
        format!(
            "under the mirror budget its inputs differ per repository ({:?} vs {:?}): \
             a repository's units would not match the stage's barrier",
            got.inputs, want.inputs
        ),
    ))
}
