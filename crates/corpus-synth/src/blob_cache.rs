//! Decoded blobs shared by every snapshot of one repository. Neighbouring PRs share most of
//! their base tree and every variant of a PR reads the same files, so a blob is inflated once
//! instead of once per `grep -r`, `cat` or editor view. Bounded: past its budget the cache
//! starts over (what it holds never changes an answer, only how fast it comes).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use git2::{Oid, Repository};

/// Blobs larger than this share of the budget are read each time, never kept.
const LARGEST_SHARE: usize = 16;

pub struct BlobCache {
    blobs: Mutex<Blobs>,
    budget: usize,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

#[derive(Default)]
struct Blobs {
    map: HashMap<Oid, Arc<[u8]>>,
    bytes: usize,
}

impl BlobCache {
    /// A cache holding at most `budget` bytes of blob content.
    pub fn new(budget: usize) -> Self {
        Self {
            blobs: Mutex::new(Blobs::default()),
            budget,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The content of blob `id`, from the cache or read from `repo` (None when it is not a
    /// readable blob).
    pub fn get(&self, repo: &Repository, id: Oid) -> Option<Arc<[u8]>> {
        if let Some(found) = self.blobs.lock().ok()?.map.get(&id) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Some(found.clone());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let blob = repo.find_blob(id).ok()?;
        let content: Arc<[u8]> = Arc::from(blob.content());
        if content.len() <= self.budget / LARGEST_SHARE
            && let Ok(mut blobs) = self.blobs.lock()
        {
            if blobs.bytes + content.len() > self.budget {
                blobs.map.clear();
                blobs.bytes = 0;
            }
            blobs.bytes += content.len();
            blobs.map.insert(id, content.clone());
        }
        Some(content)
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.blobs.lock().map(|b| b.bytes).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_with(blobs: &[&[u8]]) -> (tempfile::TempDir, Repository, Vec<Oid>) {
        let dir = tempfile::tempdir().expect("tmp");
        let repo = Repository::init_bare(dir.path()).expect("init");
        let ids = blobs.iter().map(|b| repo.blob(b).expect("blob")).collect();
        (dir, repo, ids)
    }

    #[test]
    fn a_blob_is_read_once_and_the_budget_holds() {
        let (_dir, repo, ids) = repo_with(&[&[b'a'; 40], &[b'b'; 40], &[b'c'; 200]]);
        let cache = BlobCache::new(1_600);
        assert_eq!(cache.get(&repo, ids[0]).as_deref(), Some(&[b'a'; 40][..]));
        assert_eq!(cache.get(&repo, ids[0]).as_deref(), Some(&[b'a'; 40][..]));
        assert_eq!(cache.hits.load(Ordering::Relaxed), 1);
        assert_eq!(cache.misses.load(Ordering::Relaxed), 1);
        // Larger than a sixteenth of the budget: served, never kept.
        assert_eq!(cache.get(&repo, ids[2]).map(|b| b.len()), Some(200));
        assert_eq!(cache.bytes(), 40);
        cache.get(&repo, ids[1]);
        assert_eq!(cache.bytes(), 80);
        // Not a blob.
        assert!(cache.get(&repo, Oid::ZERO_SHA1).is_none());
    }

    #[test]
    fn past_its_budget_the_cache_starts_over() {
        let contents: Vec<Vec<u8>> = (0..20u8).map(|i| vec![b'a' + i; 60]).collect();
        let refs: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
        let (_dir, repo, ids) = repo_with(&refs);
        let cache = BlobCache::new(1_000);
        for (id, content) in ids.iter().zip(&contents) {
            assert_eq!(cache.get(&repo, *id).as_deref(), Some(content.as_slice()));
            assert!(cache.bytes() <= 1_000);
        }
        // 16 blobs fit; the 17th started the cache over.
        assert_eq!(cache.bytes(), 4 * 60);
        assert_eq!(
            cache.get(&repo, ids[0]).as_deref(),
            Some(contents[0].as_slice())
        );
        assert_eq!(cache.hits.load(Ordering::Relaxed), 0);
    }
}
