//! Exporting a run's shards, and checking an export against them.

use std::path::{Path, PathBuf};

use corpus_core::hash::{file_hex64, hex64};
use rayon::prelude::*;

use crate::card;
use crate::document::{for_each_document, shard_files};
use crate::error::{ExportError, Result, io};
use crate::formats::{self, Format, WriteContext, Written};
use crate::manifest::{
    ExportFile, ExportManifest, IN_PROGRESS, InProgress, MANIFEST, read_json, write_json,
};

#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: Format,
    /// `RUN/tables/shards`.
    pub shards_dir: PathBuf,
    /// Where the export goes (`RUN/exports/FORMAT` by default).
    pub out: PathBuf,
    pub sequence_length: usize,
    pub hf_packed: bool,
    /// `name:sha256` of the tokenizer the recipe names: the shards must have been made with it.
    pub expected_tokenizer: Option<(String, String)>,
    pub threads: usize,
}

impl ExportOptions {
    /// An export of the run at `run_root` as the `export` stage makes it: its shards, into
    /// `RUN/exports/FOLDER` ([`Self::folder`]), one thread. The command line starts here
    /// and changes what its flags give.
    pub fn of_run(
        run_root: &std::path::Path,
        format: Format,
        hf_packed: bool,
        sequence_length: usize,
        tokenizer: (String, String),
    ) -> Self {
        Self {
            format,
            shards_dir: corpus_stage::run_dir::RunDir::new(run_root)
                .table(corpus_core::schema::names::SHARDS),
            out: run_root
                .join("exports")
                .join(Self::folder(format, hf_packed)),
            sequence_length,
            hf_packed,
            expected_tokenizer: Some(tokenizer),
            threads: 1,
        }
    }

    /// The folder of an export under `RUN/exports/`: the format's name, `hf-packed` when packed.
    pub fn folder(format: Format, hf_packed: bool) -> String {
        if hf_packed {
            format!("{}-packed", format.name())
        } else {
            format.name().to_string()
        }
    }
}

/// Shard stem (`shard-00003`) and (split, index within split, count of split).
fn shard_plan(files: &[PathBuf]) -> Vec<(PathBuf, String, String, usize, usize)> {
    let stem = |p: &PathBuf| {
        p.file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".parquet").to_string())
            .unwrap_or_default()
    };
    let split_of = |s: &str| {
        if s.starts_with("validation") {
            "validation"
        } else {
            "train"
        }
    };
    let count = |split: &str| files.iter().filter(|f| split_of(&stem(f)) == split).count();
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    files
        .iter()
        .map(|f| {
            let s = stem(f);
            let split = split_of(&s);
            let index = seen.entry(split).or_default();
            let out = (
                f.clone(),
                s.clone(),
                split.to_string(),
                *index,
                count(split),
            );
            *index += 1;
            out
        })
        .collect()
}

