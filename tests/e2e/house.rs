//! The repository's shape, checked: where a stage lives and what it may depend on, and that
//! the design the code points at is in the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every Rust source file with its path relative to the repository and its text.
fn sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    for dir in ["crates", "src", "tests", "bench"] {
        rust_files(&root().join(dir), &mut files);
    }
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).expect("read");
            let relative = file.strip_prefix(root()).unwrap_or(&file);
            (relative.to_string_lossy().into_owned(), text)
        })
        .collect()
}

/// The stage crates and the one stage each holds.
const STAGE_CRATES: &[(&str, &str)] = &[
    ("corpus-crawl", "crawl"),
    ("corpus-git", "extract"),
    ("corpus-agentless", "format"),
    ("corpus-synth", "synthesize"),
    ("corpus-ingest", "ingest"),
    ("corpus-decontam", "decontaminate"),
    ("corpus-curate", "curate"),
    ("corpus-tokenize", "tokenize"),
    ("corpus-mix", "mix"),
    ("corpus-shard", "shard"),
    ("corpus-export", "export"),
];

/// Stage crates other stage crates may use as libraries (never their `stage` module).
const SHARED: &[&str] = &[
    "corpus-core",
    "corpus-stage",
    "corpus-git",
    "corpus-agentless",
    "corpus-tokenize",
];

/// The `corpus-*` crates a manifest lists under `[dependencies]`.
fn corpus_dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).expect("read Cargo.toml");
    let mut in_dependencies = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with('[') {
            in_dependencies = line.trim() == "[dependencies]";
        } else if in_dependencies && line.starts_with("corpus-") {
            let name = line.split(['.', ' ', '=']).next().unwrap_or_default();
            found.push(name.to_string());
        }
    }
    found
}

