//! The agent's tools answered from a [`Snapshot`]: what the real tool would print, byte for
//! byte, for the calls a trajectory makes. The repository sits at `root` (for example
//! `/testbed`) and shell commands run there.
//!
//! - [`editor`]: SWE-agent's `str_replace_editor` (`view`, `create`, `str_replace`, `insert`).
//! - [`bash`]: a read-only shell subset: `cat -n`, `sed -n 'A,Bp'`, `head`, `wc -l`, `ls`,
//!   `find PATH -name GLOB`, `grep -rn PATTERN [PATH]`.
//!
//! Directory listings and search hits come in byte order of their paths: what the real tools
//! print under `LC_ALL=C` once sorted (their own order follows the file system).

pub mod bash;
pub mod editor;
pub mod pattern;
pub mod windowed;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use git2::Oid;

use crate::blob_cache::BlobCache;
use crate::snapshot::{Kind, Snapshot};

/// Results of read-only commands, shared by the trajectories of one repository: keyed by
/// (blob id, command) when the command reads one file, else by (tree id, command). Only
/// unedited snapshots use it (an edit makes the state a trajectory's own).
pub struct ResultCache {
    map: Mutex<Results>,
    /// Bytes of results kept at most; past it the map starts over.
    budget: usize,
    /// The blobs the commands read, shared by every snapshot of the repository.
    pub blobs: Arc<BlobCache>,
    /// The replay's edit blocks, shared by the variants of a PR.
    pub edits: crate::edit_memo::EditMemo,
    /// The last PR's whole replay, for its other variants.
    pub replays: crate::replay_memo::ReplayMemo,
    /// Each commit's tree and changed paths, for the other variants of its PR.
    pub changes: crate::change_memo::ChangeMemo,
    /// The last PR's fresh leak guard (nothing seen yet), for its other variants.
    pub guard: crate::replay_memo::LastPr<crate::leak::LeakGuard>,
    /// The last walk of an unedited tree (by tree and directory): every `grep -r` of a new
    /// word walks the same base tree.
    walks: crate::replay_memo::LastPr<Arc<Vec<crate::snapshot::WalkedFile>>>,
    /// Which blobs may hold a word: a first `grep -r` of a word reads only those.
    pub(crate) trigrams: crate::trigram_index::TrigramIndex,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

#[derive(Default)]
struct Results {
    map: HashMap<(Oid, String), String>,
    bytes: usize,
}

/// Bytes of command results a repository's cache keeps.
pub const RESULT_BUDGET: usize = 128 << 20;
/// Bytes of blob content a repository's cache keeps.
pub const BLOB_BUDGET: usize = 384 << 20;
/// Bytes of trigram sets a repository's index keeps.
pub const TRIGRAM_BUDGET: usize = 128 << 20;

impl Default for ResultCache {
    fn default() -> Self {
        Self::with_budgets(RESULT_BUDGET, BLOB_BUDGET)
    }
}

impl ResultCache {
    pub fn with_budgets(results: usize, blobs: usize) -> Self {
        Self {
            map: Mutex::new(Results::default()),
            budget: results,
            blobs: Arc::new(BlobCache::new(blobs)),
            edits: Default::default(),
            replays: Default::default(),
            changes: Default::default(),
            guard: Default::default(),
            walks: Default::default(),
            trigrams: crate::trigram_index::TrigramIndex::new(TRIGRAM_BUDGET),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn get(&self, key: &(Oid, String)) -> Option<String> {
        let found = self.map.lock().ok()?.map.get(key).cloned();
        match found {
            Some(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            None => self.misses.fetch_add(1, Ordering::Relaxed),
        };
        found
    }

    /// A result kept for the emulator's own use, not counted as a hit or a miss.
    pub(crate) fn peek(&self, key: &(Oid, String)) -> Option<String> {
        self.map.lock().ok()?.map.get(key).cloned()
    }

    pub(crate) fn put(&self, key: (Oid, String), value: String) {
        let size = key.1.len() + value.len();
        if size > self.budget / 16 {
            return;
        }
        if let Ok(mut results) = self.map.lock() {
            if results.bytes + size > self.budget {
                results.map.clear();
                results.bytes = 0;
            }
            results.bytes += size;
            results.map.insert(key, value);
        }
    }
}

pub struct Emulator<'r> {
    pub snapshot: Snapshot<'r>,
    /// Where the repository is mounted, e.g. `/testbed` (no trailing `/`).
    pub root: String,
    cache: Option<Arc<ResultCache>>,
}

/// A path as the tools see it: relative to the repository root (empty for the root), or
/// outside the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Inside(String),
    Outside,
}

impl<'r> Emulator<'r> {
    pub fn new(snapshot: Snapshot<'r>, root: &str) -> Self {
        Self {
            snapshot,
            root: root.trim_end_matches('/').to_string(),
            cache: None,
        }
    }

    /// The cache shared with other emulators of the repository, if any.
    pub fn shared(&self) -> Option<&Arc<ResultCache>> {
        self.cache.as_ref()
    }

    /// Share read-only results and read blobs with other emulators of the same repository.
    pub fn with_cache(mut self, cache: Arc<ResultCache>) -> Self {
        self.snapshot.share_blobs(cache.blobs.clone());
        self.cache = Some(cache);
        self
    }

