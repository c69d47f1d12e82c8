//! `swe-corpus verify`: re-check every part of every table against its manifest (presence,
//! size, xxh3 checksum, row count; token counts where the manifest has them), and every
//! export read back against the shards.

use corpus_core::schema::names;
use std::fs::File;

use corpus_core::hash::file_hex64;
use corpus_core::manifest::Manifest;
use parquet::file::reader::{FileReader, SerializedFileReader};

use corpus_stage::error::Result;
use corpus_stage::run_dir::RunDir;

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub tables: u64,
    pub parts: u64,
    pub rows: u64,
    /// Exports read back, and their documents.
    pub exports: u64,
    pub export_documents: u64,
    pub problems: Vec<String>,
}

pub fn verify(run: &RunDir) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let Some(dirs) = subdirectories(&run.tables()) else {
        report
            .problems
            .push(format!("{} has no tables/ folder", run.root.display()));
        return Ok(report);
    };
    for (table, dir) in dirs {
        let Some(manifest) = Manifest::read(&dir)? else {
            report
                .problems
                .push(format!("{table}: no manifest (stage incomplete)"));
            continue;
        };
        report.tables += 1;
        let mut rows = 0;
        let mut tokens = 0;
        for part in &manifest.parts {
            report.parts += 1;
            let path = dir.join(&part.file);
            let Ok(meta) = std::fs::metadata(&path) else {
                report
                    .problems
                    .push(format!("{table}/{}: missing", part.file));
                continue;
            };
            if meta.len() != part.bytes {
                report.problems.push(format!(
                    "{table}/{}: {} bytes, manifest says {}",
                    part.file,
                    meta.len(),
                    part.bytes
                ));
                continue;
            }
            match file_hex64(&path) {
                Ok(sum) if sum == part.xxh3 => {}
                Ok(sum) => {
                    report.problems.push(format!(
                        "{table}/{}: checksum {sum}, manifest says {}",
                        part.file, part.xxh3
                    ));
                    continue;
                }
                Err(e) => {
                    report.problems.push(format!("{table}/{}: {e}", part.file));
                    continue;
                }
            }
            let counted = File::open(&path)
                .ok()
                .and_then(|f| SerializedFileReader::new(f).ok())
                .map(|r| r.metadata().file_metadata().num_rows() as u64);
            if let Some(expected) = part.tokens {
                match corpus_shard::part_tokens(&path) {
                    Ok(t) if t.total == expected => tokens += t.total,
                    Ok(t) => report.problems.push(format!(
                        "{table}/{}: {} tokens, manifest says {expected}",
                        part.file, t.total
                    )),
                    Err(e) => report.problems.push(format!("{table}/{}: {e}", part.file)),
                }
            }
            match counted {
                Some(n) if n == part.rows => rows += n,
                Some(n) => report.problems.push(format!(
                    "{table}/{}: {n} rows, manifest says {}",
                    part.file, part.rows
                )),
                None => report.problems.push(format!(
                    "{table}/{}: not a readable Parquet file",
                    part.file
                )),
            }
        }
        if rows != manifest.rows && report.problems.is_empty() {
            report.problems.push(format!(
                "{table}: parts hold {rows} rows, manifest says {}",
                manifest.rows
            ));
        }
        if let Some(summary) = &manifest.tokens {
            let per_source: u64 = summary.per_source.values().flat_map(|s| s.values()).sum();
            if tokens != summary.total || per_source != summary.total {
                report.problems.push(format!(
                    "{table}: parts hold {tokens} tokens, manifest says {} ({per_source} by source)",
                    summary.total
                ));
            }
        }
        report.rows += rows;
        if table == names::SHARDS {
            verify_certificate(run, &manifest, &mut report);
        }
    }
    verify_exports(run, &mut report)?;
    Ok(report)
}

/// Every shard carries the decontamination certificate, and it is the one the run's recipe
/// asks for: its families, registry version and cutoff, with nothing merged on or after it.
fn verify_certificate(run: &RunDir, manifest: &Manifest, report: &mut VerifyReport) {
    let Some(certificate) = &manifest.decontam else {
        report
            .problems
            .push("shards: the manifest has no decontamination certificate".to_string());
        return;
    };
    for part in &manifest.parts {
        if part.certificate.as_deref() != Some(certificate.digest.as_str()) {
            report.problems.push(format!(
                "shards/{}: carries certificate {}, the manifest's is {}",
                part.file,
                part.certificate.as_deref().unwrap_or("none"),
                certificate.digest
            ));
        }
    }
    match corpus_core::recipe::Recipe::load(&run.recipe_file()) {
        Ok(recipe) => {
            for problem in corpus_core::certificate::problems(&recipe.decontam, certificate) {
                report.problems.push(format!("shards: {problem}"));
            }
        }
        Err(e) => report.problems.push(format!(
            "shards: the run's recipe cannot be read to check the certificate: {e}"
        )),
    }
}

/// The folders directly under `dir` (name, path), sorted; None when `dir` cannot be read.
fn subdirectories(dir: &std::path::Path) -> Option<Vec<(String, std::path::PathBuf)>> {
    let mut dirs: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, p)
        })
        .collect();
    dirs.sort();
    Some(dirs)
}

/// Every export of the run: checksums, then every document read back and compared with the
/// shards (ids, boundaries, loss mask).
fn verify_exports(run: &RunDir, report: &mut VerifyReport) -> Result<()> {
    let Some(dirs) = subdirectories(&run.root.join("exports")) else {
        return Ok(());
    };
    for (name, dir) in dirs {
        if !dir.join("_manifest.json").is_file() {
            report.problems.push(format!(
                "exports/{name}: no _manifest.json (export incomplete)"
            ));
            continue;
        }
        match corpus_export::check(&dir, &run.table(names::SHARDS)) {
            Ok(check) => {
                report.exports += 1;
                report.export_documents += check.documents;
                report.problems.extend(
                    check
                        .problems
                        .into_iter()
                        .map(|p| format!("exports/{name}: {p}")),
                );
            }
            Err(e) => report.problems.push(format!("exports/{name}: {e}")),
        }
    }
    Ok(())
}
