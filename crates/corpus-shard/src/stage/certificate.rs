//! The decontamination certificate of the shards (`_manifest.json`'s `decontam`, and each
//! part's `certificate` digest): what the recipe checked, what `decontam_report` says was
//! removed per family and reason, and the latest merge among the PRs the shards hold.

use corpus_core::schema::names;
use std::collections::HashSet;

use arrow::array::{Array, Int64Array, StringArray, TimestampSecondArray};
use corpus_core::certificate::{ReportLine, certificate};
use corpus_core::manifest::{DecontamCertificate, Manifest};
use corpus_core::table::{column, for_each_batch_columns, for_each_table_batch_columns};

use corpus_stage::error::Result;
use corpus_stage::stage::StageContext;

/// The certificate of the shards `manifest` lists, stamped on every part.
pub fn stamp(ctx: &StageContext, manifest: &mut Manifest) -> Result<()> {
    let lines = report_lines(ctx)?;
    let latest = latest_merge(ctx, manifest)?;
    let certificate: DecontamCertificate = certificate(&ctx.recipe.decontam, &lines, latest);
    for part in &mut manifest.parts {
        part.certificate = Some(certificate.digest.clone());
    }
    manifest.decontam = Some(certificate);
    Ok(())
}

fn report_lines(ctx: &StageContext) -> Result<Vec<ReportLine>> {
    let table = ctx.table(names::DECONTAM_REPORT)?;
    let mut lines = Vec::new();
    if Manifest::read(&table)?.is_none() {
        return Ok(lines);
    }
    let columns = ["stage", "reason", "matched", "samples"];
    for_each_table_batch_columns(&table, &columns, 8192, |batch| {
        let stage = column::<StringArray>(&batch, "stage")?;
        let reason = column::<StringArray>(&batch, "reason")?;
        let matched = column::<StringArray>(&batch, "matched")?;
        let samples = column::<Int64Array>(&batch, "samples")?;
        for row in 0..batch.num_rows() {
            lines.push(ReportLine {
                stage: stage.value(row).to_string(),
                reason: reason.value(row).to_string(),
                matched: matched.value(row).to_string(),
                samples: samples.value(row).max(0) as u64,
            });
        }
        Ok(())
    })?;
    Ok(lines)
}

/// A (repository, PR) pair, or for a commit without a PR a (repository, base commit) pair,
/// as one number.
fn pair_key(repo: &str, pr: Option<i64>, base_sha: &str) -> u64 {
    let mut bytes = Vec::with_capacity(repo.len() + base_sha.len() + 9);
    bytes.extend_from_slice(repo.as_bytes());
    bytes.push(0);
    match pr {
        Some(n) => bytes.extend_from_slice(&n.to_le_bytes()),
        None => bytes.extend_from_slice(base_sha.as_bytes()),
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

/// The latest merge (seconds) of the PRs the shards hold, read from `patches` and
/// `commit_packs`. Shards carry no base commit, so a commit sample without a PR is dated
/// through its `decontaminated` row.
fn latest_merge(ctx: &StageContext, manifest: &Manifest) -> Result<Option<i64>> {
    let dir = ctx.table(names::SHARDS)?;
    let mut held: HashSet<u64> = HashSet::new();
    let mut commits: HashSet<String> = HashSet::new();
    for part in &manifest.parts {
        let columns = ["sample_id", "repo", "pr_number"];
        for_each_batch_columns(&dir.join(&part.file), &columns, 8192, |batch| {
            let id = column::<StringArray>(&batch, "sample_id")?;
            let repo = column::<StringArray>(&batch, "repo")?;
            let pr = column::<Int64Array>(&batch, "pr_number")?;
            for row in 0..batch.num_rows() {
                if pr.is_null(row) {
                    commits.insert(id.value(row).to_string());
                } else {
                    held.insert(pair_key(repo.value(row), Some(pr.value(row)), ""));
                }
            }
            Ok(())
        })?;
    }
    let decontaminated = ctx.table(names::DECONTAMINATED)?;
    if !commits.is_empty() && Manifest::read(&decontaminated)?.is_some() {
        let columns = ["sample_id", "repo", "pr_number", "base_sha"];
        for_each_table_batch_columns(&decontaminated, &columns, 8192, |batch| {
            let id = column::<StringArray>(&batch, "sample_id")?;
            let repo = column::<StringArray>(&batch, "repo")?;
            let pr = column::<Int64Array>(&batch, "pr_number")?;
            let base = column::<StringArray>(&batch, "base_sha")?;
            for row in 0..batch.num_rows() {
                if pr.is_null(row) && commits.contains(id.value(row)) {
                    held.insert(pair_key(repo.value(row), None, base.value(row)));
                }
            }
            Ok(())
        })?;
    }
    let mut latest: Option<i64> = None;
    for table in [names::PATCHES, names::COMMIT_PACKS] {
        let table = ctx.table(table)?;
        if Manifest::read(&table)?.is_none() {
            continue;
        }
        let columns = ["repo", "pr_number", "base_sha", "merged_at"];
        for_each_table_batch_columns(&table, &columns, 8192, |batch| {
            let repo = column::<StringArray>(&batch, "repo")?;
            let pr = column::<Int64Array>(&batch, "pr_number")?;
            let base = column::<StringArray>(&batch, "base_sha")?;
            let merged = column::<TimestampSecondArray>(&batch, "merged_at")?;
            for row in 0..batch.num_rows() {
                if merged.is_null(row) {
                    continue;
                }
                let number = (!pr.is_null(row)).then(|| pr.value(row));
                if held.contains(&pair_key(repo.value(row), number, base.value(row))) {
                    let at = merged.value(row);
                    latest = Some(latest.map_or(at, |l| l.max(at)));
                }
            }
            Ok(())
        })?;
    }
    Ok(latest)
}
