//! Stage `decontaminate`: samples from benchmark repositories (by name, fork parent or shared
//! root commit), samples of PRs merged on or after the recipe's cutoff, samples that name a
//! benchmark instance, and samples that hold most of a benchmark instance's text (word n-grams)
//! go to `drops`; the rest go on as `decontaminated`. `decontam_report` says what each reason removed,
//! per matched repository or instance, including what extraction skipped by name.

use crate::benchmark_file::read_instances;
use crate::cutoff::{MergeDates, after_cutoff};
use crate::instance_ids::InstanceIds;
use crate::ngram::{Field, NgramIndex};
use crate::patch_lines::{GoldPatches, GoldSketch, code_part};
use crate::repo_match::BenchmarkIdentity;
use corpus_core::drop_reason::DropReason;
use corpus_core::hash::file_hex64;
use corpus_core::recipe::Recipe;
use corpus_core::rows::{DecontamReportRow, DropRow, RepoRow, SampleRow};
use corpus_core::schema::names;
use corpus_core::table::KeyedTable;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::{
    InputsBuilder, NO_REPO_UNIT, PreparedOnce, Stage, StageContext, StageInputs, StageSpec,
    UnitOutput, read_repos,
};
use corpus_tokenize::drop_tokens::{DropTokens, record_identity};

const NAME: &str = "decontaminate";
const INPUTS: &[&str] = &[names::REPOS, names::SAMPLES];

/// (stage, reason, matched) of a report line.
type ReportKey = (String, String, String);

/// What one report line counts.
#[derive(Default)]
struct Tally {
    prs: BTreeSet<i64>,
    samples: i64,
    bytes: i64,
    tokens: Option<i64>,
    detail: String,
}

impl Tally {
    fn new(detail: String) -> Self {
        Self {
            detail,
            ..Default::default()
        }
    }

    fn add(&mut self, sample: &SampleRow, tokens: Option<i64>) {
        if let Some(pr) = sample.pr_number {
            self.prs.insert(pr);
        }
        self.samples += 1;
        self.bytes += sample.text.len() as i64;
        if let Some(n) = tokens {
            self.tokens = Some(self.tokens.unwrap_or(0) + n);
        }
    }
}

struct Prepared {
    repos: BTreeMap<String, RepoRow>,
    identity: BenchmarkIdentity,
    index: NgramIndex,
    /// Instance ids of the chosen families and the benchmark files (canaries).
    instance_ids: InstanceIds,
    /// The registry's and the benchmark files' gold patches, by changed lines.
    gold: GoldPatches,
    /// The cutoff in seconds.
    cutoff: Option<i64>,
    /// PR diffs and merge dates (opened when gold patches or a cutoff need them), and the
    /// commit packs' merge dates (with a cutoff).
    patches: Option<KeyedTable>,
    commit_packs: Option<KeyedTable>,
    samples: KeyedTable,
    /// `synthesize`'s rows, when the run has them: checked like the samples they come from.
    synthetic: Option<KeyedTable>,
    tokens: DropTokens,
}

#[derive(Default)]
pub struct DecontaminateStage {
    prepared: PreparedOnce<Prepared>,
}

/// The gold patches the registry ships for the recipe's families.
fn registry_gold(
    options: &corpus_core::recipe::DecontamOptions,
) -> impl Iterator<Item = &'static corpus_core::benchmark::GoldLines> {
    options
        .families()
        .into_iter()
        .filter_map(corpus_core::benchmark::family)
        .flat_map(|f| &f.gold)
}

/// What the registry and the benchmark files give: n-grams, instance ids, gold patches.
struct BenchmarkIndex {
    ngrams: NgramIndex,
    ids: InstanceIds,
    gold: GoldPatches,
    /// The repositories the files name (their `repo` column).
    repos: Vec<String>,
}

