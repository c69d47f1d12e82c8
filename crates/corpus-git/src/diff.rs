//! Diffs between two trees, file by file, as `git diff --no-renames` prints them, with the
//! recipe's skip rules applied: a skipped file is left out of the patch and reported.

use corpus_core::drop_reason::DropReason;
use corpus_core::identity::Change;
use git2::{Delta, Diff, DiffOptions, Oid, Patch, Repository, Tree};

use corpus_core::recipe::ExtractOptions;
use corpus_core::rows::FileChange;

use crate::classify::{is_test, language, looks_binary, skip_by_path};
use crate::error::{GitError, Result};

/// A file kept in a diff: its row, its patch text, and its blob contents (UTF-8).
#[derive(Debug, Clone)]
pub struct KeptFile {
    pub change: FileChange,
    pub patch: String,
    pub before: Option<(Oid, String)>,
    pub after: Option<(Oid, String)>,
}

/// A file left out, with the `drops` reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    pub path: String,
    pub reason: DropReason,
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct TreeDiff {
    pub kept: Vec<KeptFile>,
    pub skipped: Vec<SkippedFile>,
}

impl TreeDiff {
    /// The whole patch (kept files only).
    pub fn patch(&self) -> String {
        self.kept.iter().map(|f| f.patch.as_str()).collect()
    }

    /// The patch of the files for which `test` is the given value.
    pub fn patch_where(&self, test: bool) -> String {
        self.kept
            .iter()
            .filter(|f| f.change.is_test == test)
            .map(|f| f.patch.as_str())
            .collect()
    }
}

fn change_kind(delta: Delta) -> Change {
    match delta {
        Delta::Added => Change::Added,
        Delta::Deleted => Change::Deleted,
        Delta::Typechange => Change::TypeChanged,
        _ => Change::Modified,
    }
}

/// Diff `old` (None: the empty tree) against `new`.
pub fn diff_trees(
    repo: &Repository,
    old: Option<&Tree>,
    new: &Tree,
    options: &ExtractOptions,
    name: &str,
) -> Result<TreeDiff> {
    let git = |e| GitError::from_git(name, e);
    let mut diff_options = DiffOptions::new();
    diff_options.context_lines(3).ignore_submodules(true);
    let diff = repo
        .diff_tree_to_tree(old, Some(new), Some(&mut diff_options))
        .map_err(git)?;
    let mut out = TreeDiff::default();
    for index in 0..diff.deltas().len() {
        file_diff(
            repo,
            &diff,
            [old, Some(new)],
            index,
            options,
            name,
            &mut out,
        )?;
    }
    Ok(out)
}

/// Whether the entry at `path` of `tree` is a file: any blob mode, including the
/// non-standard ones old histories hold (0o100744, 0o100664), which git2's `FileMode` panics
/// on; never a symlink or submodule.
fn is_regular_file(tree: Option<&Tree>, path: &[u8]) -> bool {
    let Some(tree) = tree else {
        return false;
    };
    let Ok(path) = std::str::from_utf8(path) else {
        return false;
    };
    tree.get_path(std::path::Path::new(path))
        .map(|entry| {
            let mode = entry.filemode();
            mode == 0 || mode & 0o170000 == 0o100000
        })
        .unwrap_or(false)
}

