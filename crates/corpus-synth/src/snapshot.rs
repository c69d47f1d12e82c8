//! A repository tree at one commit, read from git objects, plus the files a trajectory edited
//! or created (an overlay: the base objects are never touched).

use std::collections::BTreeMap;
use std::sync::Arc;

use git2::{ObjectType, Oid, Repository, Tree};

use crate::SynthError;
use crate::blob_cache::BlobCache;

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// A symbolic link (a blob of mode 120000 holding its target).
    Link,
}

/// Why a path does not resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unresolved {
    Missing,
    Loop,
    NotADirectory,
}

impl Unresolved {
    fn message(self) -> &'static str {
        match self {
            Unresolved::Missing => "No such file or directory",
            Unresolved::Loop => "Too many levels of symbolic links",
            Unresolved::NotADirectory => "Not a directory",
        }
    }
}

/// How many symbolic links one path may pass through (Linux's limit).
const MAX_LINK_HOPS: usize = 40;

/// Git's file mode of a symbolic link.
const LINK_MODE: i32 = 0o120000;

fn entry_kind(entry: &git2::TreeEntry) -> Option<Kind> {
    match entry.kind() {
        Some(ObjectType::Tree) => Some(Kind::Dir),
        Some(ObjectType::Blob) if entry.filemode() == LINK_MODE => Some(Kind::Link),
        Some(ObjectType::Blob) => Some(Kind::File),
        _ => None, // submodules: not in a checkout's files either
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// A file's bytes as [`Snapshot::read_shared`] gives them.
pub enum FileBytes<'s> {
    Edited(&'s [u8]),
    Shared(Arc<[u8]>),
}

impl std::ops::Deref for FileBytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Edited(b) => b,
            FileBytes::Shared(b) => b,
        }
    }
}

/// A path a walk met, its kind, and its blob when it is an unedited file.
pub type Walked = (String, Kind, Option<Oid>);

/// A file a walk met and its blob when unedited.
pub type WalkedFile = (String, Option<Oid>);