fn build_index(recipe: &Recipe) -> Result<BenchmarkIndex> {
    let options = &recipe.decontam;
    let mut index = NgramIndex::new(options.ngram);
    let mut ids = InstanceIds::from_options(options);
    let mut gold = GoldPatches::new(options.patch_min_lines, options.patch_containment);
    for entry in registry_gold(options) {
        match GoldSketch::parse(&entry.lines) {
            Some(sketch) => gold.add_sketch(&entry.instance, &sketch),
            None => {
                return Err(StageError::stage(
                    NAME,
                    format!("registry gold lines of {} do not parse", entry.instance),
                ));
            }
        }
    }
    let mut repos = BTreeSet::new();
    for path in &options.benchmark_files {
        let path = recipe.resolve(path);
        let instances =
            read_instances(&path).map_err(|e| StageError::stage(NAME, e.to_string()))?;
        for i in &instances {
            ids.add(&i.instance_id);
            gold.add(&i.instance_id, &i.patch);
            if !i.repo.is_empty() {
                repos.insert(i.repo.clone());
            }
            index.add(
                &i.instance_id,
                &[
                    (Field::ProblemStatement, &i.problem_statement),
                    (Field::Patch, &code_part(&i.patch)),
                    (Field::TestPatch, &i.test_patch),
                ],
            );
        }
        tracing::info!(
            "{}: {} benchmark instances indexed",
            path.display(),
            instances.len()
        );
    }
    Ok(BenchmarkIndex {
        ngrams: index,
        ids,
        gold,
        repos: repos.into_iter().collect(),
    })
}

impl DecontaminateStage {
    fn prepared(&self, ctx: &StageContext) -> Result<&Prepared> {
        self.prepared.get_or_prepare(NAME, || {
            let repos = read_repos(ctx)?;
            let rows: Vec<RepoRow> = repos.values().cloned().collect();
            let BenchmarkIndex {
                ngrams: index,
                ids: instance_ids,
                gold,
                repos: file_repos,
            } = build_index(ctx.recipe)?;
            let cutoff = ctx.recipe.decontam.cutoff_seconds();
            let patches = match cutoff.is_some() || !gold.is_empty() {
                true => KeyedTable::open_if_present(&ctx.table(names::PATCHES)?, "repo")?,
                false => None,
            };
            let commit_packs = match cutoff {
                Some(_) => KeyedTable::open_if_present(&ctx.table(names::COMMIT_PACKS)?, "repo")?,
                None => None,
            };
            let prepared = Prepared {
                identity: BenchmarkIdentity::with_file_repos(
                    &ctx.recipe.decontam,
                    &rows,
                    &file_repos,
                ),
                repos,
                index,
                instance_ids,
                gold,
                cutoff,
                patches,
                commit_packs,
                samples: KeyedTable::open(&ctx.table(names::SAMPLES)?, "repo")?,
                synthetic: KeyedTable::open_if_present(
                    &ctx.table(names::SYNTHETIC_SAMPLES)?,
                    "repo",
                )?,
                tokens: DropTokens::new(ctx, NAME),
            };
            Ok(prepared)
        })
    }
}

const SPEC: StageSpec = StageSpec {
    name: NAME,
    outputs: &[names::DECONTAMINATED, names::DECONTAM_REPORT],
    reads: &[
        names::REPOS,
        names::SAMPLES,
        names::SYNTHETIC_SAMPLES,
        names::EXTERNAL_SAMPLES,
        names::PATCHES,
        names::COMMIT_PACKS,
    ],
};

