//! The crawl's response cache: one JSON file per API URL holding the raw body, the ETag and
//! the next-page link GitHub sent. It makes a re-crawl cheap (conditional requests), a killed
//! crawl resume where it stopped, and `offline` rebuild the tables with no request at all.
//! It lives in corpus-core (no network) so the demo generator can write a recorded cache.
//! Nothing secret goes in: URLs are relative to the API base, and no request header is kept.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One response as GitHub sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// Path and query relative to the API base (`/repos/o/n/pulls?state=closed&page=2`).
    pub url: String,
    pub status: u16,
    #[serde(default)]
    pub etag: Option<String>,
    /// The `rel="next"` link, relative to the API base.
    #[serde(default)]
    pub next: Option<String>,
    /// Where a redirect pointed, relative to the API base.
    #[serde(default)]
    pub location: Option<String>,
    /// Unix seconds when the body was last confirmed (200 or 304).
    pub fetched_at: i64,
    /// The raw body (JSON for 200s).
    pub body: String,
}

/// The cache folder. Files are `KEY[0..2]/KEY.json` with KEY the xxh3-128 of the URL.
#[derive(Debug, Clone)]
pub struct ResponseCache {
    dir: PathBuf,
}

impl ResponseCache {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, url: &str) -> PathBuf {
        let key = crate::hash::id128(url.as_bytes());
        self.dir.join(&key[..2]).join(format!("{key}.json"))
    }

    /// The cached response for `url`, if any. A damaged file counts as absent (it is
    /// fetched again), so a crash mid-write never poisons the crawl.
    pub fn get(&self, url: &str) -> Result<Option<CacheEntry>> {
        let path = self.path_of(url);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io_path("read", &path, e)),
        };
        Ok(serde_json::from_str::<CacheEntry>(&text)
            .ok()
            .filter(|entry| entry.url == url))
    }

    /// Store a response (written to a temporary file of its own, then renamed into place:
    /// two units asking the same URL at once each rename a whole file, the last one wins).
    pub fn put(&self, entry: &CacheEntry) -> Result<()> {
        let path = self.path_of(&entry.url);
        let dir = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(dir).map_err(|e| Error::io_path("create", dir, e))?;
        let tmp = crate::manifest::unique_temporary(&path);
        let text = serde_json::to_string(entry)
            .map_err(|e| Error::Internal(format!("cache entry: {e}")))?;
        std::fs::write(&tmp, text).map_err(|e| Error::io_path("write", &tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io_path("rename", &path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_damaged_files_count_as_absent() {
        let dir = tempfile::tempdir().expect("tmp");
        let cache = ResponseCache::new(dir.path());
        let entry = CacheEntry {
            url: "/repos/a/b/pulls?page=2".into(),
            status: 200,
            etag: Some("\"abc\"".into()),
            next: Some("/repos/a/b/pulls?page=3".into()),
            location: None,
            fetched_at: 1,
            body: "[]".into(),
        };
        cache.put(&entry).expect("put");
        assert_eq!(cache.get(&entry.url).expect("get"), Some(entry.clone()));
        assert_eq!(cache.get("/other").expect("get"), None);
        std::fs::write(cache.path_of(&entry.url), "{trunc").expect("damage");
        assert_eq!(cache.get(&entry.url).expect("get"), None);
    }

    #[test]
    fn threads_writing_one_url_at_once_never_collide() {
        let dir = tempfile::tempdir().expect("tmp");
        let cache = ResponseCache::new(dir.path());
        let entry = |n: usize| CacheEntry {
            url: "/repos/a/b".into(),
            status: 200,
            etag: None,
            next: None,
            location: None,
            fetched_at: n as i64,
            body: format!("{{\"n\": {n}}}"),
        };
        std::thread::scope(|scope| {
            for t in 0..8 {
                let cache = &cache;
                scope.spawn(move || {
                    for i in 0..50 {
                        cache.put(&entry(t * 100 + i)).expect("put");
                    }
                });
            }
        });
        let kept = cache.get("/repos/a/b").expect("get").expect("an entry");
        assert_eq!(kept, entry(kept.fetched_at as usize));
        let leftovers: Vec<_> =
            std::fs::read_dir(cache.path_of("/repos/a/b").parent().expect("dir"))
                .expect("list")
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
