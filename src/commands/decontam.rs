//! `swe-corpus decontam`: a run's decontamination certificate (`report`), any file checked
//! against the benchmark registry (`check`), a benchmark file's gold lines (`gold-lines`) and
//! a repository's root commits (`fingerprint`).

use corpus_core::schema::names;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use corpus_core::manifest::{DecontamCertificate, Manifest};
use corpus_core::recipe::Recipe;
use corpus_decontam::benchmark_file::read_instances;
use corpus_decontam::check::{Checker, check_file};
use corpus_decontam::patch_lines::GoldSketch;

/// Print the certificate of a run's shards: what was checked, the cutoff, what was removed.
pub fn report(run_arg: &Option<PathBuf>, json: bool) -> Result<()> {
    let opened = super::location::open_existing(run_arg, super::location::Pull::Markers)?;
    let run = &opened.run;
    let run_dir = opened.shown();
    let manifest = Manifest::read(&run.table(names::SHARDS))?.with_context(|| {
        format!("{run_dir} has no shards yet: the certificate is written with them (run through `shard`)")
    })?;
    let Some(certificate) = manifest.decontam else {
        bail!(
            "the shards of {run_dir} carry no decontamination certificate: they were made by an older \
             swe-corpus; rerun the shard stage"
        );
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&certificate)?);
    } else {
        print!("{}", render(&certificate, manifest.parts.len()));
    }
    Ok(())
}

fn render(c: &DecontamCertificate, shards: usize) -> String {
    let mut out = format!(
        "decontamination certificate {} ({shards} shards carry it)\n",
        c.digest
    );
    out.push_str("families checked:\n");
    for family in c.registry.split(',') {
        out.push_str(&format!("    {family}\n"));
    }
    out.push_str(&format!(
        "cutoff: {}\n",
        c.cutoff
            .as_deref()
            .unwrap_or("none (PRs of every date are kept)")
    ));
    out.push_str(&format!(
        "latest merge the shards hold: {}\n",
        c.latest_merged_at.as_deref().unwrap_or("unknown")
    ));
    out.push_str(&format!(
        "{:<26} {:<24} {:>10}\n",
        "family", "reason", "samples"
    ));
    for (family, reasons) in &c.dropped {
        for (reason, n) in reasons {
            out.push_str(&format!("{family:<26} {reason:<24} {n:>10}\n"));
        }
    }
    for (family, n) in &c.repos_skipped {
        out.push_str(&format!(
            "{family:<26} {:<24} {n:>10} repositories\n",
            "skipped before extract"
        ));
    }
    out
}

/// Check a file against the registry (and the recipe's benchmark files); every match is
/// printed, and any match makes the command fail.
pub fn check(file: &Path, recipe: Option<&PathBuf>) -> Result<()> {
    let recipe = match recipe {
        Some(path) => Recipe::load(path)?,
        None => Recipe::demo()?,
    };
    let mut instances = Vec::new();
    for path in &recipe.decontam.benchmark_files {
        instances.extend(read_instances(&recipe.resolve(path))?);
    }
    let checker = Checker::new(&recipe.decontam, &instances);
    let mut matches = 0u64;
    let rows = check_file(file, &checker, |f| {
        matches += 1;
        println!(
            "{}:{}\t{}\t{}\t{}\t{}",
            file.display(),
            f.row,
            f.reason,
            f.family,
            f.matched,
            f.detail
        );
    })?;
    if matches > 0 {
        bail!(
            "{}: {matches} of {rows} rows match the benchmark registry ({})",
            file.display(),
            corpus_core::benchmark::registry_version(&recipe.decontam.families())
        );
    }
    println!(
        "{}: {rows} rows, none matches the benchmark registry ({})",
        file.display(),
        corpus_core::benchmark::registry_version(&recipe.decontam.families())
    );
    Ok(())
}

/// Print a benchmark file's gold patches as the registry's `[[gold]]` entries.
pub fn gold_lines(file: &Path) -> Result<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut skipped = 0;
    for instance in read_instances(file)? {
        match GoldSketch::of(&instance.patch) {
            Some(sketch) => writeln!(
                out,
                "[[gold]]\ninstance = \"{}\"\nlines = \"{}\"",
                instance.instance_id,
                sketch.to_field()
            )?,
            None => skipped += 1,
        }
    }
    out.flush()?;
    if skipped > 0 {
        eprintln!("{skipped} instances have no countable changed line in code files");
    }
    Ok(())
}

pub fn fingerprint(path: &Path, name: Option<String>, branch: Option<String>) -> Result<()> {
    let spec = corpus_git::open::RepoSpec {
        path: path.to_path_buf(),
        name,
        branch,
    };
    let name = corpus_git::open::resolve_name(&spec)?;
    let (_, roots) = corpus_git::extract::fingerprint(&spec, &name)?;
    for root in roots {
        println!("{name}\t{root}");
    }
    Ok(())
}