impl Stage for DecontaminateStage {
    fn spec(&self) -> &'static StageSpec {
        &SPEC
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        let mut builder = InputsBuilder::new(Recipe::section_hash(&ctx.recipe.decontam));
        builder.hidden(
            "registry",
            corpus_core::benchmark::registry_digest().as_bytes(),
        );
        for table in INPUTS {
            builder.table(ctx, NAME, table, true)?;
        }
        builder.table(ctx, NAME, names::EXTERNAL_SAMPLES, false)?;
        builder.table(ctx, NAME, names::SYNTHETIC_SAMPLES, false)?;
        // The cutoff dates samples by them, and gold patches are matched against their diffs.
        let options = &ctx.recipe.decontam;
        if options.cutoff.is_some()
            || !options.benchmark_files.is_empty()
            || registry_gold(options).next().is_some()
        {
            builder.table(ctx, NAME, names::PATCHES, true)?;
            builder.table(ctx, NAME, names::COMMIT_PACKS, false)?;
        }
        record_identity(ctx, &mut builder);
        for path in &ctx.recipe.decontam.benchmark_files {
            let path = ctx.recipe.resolve(path);
            let sum = file_hex64(&path).map_err(|e| {
                StageError::stage(NAME, format!("benchmark file {}: {e}", path.display()))
            })?;
            builder.input(&format!("benchmark:{}", path.display()), &sum);
        }
        Ok(builder.finish())
    }

    fn prepare(&self, ctx: &StageContext) -> Result<()> {
        self.prepared(ctx).map(|_| ())
    }

    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()> {
        if key == NO_REPO_UNIT {
            return self.external_unit(ctx, out);
        }
        let prepared = self.prepared(ctx)?;
        let Some(repo) = prepared.repos.get(key) else {
            return Ok(());
        };
        let mut report: BTreeMap<ReportKey, Tally> = BTreeMap::new();
        if repo.skipped_reason.as_deref() == Some(DropReason::SweBenchRepo.code()) {
            // Extraction skipped it by name before any work: nothing to remove here, but the
            // report says so.
            let matched = prepared
                .identity
                .verdict(repo)
                .map(|v| v.matched)
                .unwrap_or_else(|| repo.repo.clone());
            report.insert(
                (
                    "extract".into(),
                    DropReason::SweBenchRepo.code().into(),
                    matched,
                ),
                Tally::new("skipped by name before extraction".into()),
            );
        }
        let verdict = prepared.identity.verdict(repo);
        let (dates, fixes) = read_prs(prepared, key)?;
        let mut kept = Vec::new();
        let mut drops = Vec::new();
        let threshold = ctx.recipe.decontam.threshold;
        let tables = std::iter::once(&prepared.samples).chain(prepared.synthetic.as_ref());
        for table in tables {
            table.for_each_batch_of(key, 512, |batch| {
                for sample in SampleRow::from_batch(&batch)? {
                    let removal = match &verdict {
                        Some(v) => Some(Removal {
                            reason: v.reason,
                            matched: v.matched.clone(),
                            detail: v.detail.clone(),
                        }),
                        None => cutoff_match(prepared, &dates, &sample)
                            .or_else(|| fix_match(&fixes, &sample))
                            .or_else(|| text_match(prepared, &sample.text, threshold)),
                    };
                    match removal {
                        Some(removal) => {
                            let tokens = prepared.tokens.count(NAME, &sample)?;
                            let detail = format!("{}: {}", sample.sample_kind, removal.detail);
                            let drop = record(&mut report, &removal, &sample, tokens)
                                .repo(key)
                                .pr(sample.pr_number)
                                .detail(detail);
                            drops.push(drop);
                        }
                        None => kept.push(sample),
                    }
                }
                Ok(())
            })?;
        }
        write_kept(out, &kept)?;
        out.write(names::DECONTAM_REPORT, &report_batch(report, key)?)?;
        out.write_drops(&drops)?;
        Ok(())
    }
}

