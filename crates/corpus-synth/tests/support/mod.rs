//! What the emulator tests share: a bare repository built from (path, mode, bytes) entries,
//! its `git archive` checkout, and the real tools run there under `LC_ALL=C`.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const FILE: u32 = 0o100644;

/// A bare repository `DIR/repo.git` with one commit holding `entries`.
pub fn repository(dir: &Path, entries: &[(&str, u32, &[u8])]) -> (git2::Repository, git2::Oid) {
    let repo = git2::Repository::init_bare(dir.join("repo.git")).expect("init");
    let mut index = repo.index().expect("index");
    for (path, mode, bytes) in entries {
        let id = repo.blob(bytes).expect("blob");
        index
            .add(&git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: *mode,
                uid: 0,
                gid: 0,
                file_size: bytes.len() as u32,
                id,
                flags: 0,
                flags_extended: 0,
                path: path.as_bytes().to_vec(),
            })
            .expect("add");
    }
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let sig = git2::Signature::new("t", "t@example.com", &git2::Time::new(0, 0)).expect("sig");
    let commit = repo
        .commit(None, &sig, &sig, "base", &tree, &[])
        .expect("commit");
    drop(tree);
    (repo, commit)
}

/// The commit's files as `git archive` writes them (links as links), in `DIR/checkout`.
pub fn checkout(dir: &Path, commit: git2::Oid) -> PathBuf {
    let out = dir.join("checkout");
    std::fs::create_dir_all(&out).expect("mkdir");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "git --git-dir={} archive {commit} | tar -x -C {}",
            dir.join("repo.git").display(),
            out.display()
        ))
        .status()
        .expect("git archive");
    assert!(status.success());
    out
}

/// What a command prints in the checkout, stderr merged, under `LC_ALL=C`.
pub fn real(checkout: &Path, command: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{command} 2>&1"))
        .current_dir(checkout)
        .env("LC_ALL", "C")
        .output()
        .expect("run");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Lines sorted: the real tools list in file-system order.
pub fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    lines.sort();
    lines
}

/// Every command of `exact` prints what it prints in the checkout (paths under `/testbed`
/// mapped to the checkout and back), and every command of `any_order` the same lines.
pub fn assert_like_the_real_tools(
    emulator: &corpus_synth::Emulator,
    checkout: &Path,
    exact: &[&str],
    any_order: &[&str],
) {
    let shown = checkout.display().to_string();
    for command in exact {
        let ours = emulator
            .bash(command)
            .unwrap_or_else(|| panic!("{command} should be in the subset"));
        let theirs =
            real(checkout, &command.replace("/testbed", &shown)).replace(&shown, "/testbed");
        assert_eq!(ours, theirs, "{command}");
    }
    for command in any_order {
        let ours = emulator
            .bash(command)
            .unwrap_or_else(|| panic!("{command} should be in the subset"));
        let theirs = real(checkout, command);
        assert_eq!(sorted_lines(&ours), sorted_lines(&theirs), "{command}");
    }
}
