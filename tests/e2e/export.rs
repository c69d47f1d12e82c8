//! `swe-corpus export` on the demo: every format read back by our readers (`verify`), the HF
//! export by the real `datasets` reader, and the bad inputs.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{Scratch, files_under, stderr};

/// Every file of two folders, byte for byte.
fn assert_same_files(a: &std::path::Path, b: &std::path::Path) {
    let (fa, fb) = (files_under(a), files_under(b));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "{} and {}",
        a.display(),
        b.display()
    );
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs");
    }
}

fn python() -> Option<PathBuf> {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    if python.is_file() {
        return Some(python);
    }
    assert!(std::env::var_os("CI").is_none(), "CI needs .venv");
    None
}

#[test]
fn every_format_exports_the_demo_and_reads_back_exactly() {
    let s = Scratch::new();
    // The demo recipe's `[export] formats` lists all six: `run` writes them.
    s.ok(&["run", "--run", "runs/demo"]);
    let verify = s.ok(&["verify", "--run", "runs/demo"]);
    assert!(verify.contains("6 export(s) read back"), "{verify}");
    assert!(verify.contains("0 problem(s)"), "{verify}");
    for format in ["megatron", "megatron-bridge", "olmo", "datatrove", "hf"] {
        let dir = s.path().join("runs/demo/exports").join(format);
        assert!(dir.join("_manifest.json").is_file(), "{format}");
        let card = std::fs::read_to_string(dir.join("README.md")).expect("card");
        assert!(
            card.starts_with("---\n") && card.contains("Loss mask"),
            "{card}"
        );
        if format == "megatron" {
            assert!(card.contains("no loss mask"), "{card}");
            assert!(dir.join("shard-00000.bin").is_file() && dir.join("shard-00000.idx").is_file());
        }
        // The command exports the same bytes elsewhere.
        let elsewhere = s.path().join("elsewhere").join(format);
        let out = s.ok(&[
            "export",
            "--run",
            "runs/demo",
            "--format",
            format,
            "--out",
            elsewhere.to_str().expect("utf-8 path"),
        ]);
        assert!(out.contains("documents"), "{out}");
        assert_same_files(&dir, &elsewhere);
    }
    // Deleting an export makes `run` write it again, and only it.
    std::fs::remove_dir_all(s.path().join("runs/demo/exports/olmo")).expect("remove");
    let out = s.ok(&["run", "--run", "runs/demo"]);
    let export_line = out
        .lines()
        .find(|l| l.starts_with("export"))
        .unwrap_or_default();
    let shard_line = out
        .lines()
        .find(|l| l.starts_with("shard"))
        .unwrap_or_default();
    assert!(export_line.contains(" ran "), "{out}");
    assert!(shard_line.contains(" current "), "{out}");
    assert!(
        s.path()
            .join("runs/demo/exports/olmo/_manifest.json")
            .is_file()
    );
    let hf = s.path().join("runs/demo/exports/hf");
    // `datasets` split files: SPLIT-IIIII-of-NNNNN.parquet, one per shard of the split.
    let data: Vec<String> = std::fs::read_dir(hf.join("data"))
        .expect("data")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let shards = std::fs::read_dir(s.path().join("runs/demo/tables/shards"))
        .expect("shards")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".parquet"))
        .count();
    let trains = shards - data.iter().filter(|n| n.starts_with("validation-")).count();
    assert!(
        data.contains(&format!("train-00000-of-{trains:05}.parquet")),
        "{data:?}"
    );
    assert!(
        data.iter().any(|n| n.starts_with("validation-00000-of-")),
        "{data:?}"
    );

    // Exporting again into the same folder is the same export.
    let manifest = std::fs::read(hf.join("_manifest.json")).expect("manifest");
    s.ok(&["export", "--run", "runs/demo", "--format", "hf"]);
    assert_eq!(
        std::fs::read(hf.join("_manifest.json")).expect("manifest"),
        manifest
    );

    // A damaged file is found.
    let bin = s.path().join("runs/demo/exports/megatron/shard-00001.bin");
    let mut bytes = std::fs::read(&bin).expect("bin");
    bytes[5] ^= 0x40;
    std::fs::write(&bin, bytes).expect("write");
    let out = s.run(&["verify", "--run", "runs/demo"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("exports/megatron: shard-00001.bin: checksum"),
        "{text}"
    );

    let Some(python) = python() else {
        return;
    };
    for folder in ["hf", "hf-packed"] {
        let out = Command::new(&python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scripts/check_hf_export.py"
            ))
            .arg(s.path().join("runs/demo/exports").join(folder))
            .arg(s.path().join("runs/demo/tables/shards"))
            .output()
            .expect("python");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{folder}: {text}{}", stderr(&out));
        assert!(text.contains(", 0 problem(s)"), "{text}");
    }
}