impl DecontaminateStage {
    /// External samples have no repository: only the content check applies.
    fn external_unit(&self, ctx: &StageContext, out: &mut UnitOutput) -> Result<()> {
        let table = ctx.table(names::EXTERNAL_SAMPLES)?;
        if corpus_core::manifest::Manifest::read(&table)?.is_none() {
            return Ok(());
        }
        let prepared = self.prepared(ctx)?;
        let threshold = ctx.recipe.decontam.threshold;
        let mut report: BTreeMap<ReportKey, Tally> = BTreeMap::new();
        let mut kept = Vec::new();
        let mut drops = Vec::new();
        corpus_core::table::for_each_table_batch(&table, 512, |batch| {
            for sample in SampleRow::from_batch(&batch)? {
                match text_match(prepared, &sample.text, threshold) {
                    Some(removal) => {
                        let tokens = prepared.tokens.count(NAME, &sample)?;
                        let detail = format!("external {}: {}", sample.source, removal.detail);
                        drops.push(record(&mut report, &removal, &sample, tokens).detail(detail));
                    }
                    None => kept.push(sample),
                }
            }
            Ok(())
        })?;
        write_kept(out, &kept)?;
        out.write(names::DECONTAM_REPORT, &report_batch(report, "")?)?;
        out.write_drops(&drops)?;
        Ok(())
    }
}

/// A PR (or, without one, a base commit) of a repository.
type PrKey = (Option<i64>, String);

/// The PRs that are a benchmark instance's fix: (instance, detail).
type Fixes = HashMap<PrKey, (String, String)>;

fn pr_key(pr_number: Option<i64>, base_sha: &str) -> PrKey {
    match pr_number {
        Some(n) => (Some(n), String::new()),
        None => (None, base_sha.to_string()),
    }
}

/// What one pass over a repository's `patches` (and, with a cutoff, `commit_packs`) gives:
/// the merge date of each PR, and the PRs whose changed lines are a benchmark gold patch
/// with (instance, detail).
fn read_prs(prepared: &Prepared, repo: &str) -> Result<(MergeDates, Fixes)> {
    use arrow::array::{Array, Int64Array, StringArray, TimestampSecondArray};
    use corpus_core::table::column;
    let mut dates = MergeDates::default();
    let mut fixes = HashMap::new();
    let dated = prepared.cutoff.is_some();
    let matched = !prepared.gold.is_empty();
    let tables = [
        (prepared.patches.as_ref(), matched),
        (prepared.commit_packs.as_ref(), false),
    ];
    for (table, with_diffs) in tables {
        let Some(table) = table else { continue };
        let mut columns = vec!["pr_number", "base_sha", "merged_at"];
        if with_diffs {
            columns.push("diff");
        }
        table.for_each_batch_of_columns(repo, Some(&columns), 256, |batch| {
            let prs = column::<Int64Array>(&batch, "pr_number")?;
            let bases = column::<StringArray>(&batch, "base_sha")?;
            let merged = column::<TimestampSecondArray>(&batch, "merged_at")?;
            let diffs = match with_diffs {
                true => Some(column::<StringArray>(&batch, "diff")?),
                false => None,
            };
            for row in 0..batch.num_rows() {
                let pr = (!prs.is_null(row)).then(|| prs.value(row));
                if dated && !merged.is_null(row) {
                    dates.add(pr, bases.value(row), merged.value(row));
                }
                let Some(m) = diffs.and_then(|d| prepared.gold.best_match(d.value(row))) else {
                    continue;
                };
                let detail = if m.exact {
                    format!("its changed lines are the gold patch of {}", m.instance_id)
                } else {
                    format!(
                        "holds {:.0}% of the changed lines of the gold patch of {}",
                        m.share * 100.0,
                        m.instance_id
                    )
                };
                fixes.insert(pr_key(pr, bases.value(row)), (m.instance_id, detail));
            }
            Ok(())
        })?;
    }
    Ok((dates, fixes))
}

/// Why a sample goes: the reason, the benchmark repository or instance it matched, and how.
struct Removal {
    reason: DropReason,
    matched: String,
    detail: String,
}

