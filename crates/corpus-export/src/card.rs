//! The dataset card (`README.md` with a YAML header) every export writes: features, sizes,
//! how the loss mask is aligned, and what the export was made from.

use crate::formats::Format;
use crate::manifest::ExportManifest;

fn features(format: Format, packed: bool) -> (&'static str, &'static str) {
    match (format, packed) {
        (Format::Megatron, _) => (
            "`.bin`: int32 token ids back to back; `.idx`: Megatron's index (one sequence per document)",
            "none: the Megatron indexed format has no loss mask (documents keep their `<|endoftext|>`; \
             prompt tokens are trained on). Use `megatron-bridge`, `olmo`, `datatrove` or `hf` for masked training.",
        ),
        (Format::MegatronBridge, _) => (
            "`input_ids` list<int32>, `seq_start_id` list<int32>, `loss_mask` list<int8>; packed sequences; \
             zstd with Parquet's BYTE_STREAM_SPLIT encoding in v2 data pages (readers: pyarrow >= 16, parquet-rs)",
            "label-aligned: `loss_mask[j]` says whether token j+1 is a target; 0 at the last token of each document",
        ),
        (Format::Olmo, _) => (
            "`.npy`: raw uint32 tokens (no NumPy header); `.csv.gz`: `start,end` per document; `.label_mask.npy`: 1 byte per token",
            "token-aligned: `label_mask[i] = 1` when token i is a target",
        ),
        (Format::Datatrove, _) => (
            "`.ds`: uint32 tokens; `.ds.index`: uint64 cumulative document ends; `.ds.loss`: 1 byte per token; `.ds.metadata`",
            "token-aligned: `.ds.loss[i] = 1` when token i is a target (datatrove's readers ignore this file)",
        ),
        (Format::Hf, false) => (
            "`input_ids` list<int32>, `labels` list<int32>; one document per row; \
             zstd with Parquet's BYTE_STREAM_SPLIT encoding in v2 data pages (readers: pyarrow >= 16, parquet-rs)",
            "token-aligned, not shifted: `labels[i]` is the id, or -100 on prompt tokens (the model shifts)",
        ),
        (Format::Hf, true) => (
            "`input_ids`, `position_ids`, `labels`, `cu_seqlens` list<int32>; packed sequences; \
             zstd with Parquet's BYTE_STREAM_SPLIT encoding in v2 data pages (readers: pyarrow >= 16, parquet-rs)",
            "token-aligned, not shifted: -100 on prompt tokens and on the first token of every document; \
             `position_ids` restart at 0 per document; `cu_seqlens` = [0, ..., length]",
        ),
    }
}

/// The card's decontamination line: what was checked, the cutoff, and what was removed.
fn decontam_line(manifest: &ExportManifest) -> String {
    let Some(c) = &manifest.decontam else {
        return "- Decontamination: no certificate (shards made before swe-corpus wrote one).\n"
            .to_string();
    };
    let cutoff = match &c.cutoff {
        Some(day) => format!("no PR merged on or after {day}"),
        None => "no cutoff date".to_string(),
    };
    let latest = c
        .latest_merged_at
        .as_deref()
        .map(|d| format!("; latest merge kept {d}"))
        .unwrap_or_default();
    let dropped: Vec<String> = c
        .dropped
        .iter()
        .map(|(family, reasons)| {
            let reasons: Vec<String> = reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
            format!("{family}: {}", reasons.join(", "))
        })
        .collect();
    let dropped = if dropped.is_empty() {
        "none".to_string()
    } else {
        dropped.join("; ")
    };
    format!(
        "- Decontamination (certificate {}): benchmark families checked {}; {cutoff}{latest}; \
         samples removed per family and reason: {dropped}. `swe-corpus decontam report` prints it.\n",
        c.digest, c.registry,
    )
}

pub fn render(format: Format, manifest: &ExportManifest, splits: &[(String, u64)]) -> String {
    let (features, mask) = features(format, manifest.hf_packed);
    let mut yaml = String::from("---\ntags:\n- swe-corpus\n- code\n");
    if format == Format::Hf {
        yaml.push_str("configs:\n- config_name: default\n  data_files:\n");
        for (split, _) in splits {
            yaml.push_str(&format!(
                "  - split: {split}\n    path: data/{split}-*.parquet\n"
            ));
        }
        yaml.push_str("dataset_info:\n  features:\n");
        let names: &[&str] = if manifest.hf_packed {
            &["input_ids", "position_ids", "labels", "cu_seqlens"]
        } else {
            &["input_ids", "labels"]
        };
        for name in names {
            yaml.push_str(&format!("  - name: {name}\n    sequence: int32\n"));
        }
        yaml.push_str("  splits:\n");
        for (split, rows) in splits {
            yaml.push_str(&format!("  - name: {split}\n    num_examples: {rows}\n"));
        }
    }
    yaml.push_str("---\n");
    format!(
        "{yaml}\n# swe-corpus export: {}\n\n\
         - Features: {features}.\n\
         - Loss mask: {mask}.\n\
         - Documents: {} ({} tokens){}; every document ends with `<|endoftext|>` (id 151643 for Qwen), never added twice.\n\
         - Packing (packed formats): sequential greedy in shard order into sequences of at most {} tokens; a longer document is left out and counted, never split.\n\
         - Tokenizer: {} (sha256 {}); recipe hash {}; shards digest {}; swe-corpus {} ({}).\n\
         {}\
         - `_manifest.json` lists every file with its xxh3 checksum; `swe-corpus verify` re-checks them and reads every document back.\n",
        format.name(),
        manifest.documents,
        manifest.tokens,
        if manifest.too_long > 0 {
            format!(
                ", {} left out as longer than the sequence length",
                manifest.too_long
            )
        } else {
            String::new()
        },
        manifest.sequence_length,
        manifest.tokenizer,
        manifest.tokenizer_sha256,
        manifest.recipe_hash,
        manifest.shards_digest,
        manifest.tool_version,
        manifest.tool_commit,
        decontam_line(manifest),
    )
}