#[test]
fn bad_export_targets_are_refused_and_long_documents_counted() {
    let s = Scratch::new();
    s.ok(&["run", "--run", "runs/a"]);
    // Another run with other shards (another seed shuffles differently).
    let recipe = s.path().join("b.toml");
    let demo = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/demo.toml"))
        .expect("demo");
    std::fs::write(&recipe, demo.replace("seed = 20250923", "seed = 7")).expect("write");
    s.ok(&[
        "run",
        "--recipe",
        &recipe.display().to_string(),
        "--run",
        "runs/b",
    ]);
    s.ok(&[
        "export", "--run", "runs/a", "--format", "olmo", "--out", "shared",
    ]);
    // What a killed export leaves: its in-progress marker and temporary files. Resuming
    // finishes the export and removes them.
    let shared = s.path().join("shared");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shared.join("_manifest.json")).expect("manifest"))
            .expect("json");
    let marker = serde_json::json!({"format": "olmo", "shards_digest": manifest["shards_digest"]});
    std::fs::write(shared.join("_export.json"), marker.to_string()).expect("marker");
    std::fs::write(shared.join("._export.json.4242.0.tmp"), "{").expect("tmp");
    std::fs::write(shared.join(".shard-00000.npy.tmp"), [0u8; 6]).expect("tmp");
    s.ok(&[
        "export", "--run", "runs/a", "--format", "olmo", "--out", "shared",
    ]);
    let names: Vec<String> = std::fs::read_dir(&shared)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.ends_with(".tmp") && n != "_export.json"),
        "{names:?}"
    );
    assert!(names.contains(&"_manifest.json".to_string()), "{names:?}");
    let out = s.run(&[
        "export", "--run", "runs/b", "--format", "olmo", "--out", "shared",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("export of other shards"),
        "{}",
        stderr(&out)
    );
    std::fs::create_dir_all(s.path().join("mine")).expect("mkdir");
    std::fs::write(s.path().join("mine/notes.txt"), "keep me").expect("write");
    let out = s.run(&[
        "export", "--run", "runs/a", "--format", "hf", "--out", "mine",
    ]);
    assert!(
        stderr(&out).contains("holds no swe-corpus export"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(s.path().join("mine/notes.txt")).expect("kept"),
        "keep me"
    );

    // Documents longer than the packed sequence length are left out and counted.
    let out = s.ok(&[
        "export",
        "--run",
        "runs/a",
        "--format",
        "megatron-bridge",
        "--sequence-length",
        "400",
    ]);
    assert!(out.contains("longer than 400 tokens left out"), "{out}");
    let verify = s.ok(&["verify", "--run", "runs/a"]);
    assert!(verify.contains("0 problem(s)"), "{verify}");

    // Shards made with another tokenizer than the recipe now names.
    let run_recipe = s.path().join("runs/a/recipe.toml");
    let text = std::fs::read_to_string(&run_recipe).expect("recipe");
    std::fs::write(
        &run_recipe,
        text.replace("tokenizer = \"qwen2.5\"", "tokenizer = \"qwen3\""),
    )
    .expect("write");
    let out = s.run(&["export", "--run", "runs/a", "--format", "hf"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("written with tokenizer qwen2.5"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_disk_that_fills_during_an_export_leaves_no_complete_looking_file() {
    let s = Scratch::new();
    s.ok(&["run", "--run", "runs/r"]);
    for format in ["megatron", "hf"] {
        let out = s
            .cmd(&[
                "export",
                "--run",
                "runs/r",
                "--format",
                format,
                "--threads",
                "1",
            ])
            .env("SWE_CORPUS_FAULT", "export:write:3:enospc")
            .output()
            .expect("export");
        assert!(!out.status.success(), "{format}");
        assert!(
            stderr(&out).contains("No space left on device"),
            "{}",
            stderr(&out)
        );
        let dir = s.path().join("runs/r/exports").join(format);
        assert!(!dir.join("_manifest.json").exists());
        // The file being written kept its temporary name.
        let mut names = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).expect("dir").flatten() {
                if entry.path().is_dir() {
                    stack.push(entry.path());
                } else {
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
        assert!(names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
        let verify = s.run(&["verify", "--run", "runs/r"]);
        assert!(
            String::from_utf8_lossy(&verify.stdout).contains("export incomplete"),
            "{}",
            String::from_utf8_lossy(&verify.stdout)
        );
        // Space back: the same command completes, and everything reads back.
        s.ok(&["export", "--run", "runs/r", "--format", format]);
    }
    let verify = s.ok(&["verify", "--run", "runs/r"]);
    assert!(
        verify.contains("6 export(s) read back") && verify.contains("0 problem(s)"),
        "{verify}"
    );
}