pub struct Snapshot<'r> {
    repo: &'r Repository,
    tree: Tree<'r>,
    /// Blobs already read by other snapshots of the repository, when shared.
    blobs: Option<Arc<BlobCache>>,
    /// Edited or created files, by path relative to the root.
    edits: BTreeMap<String, Vec<u8>>,
    /// Directories a trajectory created (`mkdir -p`).
    made_dirs: std::collections::BTreeSet<String>,
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
            blobs: None,
            edits: BTreeMap::new(),
            made_dirs: Default::default(),
        })
    }

    /// Read blobs through `cache`, shared with the other snapshots of the repository.
    pub fn share_blobs(&mut self, cache: Arc<BlobCache>) {
        self.blobs = Some(cache);
    }

    /// The tree's id (edits aside): what directory-level results are cached by.
    pub fn tree_id(&self) -> Oid {
        self.tree.id()
    }

    /// Whether a trajectory changed anything yet.
    pub fn is_edited(&self) -> bool {
        !self.edits.is_empty() || !self.made_dirs.is_empty()
    }

    /// `mkdir -p`: make `path` and every missing directory above it. Fails, naming the
    /// component, where a file stands in the way (what `mkdir` says then is "File exists"
    /// or "Not a directory").
    pub fn make_dirs(&mut self, path: &str) -> Result<(), String> {
        let mut at = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            at = join(&at, part);
            match self.follow(&at) {
                Some((_, Kind::Dir)) => continue,
                Some(_) => return Err(at),
                None if self.kind(&at).is_some() => return Err(at), // a dangling link
                None => {
                    self.made_dirs.insert(at.clone());
                }
            }
        }
        Ok(())
    }

    /// What `path` (relative, no leading or trailing `/`; empty for the root) is, as `lstat`
    /// says: a link in the last component is a [`Kind::Link`]; links in the components
    /// before it are followed.
    pub fn kind(&self, path: &str) -> Option<Kind> {
        if path.is_empty() {
            return Some(Kind::Dir);
        }
        if self.edits.contains_key(path) {
            return Some(Kind::File);
        }
        if self.made_dirs.contains(path) {
            return Some(Kind::Dir);
        }
        if let Ok(entry) = self.tree.get_path(std::path::Path::new(path)) {
            return entry_kind(&entry);
        }
        // A link to a directory on the way: look again from where it leads.
        let (parent, name) = split_parent(path);
        match self.follow(parent)? {
            (real, Kind::Dir) if real != parent => self.kind(&join(&real, name)),
            _ => None,
        }
    }

    /// The target a link holds.
    fn link_target(&self, path: &str) -> Option<String> {
        let entry = self.tree.get_path(std::path::Path::new(path)).ok()?;
        let blob = self.repo.find_blob(entry.id()).ok()?;
        Some(String::from_utf8_lossy(blob.content()).into_owned())
    }

    /// What `path` names once every link is followed, as `stat` sees it: its real path and
    /// kind (a file or a directory). None when it is missing, a dangling link, a loop of
    /// links, or leads outside the repository ([`Snapshot::unresolved`] says which).
    pub fn follow(&self, path: &str) -> Option<(String, Kind)> {
        self.follow_or_why(path).ok()
    }

    /// Why [`Snapshot::follow`] finds nothing at `path`, as the C library says it
    /// (`strerror`); a path that resolves gives "No such file or directory" too.
    pub fn unresolved(&self, path: &str) -> &'static str {
        match self.follow_or_why(path) {
            Err(why) => why.message(),
            Ok(_) => Unresolved::Missing.message(),
        }
    }

    fn follow_or_why(&self, path: &str) -> Result<(String, Kind), Unresolved> {
        let mut done: Vec<String> = Vec::new();
        let mut todo: std::collections::VecDeque<String> = path
            .split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        let mut hops = 0;
        let mut kind = Kind::Dir;
        while let Some(part) = todo.pop_front() {
            if kind != Kind::Dir {
                return Err(Unresolved::NotADirectory);
            }
            match part.as_str() {
                "." => continue,
                ".." => {
                    // Above the repository's root: outside what the snapshot holds.
                    done.pop().ok_or(Unresolved::Missing)?;
                    continue;
                }
                _ => {}
            }
            let candidate = join(&done.join("/"), &part);
            kind = self.kind(&candidate).ok_or(Unresolved::Missing)?;
            if kind == Kind::Link {
                hops += 1;
                if hops > MAX_LINK_HOPS {
                    return Err(Unresolved::Loop);
                }
                let target = self.link_target(&candidate).ok_or(Unresolved::Missing)?;
                if target.starts_with('/') {
                    // An absolute target leaves the checkout.
                    return Err(Unresolved::Missing);
                }
                for piece in target.split('/').rev().filter(|p| !p.is_empty()) {
                    todo.push_front(piece.to_string());
                }
                kind = Kind::Dir;
                continue;
            }
            done.push(part);
        }
        Ok((done.join("/"), kind))
    }

    /// A file's bytes, through links (None for a directory or a missing path).
    pub fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.read_shared(path).map(|b| b.to_vec())
    }

    /// [`Snapshot::read`] without a copy: an edited file's bytes, or the blob's content as
    /// the shared cache holds it.
    pub fn read_shared(&self, path: &str) -> Option<FileBytes<'_>> {
        if let Some(bytes) = self.edits.get(path) {
            return Some(FileBytes::Edited(bytes));
        }
        self.blob(self.blob_id(path)?).map(FileBytes::Shared)
    }

    /// The blob id of an unedited file (through links): what file-level results are cached
    /// by.
    pub fn blob_id(&self, path: &str) -> Option<Oid> {
        if self.edits.contains_key(path) {
            return None;
        }
        let direct = self.tree.get_path(std::path::Path::new(path)).ok();
        match direct.as_ref().and_then(entry_kind) {
            Some(Kind::File) => direct.map(|e| e.id()),
            Some(Kind::Dir) => None,
            // A link, or a link on the way.
            _ => match self.follow(path)? {
                (real, Kind::File) if real != path => self.blob_id(&real),
                _ => None,
            },
        }
    }

    /// Replace or create a file (its parent must be a directory).
    pub fn write(&mut self, path: &str, bytes: Vec<u8>) {
        self.edits.insert(path.to_string(), bytes);
    }

    /// The entries of a directory, by name in byte order.
    pub fn list(&self, dir: &str) -> Option<Vec<(String, Kind)>> {
        let tree = self.dir_tree(dir)?;
        Some(
            self.entries(dir, tree.as_ref())
                .into_iter()
                .map(|(name, (kind, _))| (name, kind))
                .collect(),
        )
    }

    /// The tree of directory `dir`: None when it is not a directory, `Some(None)` for one
    /// the trajectory made (it holds only what the trajectory put there).
    fn dir_tree(&self, dir: &str) -> Option<Option<Tree<'r>>> {
        if dir.is_empty() {
            return Some(Some(self.tree.clone()));
        }
        match self.tree.get_path(std::path::Path::new(dir)) {
            Ok(e) if e.kind() == Some(ObjectType::Tree) => {
                Some(Some(self.repo.find_tree(e.id()).ok()?))
            }
            _ if self.made_dirs.contains(dir) => Some(None),
            _ => None,
        }
    }

    /// The entries of `dir` (its tree's, then edited files and made directories over them),
    /// by name, each with its object id when it comes from the tree.
    fn entries(&self, dir: &str, tree: Option<&Tree<'r>>) -> BTreeMap<String, (Kind, Option<Oid>)> {
        let mut entries = BTreeMap::new();
        for entry in tree.into_iter().flat_map(|t| t.iter()) {
            // Not UTF-8 (no tool call can name it), or a submodule: left out.
            if let (Ok(name), Some(kind)) = (entry.name(), entry_kind(&entry)) {
                entries.insert(name.to_string(), (kind, Some(entry.id())));
            }
        }
        for path in self.edits.keys() {
            let (parent, name) = split_parent(path);
            if parent == dir {
                entries.insert(name.to_string(), (Kind::File, None));
            }
        }
        for path in &self.made_dirs {
            let (parent, name) = split_parent(path);
            if parent == dir {
                let id = entries.get(name).and_then(|(_, id)| *id);
                entries.insert(name.to_string(), (Kind::Dir, id));
            }
        }
        entries
    }

    /// Every path under `dir` (relative to the root), depth first with each directory's
    /// entries in byte order, directories before their contents. Links are listed, never
    /// followed (as `find` and `grep -r` walk).
    pub fn walk(&self, dir: &str) -> Vec<(String, Kind)> {
        self.walk_with_blobs(dir)
            .into_iter()
            .map(|(path, kind, _)| (path, kind))
            .collect()
    }

    /// [`Snapshot::walk`] with each unedited file's blob id, so a caller reads it without
    /// looking its path up again from the root (each lookup re-reads every tree on the way).
    pub fn walk_with_blobs(&self, dir: &str) -> Vec<Walked> {
        let mut out = Vec::new();
        if let Some(tree) = self.dir_tree(dir) {
            self.walk_tree_into(dir, tree.as_ref(), &mut out);
        }
        out
    }

    /// The entries of `dir` (`tree` is its tree), then each subdirectory's, recursively;
    /// each directory's tree is read once, never looked up again from the root.
    fn walk_tree_into(&self, dir: &str, tree: Option<&Tree<'r>>, out: &mut Vec<Walked>) {
        for (name, (kind, id)) in self.entries(dir, tree) {
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            if kind == Kind::Dir {
                out.push((path.clone(), kind, None));
                // A directory from the tree has its tree; one the trajectory made has none
                // (an id that is not a tree: a file it made a directory over).
                let subtree = id.and_then(|id| self.repo.find_tree(id).ok());
                if subtree.is_some() || self.made_dirs.contains(&path) {
                    self.walk_tree_into(&path, subtree.as_ref(), out);
                }
            } else {
                let blob = if kind == Kind::File { id } else { None };
                out.push((path, kind, blob));
            }
        }
    }

    /// A file's bytes by the blob id a walk gave (the shared cache when there is one), or
    /// through its path for an edited file.
    pub fn read_walked(&self, path: &str, blob: Option<Oid>) -> Option<FileBytes<'_>> {
        match blob {
            Some(id) => self.blob(id).map(FileBytes::Shared),
            None => self.read_shared(path),
        }
    }

    /// Blob `id`'s content, through the shared cache when there is one.
    pub(crate) fn blob(&self, id: Oid) -> Option<Arc<[u8]>> {
        match &self.blobs {
            Some(cache) => cache.get(self.repo, id),
            None => {
                let blob = self.repo.find_blob(id).ok()?;
                Some(Arc::from(blob.content()))
            }
        }
    }
}