    /// `mkdir -p DIR...`, the one shell command that changes the snapshot: it prints
    /// nothing on success, as `mkdir` does; None for any other command line.
    pub fn mkdir(&mut self, line: &str) -> Option<String> {
        let words = bash::split_words(line)?;
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let ["mkdir", "-p", dirs @ ..] = words.as_slice() else {
            return None;
        };
        if dirs.is_empty() {
            return None;
        }
        let mut out = String::new();
        for dir in dirs.iter().copied() {
            match self.resolve(dir) {
                Resolved::Inside(path) => {
                    if let Err(at) = self.snapshot.make_dirs(&path) {
                        let shown = if at == path { dir.to_string() } else { at };
                        out.push_str(&format!(
                            "mkdir: cannot create directory '{shown}': File exists\n"
                        ));
                    }
                }
                Resolved::Outside => out.push_str(&format!(
                    "mkdir: cannot create directory '{dir}': Permission denied\n"
                )),
            }
        }
        Some(out)
    }

    /// The files under `dir` (links left out) in byte order of their paths, each with its
    /// blob when unedited: what `grep -r` reads. Shared by the searches of an unedited tree.
    pub(crate) fn files_shared(&self, dir: &str) -> Arc<Vec<crate::snapshot::WalkedFile>> {
        let list = || {
            let mut files: Vec<crate::snapshot::WalkedFile> = self
                .snapshot
                .walk_with_blobs(dir)
                .into_iter()
                .filter(|(_, kind, _)| *kind == Kind::File)
                .map(|(path, _, blob)| (path, blob))
                .collect();
            files.sort_unstable();
            Arc::new(files)
        };
        let Some(cache) = self.cache.as_ref().filter(|_| !self.snapshot.is_edited()) else {
            return list();
        };
        let key = format!("{}\0{dir}", self.snapshot.tree_id());
        if let Some(files) = cache.walks.get(&key) {
            return files;
        }
        let files = list();
        cache.walks.put(key, files.clone());
        files
    }

    /// For each file (its blob; None for an edited one, which may), whether it may hold the
    /// plain word `pattern`.
    pub(crate) fn may_hold(
        &self,
        pattern: &str,
        blobs: impl Iterator<Item = Option<git2::Oid>>,
    ) -> Vec<bool> {
        match &self.cache {
            Some(cache) => cache
                .trigrams
                .may_hold(pattern, blobs, |id| self.snapshot.blob(id)),
            None => blobs.map(|_| true).collect(),
        }
    }

    /// A command's output from the shared cache, by (`object`, the command line), when the
    /// snapshot is unedited; else computed (None, a command not emulated, is not kept).
    fn cached(
        &self,
        object: impl FnOnce() -> Oid,
        line: &str,
        compute: impl FnOnce() -> Option<String>,
    ) -> Option<String> {
        let Some(cache) = self.cache.as_ref().filter(|_| !self.snapshot.is_edited()) else {
            return compute();
        };
        let key = (object(), line.to_string());
        if let Some(hit) = cache.get(&key) {
            return Some(hit);
        }
        let out = compute()?;
        cache.put(key, out.clone());
        Some(out)
    }

    /// Run one shell command line, from the cache when the snapshot is unedited.
    pub fn run_shell(&self, line: &str) -> Option<String> {
        self.cached(|| self.cache_object(line), line, || self.bash(line))
    }

    /// The blob a command reads when exactly one of its words names a path (its last, a
    /// file) and it does not walk directories; else the tree.
    fn cache_object(&self, line: &str) -> Oid {
        let words = bash::split_words(line).unwrap_or_default();
        let walks = matches!(words.first().map(String::as_str), Some("find") | Some("ls"))
            || words
                .iter()
                .any(|w| w.starts_with('-') && w.contains('r') && !w.starts_with("--"));
        let paths: Vec<(String, Kind)> = words
            .iter()
            .skip(1)
            .filter_map(|w| self.kind_of(w))
            .collect();
        match (
            walks,
            paths.as_slice(),
            words.last().and_then(|w| self.kind_of(w)),
        ) {
            (false, [_], Some((path, Kind::File))) => self
                .snapshot
                .blob_id(&path)
                .unwrap_or_else(|| self.snapshot.tree_id()),
            _ => self.snapshot.tree_id(),
        }
    }

    /// Resolve a path argument (absolute, or relative to the root where commands run),
    /// folding `.` and `..` the way the kernel does for existing directories.
    pub fn resolve(&self, arg: &str) -> Resolved {
        let relative = if let Some(rest) = arg.strip_prefix(&self.root) {
            if !(rest.is_empty() || rest.starts_with('/')) {
                return Resolved::Outside;
            }
            rest.to_string()
        } else if arg.starts_with('/') {
            return Resolved::Outside;
        } else {
            format!("/{arg}")
        };
        let mut parts: Vec<&str> = Vec::new();
        for part in relative.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Resolved::Outside;
                    }
                }
                p => parts.push(p),
            }
        }
        Resolved::Inside(parts.join("/"))
    }

    /// What a path argument names inside the repository once links are followed (as every
    /// tool but `find` treats its operands): the real path and a file or directory.
    pub fn kind_of(&self, arg: &str) -> Option<(String, Kind)> {
        match self.resolve(arg) {
            Resolved::Inside(path) => self.snapshot.follow(&path),
            Resolved::Outside => None,
        }
    }

    /// Why a path argument names nothing, as the C library says it (for the tools' error
    /// lines): missing, a loop of links, or a file used as a directory.
    pub fn unresolved(&self, arg: &str) -> &'static str {
        match self.resolve(arg) {
            Resolved::Inside(path) => self.snapshot.unresolved(&path),
            Resolved::Outside => "No such file or directory",
        }
    }

    /// What a path argument itself is, a link not followed (`lstat`): its path and kind.
    pub fn lstat_of(&self, arg: &str) -> Option<(String, Kind)> {
        match self.resolve(arg) {
            Resolved::Inside(path) => self.snapshot.kind(&path).map(|k| (path, k)),
            Resolved::Outside => None,
        }
    }
}