fn done_marker(out: &Path, stem: &str) -> PathBuf {
    out.join("_done").join(format!("{stem}.json"))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Done {
    files: Vec<String>,
    documents: u64,
    tokens: u64,
    too_long: u64,
}

/// What [`begin`] checked and every step after it needs.
#[derive(Debug, Clone)]
pub struct Begun {
    tokens: corpus_core::manifest::TokenSummary,
    decontam: Option<corpus_core::manifest::DecontamCertificate>,
    digest: String,
    plan: Vec<(PathBuf, String, String, usize, usize)>,
}

impl Begun {
    /// Shard stems (`shard-00000`, `validation-00000`), in shard order.
    pub fn stems(&self) -> Vec<String> {
        self.plan.iter().map(|p| p.1.clone()).collect()
    }
}

fn shards_digest(shards: &corpus_core::manifest::Manifest) -> String {
    hex64(
        shards
            .parts
            .iter()
            .map(|p| p.xxh3.as_str())
            .collect::<Vec<_>>()
            .join(",")
            .as_bytes(),
    )
}

/// Whether `options.out` already holds the complete export of these shards in this format
/// (its manifest names them and no export is in progress there).
pub fn is_complete(options: &ExportOptions) -> Result<bool> {
    let (shards, _) = shard_files(&options.shards_dir)?;
    let out = &options.out;
    Ok(!out.join(IN_PROGRESS).exists()
        && read_json::<ExportManifest>(&out.join(MANIFEST))?.is_some_and(|m| {
            m.shards_digest == shards_digest(&shards)
                && m.format == options.format.name()
                && m.hf_packed == options.hf_packed
                && m.sequence_length == options.sequence_length as u64
        }))
}

/// Check the shards and the output folder and mark the folder as this run's export in
/// progress. Safe to call from several tasks at once (they write the same marker).
pub fn begin(options: &ExportOptions) -> Result<Begun> {
    let (shards, files) = shard_files(&options.shards_dir)?;
    let tokens = shards.tokens.clone().ok_or_else(|| {
        ExportError::Usage(
            "the shards' manifest has no token summary: rerun the shard stage".into(),
        )
    })?;
    if let Some((name, sha)) = &options.expected_tokenizer
        && (*name != tokens.tokenizer || *sha != tokens.tokenizer_sha256)
    {
        return Err(ExportError::Usage(format!(
            "the shards were written with tokenizer {} (sha256 {}), but the recipe names {name} \
             (sha256 {sha}): the ids would not be what a loader expects",
            tokens.tokenizer, tokens.tokenizer_sha256
        )));
    }
    let digest = shards_digest(&shards);
    let out = &options.out;
    let in_progress = InProgress {
        format: options.format.name().to_string(),
        shards_digest: digest.clone(),
    };
    let previous_manifest: Option<ExportManifest> = read_json(&out.join(MANIFEST))?;
    let previous_marker: Option<InProgress> = read_json(&out.join(IN_PROGRESS))?;
    let previous = previous_manifest
        .map(|m| (m.format, m.shards_digest))
        .or(previous_marker.map(|m| (m.format, m.shards_digest)));
    // Temporary files of another task starting the same export are not "other content".
    let has_content = |dir: &Path| {
        dir.read_dir().is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| !e.file_name().to_string_lossy().starts_with('.'))
        })
    };
    match previous {
        Some(p) if p != (in_progress.format.clone(), digest.clone()) => {
            return Err(ExportError::Usage(format!(
                "{} holds a {} export of other shards (digest {}); this run's shards have digest {digest}: \
                 choose another --out or remove that folder",
                out.display(),
                p.0,
                p.1
            )));
        }
        None if has_content(out) => {
            return Err(ExportError::Usage(format!(
                "{} is not empty and holds no swe-corpus export: choose another --out",
                out.display()
            )));
        }
        _ => {}
    }
    std::fs::create_dir_all(out).map_err(io(out))?;
    write_json(&out.join(IN_PROGRESS), &in_progress)?;
    let _ = std::fs::remove_file(out.join(MANIFEST));
    Ok(Begun {
        tokens,
        decontam: shards.decontam.clone(),
        digest,
        plan: shard_plan(&files),
    })
}

/// Export one shard (by stem) unless its files are already done.
pub fn export_shard(options: &ExportOptions, begun: &Begun, stem: &str) -> Result<()> {
    let Some((path, _, split, index, count)) = begun.plan.iter().find(|p| p.1 == stem) else {
        return Err(ExportError::Usage(format!(
            "{stem} is not a shard of {}",
            options.shards_dir.display()
        )));
    };
    let out = &options.out;
    let marker = done_marker(out, stem);
    if let Some(done) = read_json::<Done>(&marker)?
        && done.files.iter().all(|f| out.join(f).is_file())
    {
        return Ok(());
    }
    let ctx = WriteContext {
        sequence_length: options.sequence_length,
        tokenizer: begun.tokens.tokenizer.clone(),
        hf_packed: options.hf_packed,
        split: split.clone(),
        index: *index,
        count: *count,
    };
    let Written {
        files,
        documents,
        tokens,
        too_long,
    } = formats::write(options.format, path, out, stem, &ctx)?;
    write_json(
        &marker,
        &Done {
            files,
            documents,
            tokens,
            too_long,
        },
    )
}

