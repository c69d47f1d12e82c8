//! `tokenizer-bench TOKENIZER_JSON FILE...`: encode the same documents (the files, cut into
//! ~16 KiB pieces at line ends) with every encoder that builds here, check each against ours
//! (HF `tokenizers` 1.0.0-rc.3, which the parity suite holds equal to Python `tokenizers`),
//! and print MB/s per core and the ratio to ours. `PYTHON_IDS=FILE` adds Python's timing,
//! measured by scripts/bench-tokenizers.py on the same documents.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

const PIECE: usize = 16 * 1024;

fn documents(files: &[PathBuf]) -> Vec<String> {
    let mut docs = Vec::new();
    for file in files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let mut start = 0;
        while start < text.len() {
            let mut end = (start + PIECE).min(text.len());
            while end < text.len() && !text.is_char_boundary(end) {
                end += 1;
            }
            if let Some(nl) = text[start..end].rfind('\n').filter(|_| end < text.len()) {
                end = start + nl + 1;
            }
            docs.push(text[start..end].to_string());
            start = end;
        }
    }
    docs
}

struct Timing {
    name: String,
    seconds: f64,
    differing: usize,
}

fn time<F: Fn(&str) -> Vec<u32> + Sync>(
    name: &str,
    docs: &[String],
    reference: &[Vec<u32>],
    threads: usize,
    encode: F,
) -> Timing {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let started = Instant::now();
    let ids: Vec<Vec<u32>> = pool.install(|| docs.par_iter().map(|d| encode(d)).collect());
    let seconds = started.elapsed().as_secs_f64();
    let differing = ids.iter().zip(reference).filter(|(a, b)| a != b).count();
    Timing {
        name: name.to_string(),
        seconds,
        differing,
    }
}

/// Qwen's vocabulary as tiktoken ranks: the byte-level strings decoded back to bytes.
fn tiktoken_for(path: &std::path::Path) -> Option<tiktoken_rs::CoreBPE> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let mut unicode_to_byte: HashMap<char, u8> = HashMap::new();
    let mut n = 0u32;
    for b in 0..=255u8 {
        let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
        let c = if printable {
            char::from(b)
        } else {
            let c = char::from_u32(256 + n)?;
            n += 1;
            c
        };
        unicode_to_byte.insert(c, b);
    }
    let mut encoder = HashMap::new();
    for (token, id) in json["model"]["vocab"].as_object()? {
        let bytes: Option<Vec<u8>> = token
            .chars()
            .map(|c| unicode_to_byte.get(&c).copied())
            .collect();
        encoder.insert(bytes?, id.as_u64()? as u32);
    }
    let mut special = HashMap::new();
    for added in json["added_tokens"].as_array()? {
        special.insert(
            added["content"].as_str()?.to_string(),
            added["id"].as_u64()? as u32,
        );
    }
    let pattern = json["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"].as_str()?;
    let encoder: rustc_hash::FxHashMap<Vec<u8>, u32> = encoder.into_iter().collect();
    let special: rustc_hash::FxHashMap<String, u32> = special.into_iter().collect();
    tiktoken_rs::CoreBPE::new(encoder, special, pattern).ok()
}

fn main() {
    let mut args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    // `--ids FILE`: only write our ids (one JSON list per document) for the Python side.
    let ids_out = (args.first().map(|a| a.as_os_str() == "--ids") == Some(true) && args.len() > 1)
        .then(|| {
            let file = args[1].clone();
            args.drain(..2);
            file
        });
    let Some((tokenizer, files)) = args.split_first() else {
        eprintln!("usage: tokenizer-bench TOKENIZER_JSON FILE...");
        std::process::exit(2);
    };
    let docs = documents(files);
    let bytes: usize = docs.iter().map(String::len).sum();
    let mb = bytes as f64 / 1e6;
    let file = corpus_tokenize::TokenizerFile {
        name: "bench".into(),
        path: tokenizer.clone(),
        sha256: String::new(),
    };
    let ours = corpus_tokenize::Encoder::load(file).expect("load tokenizers 1.0.0-rc.3");
    let reference: Vec<Vec<u32>> = docs
        .iter()
        .map(|d| ours.encode(d).expect("encode"))
        .collect();
    if let Some(path) = ids_out {
        let lines: Vec<String> = reference
            .iter()
            .map(|ids| serde_json::to_string(ids).unwrap_or_default())
            .collect();
        if let Err(e) = std::fs::write(&path, lines.join("\n") + "\n") {
            eprintln!("write {}: {e}", path.display());
            std::process::exit(1);
        }
        return;
    }
    let tokens: usize = reference.iter().map(Vec::len).sum();
    println!(
        "tokenizers: {} documents, {:.1} MB, {} tokens ({:.2} bytes/token)",
        docs.len(),
        mb,
        tokens,
        bytes as f64 / tokens.max(1) as f64
    );
    let mut timings = vec![
        time("tokenizers 1.0.0-rc.3 (ours)", &docs, &reference, 1, |d| {
            ours.encode(d).unwrap_or_default()
        }),
        time(
            "tokenizers 1.0.0-rc.3 (ours), 2 cores",
            &docs,
            &reference,
            2,
            |d| ours.encode(d).unwrap_or_default(),
        ),
    ];
    match tokenizers023::Tokenizer::from_file(tokenizer) {
        Ok(hf) => timings.push(time(
            "HF tokenizers 0.23 (Rust)",
            &docs,
            &reference,
            1,
            |d| {
                hf.encode(d, false)
                    .map(|e| e.get_ids().to_vec())
                    .unwrap_or_default()
            },
        )),
        Err(e) => println!("HF tokenizers 0.23: does not load here: {e}"),
    }
    match tiktoken_for(tokenizer) {
        Some(bpe) => timings.push(time(
            "tiktoken-rs 0.12 with Qwen's ranks",
            &docs,
            &reference,
            1,
            |d| bpe.encode_with_special_tokens(d),
        )),
        None => println!("tiktoken-rs: could not build Qwen's ranks"),
    }
    if let Some(python) = std::env::var_os("PYTHON_SECONDS") {
        for entry in python
            .to_string_lossy()
            .split(';')
            .filter(|e| !e.is_empty())
        {
            if let Some((name, rest)) = entry.split_once('=')
                && let Some((secs, diff)) = rest.split_once(',')
                && let (Ok(seconds), Ok(differing)) = (secs.parse(), diff.parse())
            {
                timings.push(Timing {
                    name: name.to_string(),
                    seconds,
                    differing,
                });
            }
        }
    }
    let ours_rate = mb / timings[0].seconds;
    for t in &timings {
        let cores = if t.name.contains("2 cores") { 2.0 } else { 1.0 };
        let rate = mb / t.seconds;
        println!(
            "tokenizers: {:<40} {:8.1} MB/s ({:6.1} MB/s per core)  ours/this {:6.2}  exact: {}",
            t.name,
            rate,
            rate / cores,
            ours_rate / rate,
            if t.differing == 0 {
                "yes".to_string()
            } else {
                format!("NO, {} of {} documents differ", t.differing, docs.len())
            }
        );
    }
}
