//! What the scratch copy knows of the store: for every file it pulled or pushed, its size,
//! modification time and checksum here and its entity tag there. A three-way comparison
//! (store, scratch, last known) then tells a new remote file from a deleted local one, so
//! several nodes can share a run, each publishing only what it wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Kept in the scratch copy's root; a name starting with `.` is never synced.
pub const STATE_FILE: &str = ".swe-corpus-sync.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Known {
    pub size: u64,
    /// Modification time of the local copy (nanoseconds since the epoch): unchanged size
    /// and time mean unchanged contents, so the checksum is not recomputed.
    pub modified: u64,
    pub xxh3: String,
    pub e_tag: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SyncState {
    pub files: BTreeMap<String, Known>,
}

impl SyncState {
    /// The state saved in `root`; empty when there is none or it cannot be read (everything
    /// is then compared by checksum once more, which is slower but never wrong).
    pub fn load(root: &Path) -> Self {
        std::fs::read(root.join(STATE_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, root: &Path) -> Result<()> {
        let text = serde_json::to_vec(self).map_err(|e| {
            crate::error::StoreError::Core(corpus_core::Error::Internal(format!(
                "serialize the sync state: {e}"
            )))
        })?;
        std::fs::create_dir_all(root)
            .map_err(|e| corpus_core::Error::io_path("create directory", root, e))?;
        corpus_core::manifest::write_atomically(&root.join(STATE_FILE), &text)?;
        Ok(())
    }
}

/// A local file as the comparison sees it.
#[derive(Debug, Clone)]
pub struct LocalFile {
    pub relative: String,
    pub path: PathBuf,
    pub size: u64,
    pub modified: u64,
}

/// Whether a run-relative path is synced: not a temporary or hidden file, not the node's
/// scratch (mirrors, the mirror budget's per-repository scratch runs).
pub fn is_synced(relative: &str) -> bool {
    let mut parts = relative.split('/');
    let first = parts.next().unwrap_or("");
    if first == "mirrors" {
        return false;
    }
    if relative.starts_with("_work/mirror_scratch/") || relative == "_work/mirror_scratch" {
        return false;
    }
    // A stage's unit lock (`_work/STAGE.lock`) coordinates processes on one node only.
    if relative.starts_with("_work/") && relative.ends_with(".lock") {
        return false;
    }
    !relative.split('/').any(|part| part.starts_with('.'))
}

/// Every synced file under `root/relative` (a file or a folder), in path order.
pub fn local_files(root: &Path, relative: &str) -> Result<Vec<LocalFile>> {
    let mut out = Vec::new();
    let start = if relative.is_empty() {
        root.to_path_buf()
    } else {
        root.join(relative)
    };
    walk(root, &start, &mut out)?;
    out.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(out)
}

fn walk(root: &Path, path: &Path, out: &mut Vec<LocalFile>) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(corpus_core::Error::io_path("read", path, e).into()),
    };
    let Some(relative) = relative_of(root, path) else {
        return Ok(());
    };
    if !relative.is_empty() && !is_synced(&relative) {
        return Ok(());
    }
    if meta.is_dir() {
        let entries =
            std::fs::read_dir(path).map_err(|e| corpus_core::Error::io_path("list", path, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| corpus_core::Error::io_path("list", path, e))?;
            walk(root, &entry.path(), out)?;
        }
    } else if meta.is_file() {
        out.push(LocalFile {
            relative,
            path: path.to_path_buf(),
            size: meta.len(),
            modified: modified_nanos(&meta),
        });
    }
    Ok(())
}

pub fn modified_nanos(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// `path` relative to `root` with `/` separators.
pub fn relative_of(root: &Path, path: &Path) -> Option<String> {
    let rest = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rest
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_and_temporaries_are_not_synced() {
        assert!(is_synced("tables/patches/part-00000.parquet"));
        assert!(is_synced("_work/extract/a/_done.json"));
        assert!(is_synced("_work/mirrors/owner+name.json"));
        assert!(!is_synced("mirrors/owner+name/HEAD"));
        assert!(!is_synced(
            "_work/mirror_scratch/x/tables/patches/part-00000.parquet"
        ));
        assert!(!is_synced("tables/patches/._manifest.json.1.0.tmp"));
        assert!(!is_synced(STATE_FILE));
    }
}