/// Count a removed sample on its report line; its drop, for the caller to say where the
/// sample came from.
fn record(
    report: &mut BTreeMap<ReportKey, Tally>,
    removal: &Removal,
    sample: &SampleRow,
    tokens: Option<i64>,
) -> DropRow {
    let key = (
        NAME.to_string(),
        removal.reason.code().to_string(),
        removal.matched.clone(),
    );
    report
        .entry(key)
        .or_insert_with(|| Tally::new(report_detail(removal)))
        .add(sample, tokens);
    let mut drop = DropRow::new(NAME, removal.reason).sample(&sample.sample_id);
    drop.n_tokens = tokens;
    drop
}

/// `benchmark_patch` when the sample's PR is a benchmark instance's fix.
fn fix_match(fixes: &Fixes, sample: &SampleRow) -> Option<Removal> {
    let (instance, detail) = fixes.get(&pr_key(sample.pr_number, &sample.base_sha))?;
    Some(Removal {
        reason: DropReason::BenchmarkPatch,
        matched: instance.clone(),
        detail: detail.clone(),
    })
}

/// A report line's detail: the first removal's, except for the cutoff, whose drops each
/// name their own merge day.
fn report_detail(removal: &Removal) -> String {
    match removal.reason {
        DropReason::AfterCutoff => "PRs merged on or after the cutoff".to_string(),
        _ => removal.detail.clone(),
    }
}

/// `after_cutoff` when the sample's PR was merged on or after the recipe's cutoff.
fn cutoff_match(prepared: &Prepared, dates: &MergeDates, sample: &SampleRow) -> Option<Removal> {
    let cutoff = prepared.cutoff.as_ref()?;
    let merged_at = dates.merged_at(sample.pr_number, &sample.base_sha)?;
    after_cutoff(merged_at, *cutoff).then(|| {
        let day = |secs: i64| corpus_core::days::format(secs.div_euclid(86_400));
        Removal {
            reason: DropReason::AfterCutoff,
            matched: day(*cutoff),
            detail: format!("merged {}", day(merged_at)),
        }
    })
}

/// A match by the sample's text: an instance id written in it, else content overlap.
fn text_match(prepared: &Prepared, text: &str, threshold: f64) -> Option<Removal> {
    if let Some(id) = prepared.instance_ids.find_in(text) {
        return Some(Removal {
            reason: DropReason::BenchmarkInstanceId,
            matched: id.to_string(),
            detail: format!("names benchmark instance {id}"),
        });
    }
    content_match(&prepared.index, text, threshold).map(|(matched, detail)| Removal {
        reason: DropReason::BenchmarkContent,
        matched,
        detail,
    })
}

/// The benchmark instance a text holds too much of, with how much (none without an index).
fn content_match(index: &NgramIndex, text: &str, threshold: f64) -> Option<(String, String)> {
    if index.is_empty() {
        return None;
    }
    index.best_match(text, threshold).map(|m| {
        let detail = format!(
            "holds {:.0}% of the {} n-grams of {}",
            m.share * 100.0,
            m.field.name(),
            m.instance_id
        );
        (m.instance_id, detail)
    })
}

/// A unit's report lines, for repository `repo` (empty for external samples).
fn report_batch(
    report: BTreeMap<ReportKey, Tally>,
    repo: &str,
) -> Result<arrow::record_batch::RecordBatch> {
    let rows: Vec<DecontamReportRow> = report
        .into_iter()
        .map(|((stage, reason, matched), tally)| DecontamReportRow {
            stage,
            reason,
            matched,
            repo: repo.to_string(),
            prs: tally.prs.len() as i64,
            samples: tally.samples,
            bytes: tally.bytes,
            tokens: tally.tokens,
            detail: tally.detail,
        })
        .collect();
    Ok(DecontamReportRow::batch(&rows)?)
}

fn write_kept(out: &mut UnitOutput, kept: &[SampleRow]) -> Result<()> {
    out.write(
        names::DECONTAMINATED,
        &SampleRow::table_batch(names::DECONTAMINATED, kept)?,
    )?;
    Ok(())
}
