//! Reading a finished run for the projection: its report, its tables' sizes and rows, its
//! mirrors' sizes.

use crate::report::StageOutcome;
use corpus_core::identity::PatchKind;
use corpus_core::identity::Split;
use corpus_core::schema::names;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arrow::array::{Int64Array, StringArray};
use corpus_core::rows::PullRow;
use corpus_core::table::{column, for_each_table_batch, for_each_table_batch_columns};

use super::{Measured, RequestRate, StageCost};
use crate::report::RunReport;
use corpus_stage::disk::folder_bytes;
use corpus_stage::error::{Result, StageError};
use corpus_stage::run_dir::RunDir;
use corpus_stage::stage::{StageContext, read_repos};

/// Requests per PR the crawl bench measured (a mock org, one PR in ten closing an issue),
/// for a run that read local histories and so made no requests of its own.
const BENCH_REQUESTS_PER_PR: f64 = 0.215;

/// What the run at `ctx` measured: its last report (every stage should have run in it).
pub fn measure(ctx: &StageContext) -> Result<Measured> {
    let run = ctx.run;
    let report_path = run.report();
    let text = std::fs::read_to_string(&report_path).map_err(|e| {
        StageError::Usage(format!(
            "{}: no run report to project from ({e}); run the pipeline first",
            report_path.display()
        ))
    })?;
    let report: RunReport = serde_json::from_str(&text)
        .map_err(|e| StageError::Usage(format!("{}: {e}", report_path.display())))?;
    let mut measured = Measured {
        stages: report
            .stages
            .iter()
            .filter(|s| s.status == StageOutcome::Ran)
            .map(|s| StageCost {
                stage: s.stage.clone(),
                cpu_seconds: s.cpu_seconds,
                wall_seconds: s.wall_seconds,
                peak_rss_mib: s.peak_rss_mib,
            })
            .collect(),
        unmeasured_stages: report
            .stages
            .iter()
            .filter(|s| s.status != StageOutcome::Ran)
            .map(|s| s.stage.clone())
            .collect(),
        shard_tokens: report.tokens.as_ref().map(|t| t.total).unwrap_or(0),
        ..Default::default()
    };
    let repos = read_repos(ctx)?;
    let mut mirror_bytes = 0;
    for row in repos.values().filter(|r| r.skipped_reason.is_none()) {
        measured.repos += 1;
        if let Some(path) = &row.path {
            mirror_bytes += folder_bytes(Path::new(path));
        }
    }
    // Under a mirror budget the mirrors are gone: the report has their sizes at fetch.
    let fetched = report
        .mirrors
        .as_ref()
        .map(|m| m.fetched_bytes)
        .unwrap_or(0);
    measured.mirror_bytes = mirror_bytes.max(fetched);
    // Tokens per source, and the repositories that gave any (a benchmark's own repository
    // is removed whole by decontamination: its PRs give no tokens and are not counted).
    let wanted = ["repo", "source", "split", "n_tokens"];
    let tokenized = run.table(names::TOKENIZED);
    let mut giving: BTreeSet<String> = BTreeSet::new();
    if tokenized.exists() {
        for_each_table_batch_columns(&tokenized, &wanted, 8192, |batch| {
            let repo = column::<StringArray>(&batch, "repo")?;
            let source = column::<StringArray>(&batch, "source")?;
            let split = column::<StringArray>(&batch, "split")?;
            let n_tokens = column::<Int64Array>(&batch, "n_tokens")?;
            for row in 0..batch.num_rows() {
                if !giving.contains(repo.value(row)) {
                    giving.insert(repo.value(row).to_string());
                }
                if split.value(row) != Split::Validation.code() {
                    *measured
                        .train_tokens
                        .entry(source.value(row).to_string())
                        .or_default() += n_tokens.value(row).max(0) as u64;
                }
            }
            Ok(())
        })?;
    }
    let mut left_out: BTreeSet<String> = BTreeSet::new();
    for_each_table_batch_columns(
        &run.table(names::PATCHES),
        &["repo", "kind"],
        8192,
        |batch| {
            let repo = column::<StringArray>(&batch, "repo")?;
            let kind = column::<StringArray>(&batch, "kind")?;
            for row in 0..batch.num_rows() {
                if kind.value(row) == PatchKind::Commit.code() {
                    continue;
                }
                if giving.contains(repo.value(row)) || !tokenized.exists() {
                    measured.prs += 1;
                } else if !left_out.contains(repo.value(row)) {
                    left_out.insert(repo.value(row).to_string());
                }
            }
            Ok(())
        },
    )?;
    measured.repos = measured.repos.saturating_sub(left_out.len() as u64);
    measured.repos_without_tokens = left_out.into_iter().collect();
    measured.table_bytes = table_bytes(run);
    measured.export_bytes = folder_bytes(&run.root.join("exports"));
    measured.requests = Some(request_rate(run, measured.prs)?);
    Ok(measured)
}

/// Bytes of each table folder.
fn table_bytes(run: &RunDir) -> BTreeMap<String, u64> {
    corpus_core::schema::TABLES
        .iter()
        .map(|table| (table.to_string(), run.table(table)))
        .filter(|(_, dir)| dir.exists())
        .map(|(table, dir)| (table, folder_bytes(&dir)))
        .collect()
}

/// The crawl's requests per PR and per repository: modelled on the run's own `pulls` when it
/// crawled (a list page per 100 PRs, each linked issue and its comments, the repository's
/// metadata and last page), else the crawl bench's measured rate.
fn request_rate(run: &RunDir, prs: u64) -> Result<RequestRate> {
    let pulls = run.table(names::PULLS);
    let mut listed = 0u64;
    let mut linked = 0u64;
    if pulls.exists() {
        for_each_table_batch(&pulls, 1024, |batch| {
            for pull in PullRow::from_batch(&batch)? {
                listed += 1;
                linked += pull.linked_issues.len() as u64;
            }
            Ok(())
        })?;
    }
    if listed == 0 || prs == 0 {
        return Ok(RequestRate {
            per_pr: BENCH_REQUESTS_PER_PR,
            per_repo: 0.0,
            source: "the crawl bench's rate (this run read local histories)".into(),
        });
    }
    Ok(RequestRate {
        per_pr: (listed as f64 / 100.0 + 2.0 * linked as f64) / prs as f64,
        per_repo: 2.0,
        source: format!("modelled on this run's {listed} crawled PRs, {linked} linked issues"),
    })
}
