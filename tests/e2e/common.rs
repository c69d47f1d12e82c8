//! Helpers: run the binary in a scratch folder, query tables, compare run directories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_swe-corpus");

/// A scratch folder that is the working directory of every command.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.path())
            .env("SWE_CORPUS_LOG", "warn")
            .env_remove("SWE_CORPUS_FAULT");
        cmd
    }

    /// Run and return the output, whatever the exit status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run swe-corpus")
    }

    /// Run and require success.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "swe-corpus {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Query a run with SQL; rows as JSON objects.
    pub fn query(&self, run: &str, sql: &str) -> Vec<serde_json::Value> {
        let out = self.ok(&["sql", "--run", run, "--format", "json", sql]);
        out.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("json row"))
            .collect()
    }

    pub fn demo_repo(&self, folder: &str) -> PathBuf {
        self.path().join("data/demo/repos").join(folder)
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file below `root` (path relative to it → bytes); empty when `root` is missing.
pub fn files_under(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if !root.is_dir() {
        return out;
    }
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).expect("read file"));
            }
        }
    }
    out
}

/// Every file under `run/tables` and `run/exports` (path relative to those → bytes; export
/// files as `exports/...`).
pub fn table_files(run: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = files_under(&run.join("tables"));
    for (rel, bytes) in files_under(&run.join("exports")) {
        out.insert(format!("exports/{rel}"), bytes);
    }
    out
}

/// Assert two runs hold byte-identical tables, naming the first difference.
pub fn assert_same_tables(a: &Path, b: &Path) {
    let fa = table_files(a);
    let fb = table_files(b);
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "different files in {} and {}",
        a.display(),
        b.display()
    );
    for (name, bytes) in &fa {
        assert!(
            bytes == &fb[name],
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Run git with arguments; returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn text(row: &serde_json::Value, key: &str) -> String {
    row[key].as_str().unwrap_or_default().to_string()
}

/// Writes the demo recipe with its first `from` replaced by `to` as `file` in the scratch
/// folder (a test's variant of the demo; `from` must be there).
pub fn demo_recipe_with(s: &Scratch, file: &str, from: &str, to: &str) {
    let demo = corpus_core::recipe::DEMO_RECIPE;
    assert!(demo.contains(from), "the demo recipe has no {from:?}");
    std::fs::write(s.path().join(file), demo.replacen(from, to, 1)).expect("recipe");
}
