//! `export` (the shards for a training loader) and `tokens` (samples encoded as `tokenize`
//! does).

use super::location::{Pull, open_existing};
use super::{recipe_or_demo, threads_or_cores};
use crate::cli::{ExportArgs, TokensArgs};
use anyhow::{Context, Result, bail};
use corpus_core::recipe::Recipe;

pub fn export(args: &ExportArgs) -> Result<()> {
    let opened = open_existing(&args.run, Pull::Working)?;
    let run = &opened.run;
    let dir = run.root.clone();
    let format = corpus_export::Format::parse(&args.format).with_context(|| {
        format!(
            "unknown format `{}`; formats are: megatron, megatron-bridge, olmo, datatrove, hf",
            args.format
        )
    })?;
    if args.packed && format != corpus_export::Format::Hf {
        bail!("--packed is for --format hf (megatron-bridge always packs)");
    }
    let recipe = Recipe::load(&run.recipe_file())?;
    let tokenizer = corpus_tokenize::locate(&recipe.tokenize)?;
    let mut options = corpus_export::ExportOptions::of_run(
        &dir,
        format,
        args.packed,
        args.sequence_length
            .unwrap_or(recipe.shard.sequence_length as usize),
        (tokenizer.name, tokenizer.sha256),
    );
    if let Some(out) = &args.out {
        options.out = out.clone();
    }
    options.threads = threads_or_cores(args.threads);
    let manifest = corpus_export::export(&options)?;
    let shown = if args.out.is_none() && opened.remote.is_some() {
        opened.finish()?;
        format!("{}/exports/{}", opened.shown(), format.name())
    } else {
        options.out.display().to_string()
    };
    println!("{}: {} -> {shown}", format.name(), manifest.summary());
    Ok(())
}

pub fn tokens(args: &TokensArgs) -> Result<()> {
    use std::io::{BufRead, Write};
    let recipe = recipe_or_demo(args.recipe.as_ref())?.absolutized()?;
    let mut options = recipe.tokenize.clone();
    if let Some(tokenizer) = &args.tokenizer {
        options.tokenizer = tokenizer.clone();
    }
    let encoder = corpus_tokenize::Encoder::for_recipe(&options)?;
    let file = std::fs::File::open(&args.input)
        .with_context(|| format!("open {}", args.input.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("read {}", args.input.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        #[derive(serde::Deserialize)]
        struct Doc {
            #[serde(default)]
            prompt: String,
            #[serde(default)]
            response: String,
        }
        let doc: Doc = serde_json::from_str(&line).with_context(|| {
            format!("{} line {}: not a JSON object", args.input.display(), n + 1)
        })?;
        let (ids, prompt_tokens) = encoder.encode_sample(&doc.prompt, &doc.response)?;
        writeln!(
            out,
            "{}",
            serde_json::json!({"input_ids": ids, "prompt_tokens": prompt_tokens})
        )?;
    }
    Ok(())
}