/// Remove the temporary files (`.NAME[.PID.N].tmp`) that a killed writer left in the export
/// folder or its subfolders. Only once every shard is done: no writer is left to own them.
fn remove_stale_temporaries(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            remove_stale_temporaries(&path)?;
        } else if name.starts_with('.') && name.ends_with(".tmp") {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Once every shard is done: the card and `_manifest.json` (with every file's checksum). A
/// folder whose manifest already says it is this export is left as it is.
pub fn finish(options: &ExportOptions, begun: &Begun) -> Result<ExportManifest> {
    let out = &options.out;
    if let Some(manifest) = read_json::<ExportManifest>(&out.join(MANIFEST))?
        && manifest.shards_digest == begun.digest
        && manifest.format == options.format.name()
        && !out.join(IN_PROGRESS).exists()
    {
        return Ok(manifest);
    }
    let tokens = &begun.tokens;
    let mut manifest = ExportManifest {
        format: options.format.name().to_string(),
        hf_packed: options.hf_packed,
        sequence_length: options.sequence_length as u64,
        tokenizer: tokens.tokenizer.clone(),
        tokenizer_sha256: tokens.tokenizer_sha256.clone(),
        recipe_hash: tokens.recipe_hash.clone(),
        shards_digest: begun.digest.clone(),
        tool_version: corpus_core::version::VERSION.to_string(),
        tool_commit: corpus_core::version::GIT_COMMIT.to_string(),
        documents: 0,
        tokens: 0,
        too_long: 0,
        decontam: begun.decontam.clone(),
        files: Vec::new(),
    };
    let mut splits: std::collections::BTreeMap<String, u64> = Default::default();
    for stem in begun.stems() {
        let marker = done_marker(out, &stem);
        let done: Done = read_json(&marker)?.ok_or_else(|| {
            ExportError::Usage(format!(
                "{stem} is not exported yet ({} is missing)",
                marker.display()
            ))
        })?;
        manifest.documents += done.documents;
        manifest.tokens += done.tokens;
        manifest.too_long += done.too_long;
        let split = if stem.starts_with("validation") {
            "validation"
        } else {
            "train"
        };
        *splits.entry(split.to_string()).or_default() += done.documents;
        for file in &done.files {
            let path = out.join(file);
            manifest.files.push(ExportFile {
                file: file.clone(),
                shard: stem.clone(),
                bytes: std::fs::metadata(&path).map_err(io(&path))?.len(),
                xxh3: file_hex64(&path).map_err(io(&path))?,
                documents: done.documents,
                tokens: done.tokens,
            });
        }
    }
    remove_stale_temporaries(out)?;
    let splits: Vec<(String, u64)> = splits.into_iter().rev().collect();
    let card_text = card::render(options.format, &manifest, &splits);
    corpus_core::manifest::write_atomically(&out.join("README.md"), card_text.as_bytes())?;
    write_json(&out.join(MANIFEST), &manifest)?;
    let _ = std::fs::remove_dir_all(out.join("_done"));
    let _ = std::fs::remove_file(out.join(IN_PROGRESS));
    Ok(manifest)
}

/// Export every shard (resuming: a shard whose files are done is not redone; shards in
/// parallel on `threads`), then write the card and the manifest.
pub fn export(options: &ExportOptions) -> Result<ExportManifest> {
    let begun = begin(options)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.max(1))
        .build()
        .map_err(|e| ExportError::Usage(format!("thread pool: {e}")))?;
    let stems = begun.stems();
    let results: Vec<Result<()>> = pool.install(|| {
        stems
            .par_iter()
            .map(|stem| export_shard(options, &begun, stem))
            .collect()
    });
    for result in results {
        result?;
    }
    finish(options, &begun)
}

#[derive(Debug, Default)]
pub struct CheckReport {
    pub files: u64,
    pub documents: u64,
    pub tokens: u64,
    pub problems: Vec<String>,
}

/// Read an export back with our reader and compare every document (ids, boundaries, mask in
/// the format's alignment) with the shards; checksums of every file first.
pub fn check(export_dir: &Path, shards_dir: &Path) -> Result<CheckReport> {
    let manifest: ExportManifest = read_json(&export_dir.join(MANIFEST))?.ok_or_else(|| {
        ExportError::Usage(format!(
            "{} has no {MANIFEST}: not a complete export",
            export_dir.display()
        ))
    })?;
    let format = Format::parse(&manifest.format)
        .ok_or_else(|| ExportError::Usage(format!("unknown format {}", manifest.format)))?;
    let mut report = CheckReport::default();
    for file in &manifest.files {
        report.files += 1;
        let path = export_dir.join(&file.file);
        match file_hex64(&path) {
            Ok(sum) if sum == file.xxh3 => {}
            Ok(sum) => report.problems.push(format!(
                "{}: checksum {sum}, manifest says {}",
                file.file, file.xxh3
            )),
            Err(e) => report.problems.push(format!("{}: {e}", file.file)),
        }
    }
    if !report.problems.is_empty() {
        return Ok(report);
    }
    let (_, shard_paths) = shard_files(shards_dir)?;
    for shard in shard_paths {
        let stem = shard
            .file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".parquet").to_string())
            .unwrap_or_default();
        let files: Vec<String> = manifest
            .files
            .iter()
            .filter(|f| f.shard == stem)
            .map(|f| f.file.clone())
            .collect();
        let got = formats::read(format, export_dir, &files)?;
        let mut expected = Vec::new();
        for_each_document(&shard, |doc| {
            if !(format.packs(manifest.hf_packed)
                && doc.ids.len() as u64 > manifest.sequence_length)
            {
                expected.push(doc);
            }
            Ok(())
        })?;
        if got.len() != expected.len() {
            report.problems.push(format!(
                "{stem}: {} documents read back, the shard has {}",
                got.len(),
                expected.len()
            ));
            continue;
        }
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            if g.ids != e.ids {
                report
                    .problems
                    .push(format!("{stem}: document {i}: token ids differ"));
            } else if g.mask != formats::native_mask(format, e, manifest.hf_packed) {
                report
                    .problems
                    .push(format!("{stem}: document {i}: loss mask differs"));
            }
            report.documents += 1;
            report.tokens += e.ids.len() as u64;
        }
    }
    Ok(report)
}
