//! A repository tree at one commit, read from git objects, plus the files a trajectory edited
//! or created (an overlay: the base objects are never touched).

use std::collections::BTreeMap;

use git2::{ObjectType, Oid, Repository, Tree};

use crate::SynthError;

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
}

pub struct Snapshot<'r> {
    repo: &'r Repository,
    tree: Tree<'r>,
    /// Edited or created files, by path relative to the root.
    edits: BTreeMap<String, Vec<u8>>,
}

/// `a/b` → (`a`, `b`); `b` → (``, `b`).
fn split_parent(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

impl<'r> Snapshot<'r> {
    /// The tree of `commit`.
    pub fn at_commit(repo: &'r Repository, commit: Oid) -> Result<Self, SynthError> {
        let tree = repo.find_commit(commit)?.tree()?;
        Ok(Self {
            repo,
            tree,
            edits: BTreeMap::new(),
        })
    }

    /// The tree's id (edits aside): what directory-level results are cached by.
    pub fn tree_id(&self) -> Oid {
        self.tree.id()
    }

    /// Whether a trajectory changed anything yet.
    pub fn is_edited(&self) -> bool {
        !self.edits.is_empty()
    }

    /// What `path` (relative, no leading or trailing `/`; empty for the root) is.
    pub fn kind(&self, path: &str) -> Option<Kind> {
        if path.is_empty() {
            return Some(Kind::Dir);
        }
        if self.edits.contains_key(path) {
            return Some(Kind::File);
        }
        match self.tree.get_path(std::path::Path::new(path)) {
            Ok(entry) => match entry.kind() {
                Some(ObjectType::Tree) => Some(Kind::Dir),
                Some(ObjectType::Blob) => Some(Kind::File),
                _ => None, // submodules: not in a checkout's files either
            },
            Err(_) => None,
        }
    }

    /// A file's bytes (None for a directory or a missing path).
    pub fn read(&self, path: &str) -> Option<Vec<u8>> {
        if let Some(bytes) = self.edits.get(path) {
            return Some(bytes.clone());
        }
        let entry = self.tree.get_path(std::path::Path::new(path)).ok()?;
        if entry.kind() != Some(ObjectType::Blob) {
            return None;
        }
        let blob = self.repo.find_blob(entry.id()).ok()?;
        Some(blob.content().to_vec())
    }

    /// The blob id of an unedited file: what file-level results are cached by.
    pub fn blob_id(&self, path: &str) -> Option<Oid> {
        if self.edits.contains_key(path) {
            return None;
        }
        let entry = self.tree.get_path(std::path::Path::new(path)).ok()?;
        (entry.kind() == Some(ObjectType::Blob)).then(|| entry.id())
    }

    /// Replace or create a file (its parent must be a directory).
    pub fn write(&mut self, path: &str, bytes: Vec<u8>) {
        self.edits.insert(path.to_string(), bytes);
    }

    /// The entries of a directory, by name in byte order.
    pub fn list(&self, dir: &str) -> Option<Vec<(String, Kind)>> {
        let mut out: BTreeMap<String, Kind> = BTreeMap::new();
        if dir.is_empty() {
            for entry in self.tree.iter() {
                push_entry(&mut out, &entry);
            }
        } else {
            let entry = self.tree.get_path(std::path::Path::new(dir)).ok();
            match entry {
                Some(e) if e.kind() == Some(ObjectType::Tree) => {
                    let tree = self.repo.find_tree(e.id()).ok()?;
                    for entry in tree.iter() {
                        push_entry(&mut out, &entry);
                    }
                }
                _ => return None,
            }
        }
        for path in self.edits.keys() {
            let (parent, name) = split_parent(path);
            if parent == dir {
                out.insert(name.to_string(), Kind::File);
            }
        }
        Some(out.into_iter().collect())
    }

    /// Every path under `dir` (relative to the root), depth first with each directory's
    /// entries in byte order, directories before their contents.
    pub fn walk(&self, dir: &str) -> Vec<(String, Kind)> {
        let mut out = Vec::new();
        self.walk_into(dir, &mut out);
        out
    }

    fn walk_into(&self, dir: &str, out: &mut Vec<(String, Kind)>) {
        let Some(entries) = self.list(dir) else {
            return;
        };
        for (name, kind) in entries {
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            out.push((path.clone(), kind));
            if kind == Kind::Dir {
                self.walk_into(&path, out);
            }
        }
    }
}

fn push_entry(out: &mut BTreeMap<String, Kind>, entry: &git2::TreeEntry) {
    let Ok(name) = entry.name() else {
        return; // not UTF-8: no tool call can name it
    };
    let kind = match entry.kind() {
        Some(ObjectType::Tree) => Kind::Dir,
        Some(ObjectType::Blob) => Kind::File,
        _ => return,
    };
    out.insert(name.to_string(), kind);
}