fn file_diff(
    repo: &Repository,
    diff: &Diff,
    trees: [Option<&Tree>; 2],
    index: usize,
    options: &ExtractOptions,
    name: &str,
    out: &mut TreeDiff,
) -> Result<()> {
    let git = |e| GitError::from_git(name, e);
    let Some(delta) = diff.get_delta(index) else {
        return Ok(());
    };
    let file = if delta.status() == Delta::Deleted {
        delta.old_file()
    } else {
        delta.new_file()
    };
    let raw_path = file.path_bytes().unwrap_or_default();
    let Ok(path) = std::str::from_utf8(raw_path) else {
        out.skipped.push(SkippedFile {
            path: String::from_utf8_lossy(raw_path).into_owned(),
            reason: DropReason::NonUtf8,
            detail: "path is not UTF-8".into(),
        });
        return Ok(());
    };
    let skip = |reason: DropReason, detail: String| SkippedFile {
        path: path.to_string(),
        reason,
        detail,
    };
    let modes_ok = [delta.old_file(), delta.new_file()]
        .iter()
        .zip(trees)
        .all(|(f, tree)| {
            f.id().is_zero() || is_regular_file(tree, f.path_bytes().unwrap_or_default())
        });
    if !modes_ok {
        out.skipped
            .push(skip(DropReason::NotAFile, "symlink or submodule".into()));
        return Ok(());
    }
    if let Some(reason) = skip_by_path(path, options) {
        out.skipped.push(skip(reason, String::new()));
        return Ok(());
    }
    let mut contents: [Option<(Oid, String)>; 2] = [None, None];
    for (slot, side) in contents
        .iter_mut()
        .zip([delta.old_file(), delta.new_file()])
    {
        if side.id().is_zero() {
            continue;
        }
        let blob = repo.find_blob(side.id()).map_err(git)?;
        if blob.size() as u64 > options.max_file_bytes {
            out.skipped.push(skip(
                DropReason::FileTooLarge,
                format!(
                    "{} bytes > max_file_bytes {}",
                    blob.size(),
                    options.max_file_bytes
                ),
            ));
            return Ok(());
        }
        let bytes = blob.content();
        if looks_binary(bytes) {
            out.skipped.push(skip(DropReason::Binary, String::new()));
            return Ok(());
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => *slot = Some((side.id(), text.to_string())),
            Err(e) => {
                out.skipped.push(skip(
                    DropReason::NonUtf8,
                    format!("invalid UTF-8 at byte {}", e.valid_up_to()),
                ));
                return Ok(());
            }
        }
    }
    let Some(mut patch) = Patch::from_diff(diff, index).map_err(git)? else {
        return Ok(());
    };
    if patch.delta().flags().is_binary() {
        out.skipped.push(skip(DropReason::Binary, String::new()));
        return Ok(());
    }
    let (_, additions, deletions) = patch.line_stats().map_err(git)?;
    let buf = patch.to_buf().map_err(git)?;
    let Ok(text) = std::str::from_utf8(&buf) else {
        out.skipped
            .push(skip(DropReason::NonUtf8, "patch text is not UTF-8".into()));
        return Ok(());
    };
    let [before, after] = contents;
    let old_path = delta
        .old_file()
        .path_bytes()
        .and_then(|p| std::str::from_utf8(p).ok())
        .filter(|p| *p != path)
        .map(str::to_string);
    out.kept.push(KeptFile {
        change: FileChange {
            path: path.to_string(),
            old_path,
            change: change_kind(delta.status()).to_string(),
            language: language(path).to_string(),
            is_test: is_test(path),
            additions: additions as i64,
            deletions: deletions as i64,
            before_blob: before.as_ref().map(|(id, _)| id.to_string()),
            after_blob: after.as_ref().map(|(id, _)| id.to_string()),
        },
        patch: text.to_string(),
        before,
        after,
    });
    Ok(())
}

/// Every file path of a tree (blobs only, no submodules), sorted bytewise.
pub fn tree_files(repo: &Repository, tree: &Tree, name: &str) -> Result<Vec<String>> {
    let mut files = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob)
            && let Ok(n) = entry.name()
        {
            files.push(format!("{dir}{n}"));
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(|e| GitError::from_git(name, e))?;
    let _ = repo;
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree written byte for byte, so it can hold modes git itself no longer writes.
    fn raw_tree(repo: &Repository, entries: &[(&str, &str, Oid)]) -> Oid {
        let mut bytes = Vec::new();
        for (mode, name, oid) in entries {
            bytes.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            bytes.extend_from_slice(oid.as_bytes());
        }
        repo.odb()
            .and_then(|odb| odb.write(git2::ObjectType::Tree, &bytes))
            .expect("write tree")
    }

    #[test]
    fn old_non_standard_file_modes_are_files_and_symlinks_are_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init_bare(dir.path()).expect("init");
        let before = repo.blob(b"def f():\n    return 1\n").expect("blob");
        let after = repo.blob(b"def f():\n    return 2\n").expect("blob");
        let target = repo.blob(b"a.py").expect("blob");
        let old = raw_tree(
            &repo,
            &[("100744", "a.py", before), ("120000", "l.py", target)],
        );
        let new = raw_tree(
            &repo,
            &[("100744", "a.py", after), ("120000", "l.py", after)],
        );
        let (old, new) = (
            repo.find_tree(old).expect("old"),
            repo.find_tree(new).expect("new"),
        );
        let options = ExtractOptions::default();
        let diff = diff_trees(&repo, Some(&old), &new, &options, "t/t").expect("diff");
        let kept: Vec<&str> = diff.kept.iter().map(|f| f.change.path.as_str()).collect();
        assert_eq!(kept, ["a.py"]);
        let skipped: Vec<(&str, DropReason)> = diff
            .skipped
            .iter()
            .map(|f| (f.path.as_str(), f.reason))
            .collect();
        assert_eq!(skipped, [("l.py", DropReason::NotAFile)]);
    }
}