#[test]
fn stage_crates_depend_on_the_foundation_and_shared_libraries_only() {
    let mut wrong = Vec::new();
    for (krate, stage) in STAGE_CRATES {
        let dir = root().join("crates").join(krate);
        let has_stage =
            dir.join("src/stage.rs").is_file() || dir.join("src/stage/mod.rs").is_file();
        assert!(
            has_stage,
            "{krate} holds stage {stage} in src/stage.rs or src/stage/"
        );
        for dependency in corpus_dependencies(&dir.join("Cargo.toml")) {
            if !SHARED.contains(&dependency.as_str()) {
                wrong.push(format!("{krate} depends on {dependency}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "stage crates depend on core, corpus-stage and the shared libraries only: {wrong:?}"
    );
}

#[test]
fn no_stage_imports_another_stage_and_the_runner_only_registers_them() {
    let mut wrong = Vec::new();
    for (relative, text) in sources() {
        let registry = relative == "crates/corpus-runner/src/stages/mod.rs";
        for (krate, _) in STAGE_CRATES {
            let module = format!("{}::stage::", krate.replace('-', "_"));
            if text.contains(&module)
                && !registry
                && !relative.starts_with(&format!("crates/{krate}/"))
            {
                wrong.push(format!("{relative} uses {module}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "only the runner's registry names the stages: {wrong:?}"
    );
    let runner = root().join("crates/corpus-runner/src/stages");
    let files: Vec<_> = std::fs::read_dir(&runner)
        .expect("read")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        files,
        vec![std::ffi::OsString::from("mod.rs")],
        "corpus-runner/src/stages holds the registry only"
    );
}

/// A path a comment names: `docs/…`, `crates/…`, `schemas/…`, ... up to a character that
/// cannot be in one.
fn named_paths(comment: &str) -> Vec<String> {
    const ROOTS: &[&str] = &[
        "docs/",
        "crates/",
        "schemas/",
        "data/",
        "tests/",
        "scripts/",
        "pipelines/",
        "bench/",
    ];
    let mut paths = Vec::new();
    for start in ROOTS {
        let mut rest = comment;
        while let Some(at) = rest.find(start) {
            let before = rest[..at].chars().last();
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || "._/-".contains(c)))
                .unwrap_or(tail.len());
            let path = tail[..end].trim_end_matches(['.', '/']);
            if !matches!(before, Some(c) if c.is_ascii_alphanumeric() || "_/.-".contains(c))
                && !path.contains("NAME")
                && !path.contains("STAGE")
            {
                paths.push(path.to_string());
            }
            rest = &tail[end.max(1)..];
        }
    }
    paths
}

/// Whether `path` is a file the repository tracks, or a folder holding one. The index is the
/// judge, not the disk: a generated folder (the demo's repositories, a run) exists on a
/// developer's machine and not in a fresh clone. Outside a git checkout the disk is all there is.
fn is_in_the_repository(path: &str, tracked: Option<&BTreeSet<String>>) -> bool {
    let Some(tracked) = tracked else {
        return root().join(path).exists();
    };
    let path = path.trim_end_matches('/');
    let folder = format!("{path}/");
    tracked.contains(path)
        || tracked
            .range(folder.clone()..)
            .next()
            .is_some_and(|file| file.starts_with(&folder))
}

/// The paths of the files git tracks here, or `None` outside a git checkout.
fn tracked_files() -> Option<BTreeSet<String>> {
    let repository = git2::Repository::open(root()).ok()?;
    let index = repository.index().ok()?;
    Some(
        index
            .iter()
            .map(|entry| String::from_utf8_lossy(&entry.path).into_owned())
            .collect(),
    )
}

#[test]
fn a_generated_folder_is_not_in_the_repository() {
    let tracked: BTreeSet<String> = ["crates/corpus-demo/src/lib.rs", "README.md"]
        .map(String::from)
        .into();
    assert!(is_in_the_repository("crates/corpus-demo", Some(&tracked)));
    assert!(is_in_the_repository(
        "crates/corpus-demo/src/",
        Some(&tracked)
    ));
    assert!(is_in_the_repository("README.md", Some(&tracked)));
    assert!(!is_in_the_repository("data/demo", Some(&tracked)));
    assert!(!is_in_the_repository("crates/corpus", Some(&tracked)));
}

#[test]
fn every_path_a_doc_comment_names_is_in_the_repository() {
    let tracked = tracked_files();
    let mut missing = BTreeSet::new();
    let mut outside = BTreeSet::new();
    for (relative, text) in sources() {
        for line in text.lines() {
            let line = line.trim_start();
            if !(line.starts_with("//!") || line.starts_with("///")) {
                continue;
            }
            for name in [
                "CONTRACT.md",
                "FORMATS.md",
                "SYNTHETIC.md",
                "LOADERS.md",
                "ARCHITECTURE.md",
                "../shared",
            ] {
                if line.contains(name) {
                    outside.insert(format!("{relative}: {name}"));
                }
            }
            for path in named_paths(line) {
                if !is_in_the_repository(&path, tracked.as_ref()) {
                    missing.insert(format!("{relative}: {path}"));
                }
            }
        }
    }
    assert!(
        outside.is_empty(),
        "doc comments point outside the repository: {outside:?}"
    );
    assert!(
        missing.is_empty(),
        "doc comments name paths that do not exist: {missing:?}"
    );
}

#[test]
fn the_readme_layout_names_every_top_level_folder() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let layout = readme
        .split("## Layout")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a Layout section");
    let tracked = [
        "bench",
        "crates",
        "data",
        "docs",
        "pipelines",
        "schemas",
        "scripts",
        "src",
        "tests",
    ];
    for folder in tracked {
        assert!(root().join(folder).is_dir(), "{folder} exists");
        assert!(
            layout.contains(&format!("{folder}/")),
            "README's layout names {folder}/"
        );
    }
    for entry in std::fs::read_dir(root().join("crates"))
        .expect("crates")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            layout.contains(&name),
            "README's layout names crates/{name}"
        );
    }
}

/// The cells of the docs' table of what each stage reads and writes, by stage.
fn documented_tables() -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).expect("docs");
    let names = |cell: &str| -> Vec<String> {
        cell.split(',')
            .map(|name| name.trim().trim_matches('`').to_string())
            .filter(|name| !name.is_empty() && name != "—")
            .collect()
    };
    doc.lines()
        .skip_while(|line| !line.starts_with("| stage | reads | writes |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').to_string(),
                (names(cells[2]), names(cells[3])),
            )
        })
        .collect()
}

#[test]
fn the_docs_table_of_reads_and_writes_is_the_stages_declarations() {
    let documented = documented_tables();
    let mut declared = BTreeMap::new();
    for stage in corpus_runner::stages::available() {
        let writes = stage.writes().iter().map(|t| t.to_string()).collect();
        let reads = stage.reads().iter().map(|t| t.to_string()).collect();
        declared.insert(stage.name().to_string(), (reads, writes));
    }
    assert_eq!(
        documented, declared,
        "docs/architecture.md's table of reads and writes"
    );
}

#[test]
fn stage_modules_open_tables_only_through_their_declarations() {
    let mut direct = Vec::new();
    for (relative, text) in sources() {
        // corpus-stage is the contract itself: its `StageContext::table` is the check.
        let in_stage = relative.starts_with("crates/")
            && !relative.starts_with("crates/corpus-stage/")
            && (relative.contains("/src/stage.rs") || relative.contains("/src/stage/"));
        if in_stage && text.contains("run.table(") {
            direct.push(relative);
        }
    }
    assert!(
        direct.is_empty(),
        "stage modules name a table's folder without StageContext::table: {direct:?}"
    );
}
