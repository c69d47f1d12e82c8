//! A run directory on object storage, worked on through a scratch copy on the node's disk.
//!
//! Stages read and write the scratch copy exactly as they do a local run. The copy is
//! `pull`ed from the store before a command and `publish`ed at each commit point the runner
//! names (a unit's folder when its marker is written, a stage's tables after its barrier,
//! the report). Publishing keeps the commit order of the local run without renames: first
//! the commit file of every folder that changes (`_manifest.json`, `_done.json`) is deleted,
//! then data files are uploaded and stale ones deleted, then the commit files are written
//! last, each with a conditional put (`If-None-Match: *`). A reader of the store therefore
//! sees a table only through a manifest whose parts are all there, a killed node leaves at
//! most invisible files, and a retried request rewrites the same bytes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use crate::error::{Result, StoreError};
use crate::location::RemoteUrl;
use crate::state::{Known, LocalFile, SyncState, is_synced, local_files, modified_nanos};

/// Files that make a folder's other files visible: written last, removed first.
const COMMIT_FILES: &[&str] = &[corpus_core::manifest::MANIFEST_FILE, "_done.json"];
/// Requests in flight at once while uploading or downloading.
const CONCURRENCY: usize = 8;
/// Files above this size go up in parts.
const MULTIPART_FROM: u64 = 32 << 20;

pub struct RemoteRun {
    remote: RemoteUrl,
    store: Arc<dyn ObjectStore>,
    local: PathBuf,
    runtime: tokio::runtime::Runtime,
    state: Mutex<SyncState>,
}

/// What a pull lists in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole run.
    Everything,
    /// The run's top-level files, every file under `folders` and the single `files` (all
    /// run-relative, no trailing slash).
    Within {
        folders: Vec<String>,
        files: Vec<String>,
    },
}

impl Scope {
    /// Whether a run-relative path is one the scope lists.
    pub fn covers(&self, relative: &str) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Within { folders, files } => {
                !relative.contains('/')
                    || files.iter().any(|f| f == relative)
                    || folders.iter().any(|folder| {
                        relative
                            .strip_prefix(folder.as_str())
                            .is_some_and(|rest| rest.starts_with('/'))
                    })
            }
        }
    }
}

/// What one `pull` or `publish` moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    pub uploaded: u64,
    pub downloaded: u64,
    pub deleted: u64,
    pub bytes: u64,
}

impl std::fmt::Debug for RemoteRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RemoteRun({} via {})", self.remote, self.local.display())
    }
}

impl RemoteRun {
    /// The run at `remote`, with its scratch copy in `local`.
    pub fn open(remote: RemoteUrl, local: &Path) -> Result<Self> {
        let store = crate::open::open_store(&remote)?;
        Self::with_store(remote, store, local)
    }

    pub fn with_store(
        remote: RemoteUrl,
        store: Arc<dyn ObjectStore>,
        local: &Path,
    ) -> Result<Self> {
        std::fs::create_dir_all(local)
            .map_err(|e| corpus_core::Error::io_path("create directory", local, e))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| StoreError::Config(format!("start the object-store runtime: {e}")))?;
        Ok(Self {
            state: Mutex::new(SyncState::load(local)),
            remote,
            store,
            local: local.to_path_buf(),
            runtime,
        })
    }

    pub fn remote(&self) -> &RemoteUrl {
        &self.remote
    }

    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The scratch copy.
    pub fn local(&self) -> &Path {
        &self.local
    }

    fn location(&self, relative: &str) -> StorePath {
        let prefix = self.remote.prefix();
        if prefix.is_empty() {
            StorePath::from(relative)
        } else {
            StorePath::from(format!("{prefix}/{relative}"))
        }
    }

    /// Bring the scratch copy up to the store for the files `wanted` accepts (by run-relative
    /// path): new and changed files are downloaded, files the store no longer has and that
    /// were not changed here are removed.
    pub fn pull(&self, wanted: &dyn Fn(&str) -> bool) -> Result<Transfer> {
        self.pull_within(&Scope::Everything, wanted)
    }

    /// `pull`, listing only what `scope` names: a job of one stage need not list the units
    /// of every other stage (at 10^5 units, hundreds of list requests each).
    pub fn pull_within(&self, scope: &Scope, wanted: &dyn Fn(&str) -> bool) -> Result<Transfer> {
        let mut state = self.lock();
        let result = self
            .runtime
            .block_on(self.pull_async(&mut state, scope, wanted));
        state.save(&self.local)?;
        result
    }

    /// Make the files under `relative` (a file or folder of the run; "" for all) durable in
    /// the store, commit files last.
    pub fn publish(&self, relative: &str) -> Result<Transfer> {
        let mut state = self.lock();
        let result = self
            .runtime
            .block_on(self.publish_async(&mut state, relative));
        state.save(&self.local)?;
        result
    }

    /// Every file of the run in the store: run-relative path, size and entity tag.
    pub fn list(&self) -> Result<Vec<(String, u64, Option<String>)>> {
        self.runtime.block_on(self.list_async())
    }

    /// The files of the run that `scope` names, as `list` gives them.
    pub fn list_within(&self, scope: &Scope) -> Result<Vec<(String, u64, Option<String>)>> {
        self.runtime.block_on(self.list_scope(scope))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SyncState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn list_async(&self) -> Result<Vec<(String, u64, Option<String>)>> {
        let prefix = self.remote.prefix();
        let root = (!prefix.is_empty()).then(|| StorePath::from(prefix.as_str()));
        let objects: Vec<_> = self
            .store
            .list(root.as_ref())
            .try_collect()
            .await
            .map_err(|e| StoreError::request("list", &self.remote.to_string(), e))?;
        let mut out = Vec::with_capacity(objects.len());
        for object in objects {
            let full = object.location.as_ref();
            let relative = if prefix.is_empty() {
                full.to_string()
            } else {
                match full.strip_prefix(&format!("{prefix}/")) {
                    Some(rest) => rest.to_string(),
                    None => continue,
                }
            };
            out.push((relative, object.size, object.e_tag));
        }
        out.sort();
        Ok(out)
    }

    /// What `scope` names in the store, as `list` gives it.
    async fn list_scope(&self, scope: &Scope) -> Result<Vec<(String, u64, Option<String>)>> {
        let Scope::Within { folders, files } = scope else {
            return self.list_async().await;
        };
        let what = self.remote.to_string();
        let prefix = self.remote.prefix();
        let relative_of = |full: &str| -> Option<String> {
            if prefix.is_empty() {
                Some(full.to_string())
            } else {
                full.strip_prefix(&format!("{prefix}/")).map(str::to_string)
            }
        };
        let mut out = Vec::new();
        // The run's own files (recipe, report): one delimited listing of its root.
        let root = (!prefix.is_empty()).then(|| StorePath::from(prefix.as_str()));
        let top = self
            .store
            .list_with_delimiter(root.as_ref())
            .await
            .map_err(|e| StoreError::request("list", &what, e))?;
        for object in top.objects {
            if let Some(relative) = relative_of(object.location.as_ref()) {
                out.push((relative, object.size, object.e_tag));
            }
        }
        for folder in folders {
            let objects: Vec<_> = self
                .store
                .list(Some(&self.location(folder)))
                .try_collect()
                .await
                .map_err(|e| StoreError::request("list", &what, e))?;
            for object in objects {
                if let Some(relative) = relative_of(object.location.as_ref()) {
                    out.push((relative, object.size, object.e_tag));
                }
            }
        }
        for file in files {
            match self.store.head(&self.location(file)).await {
                Ok(object) => out.push((file.clone(), object.size, object.e_tag)),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(StoreError::request("read", &self.remote.join(file), e)),
            }
        }
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        Ok(out)
    }

    async fn pull_async(
        &self,
        state: &mut SyncState,
        scope: &Scope,
        wanted: &dyn Fn(&str) -> bool,
    ) -> Result<Transfer> {
        let mut transfer = Transfer::default();
        let remote: Vec<_> = self
            .list_scope(scope)
            .await?
            .into_iter()
            .filter(|(relative, _, _)| is_synced(relative) && wanted(relative))
            .collect();
        let present: std::collections::BTreeSet<&str> =
            remote.iter().map(|(r, _, _)| r.as_str()).collect();

        // Files the store lost since we knew them, unchanged here: gone there, gone here.
        let vanished: Vec<String> = state
            .files
            .keys()
            .filter(|r| scope.covers(r) && wanted(r) && !present.contains(r.as_str()))
            .cloned()
            .collect();
        for relative in vanished {
            let path = self.local.join(&relative);
            if let Some(known) = state.files.get(&relative)
                && local_unchanged(&path, known)
            {
                let _ = std::fs::remove_file(&path);
                transfer.deleted += 1;
            }
            state.files.remove(&relative);
        }

        let mut downloads = Vec::new();
        for (relative, size, e_tag) in &remote {
            let path = self.local.join(relative);
            let current = state.files.get(relative).is_some_and(|known| {
                known.size == *size
                    && e_tag.is_some()
                    && known.e_tag == *e_tag
                    && local_unchanged(&path, known)
            });
            if !current {
                downloads.push((relative.clone(), path, e_tag.clone()));
            }
        }
        let results: Vec<(String, Option<Known>)> = futures::stream::iter(downloads)
            .map(|(relative, path, e_tag)| async move {
                let known = self.download(&relative, &path, e_tag).await?;
                Ok::<_, StoreError>((relative, known))
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        // A file another node removed between the listing and the download is gone.
        for (relative, known) in results
            .into_iter()
            .filter_map(|(relative, known)| Some((relative, known?)))
        {
            transfer.downloaded += 1;
            transfer.bytes += known.size;
            state.files.insert(relative, known);
        }
        Ok(transfer)
    }

    async fn download(
        &self,
        relative: &str,
        path: &Path,
        e_tag: Option<String>,
    ) -> Result<Option<Known>> {
        let what = self.remote.join(relative);
        let result = match self.store.get(&self.location(relative)).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(StoreError::request("download", &what, e)),
        };
        let e_tag = result.meta.e_tag.clone().or(e_tag);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| corpus_core::Error::io_path("create directory", parent, e))?;
        }
        let tmp = temporary_beside(path);
        let mut file = std::fs::File::create(&tmp)
            .map_err(|e| corpus_core::Error::io_path("create", &tmp, e))?;
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        let mut size = 0u64;
        let mut stream = result.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| StoreError::request("download", &what, e))?;
            use std::io::Write;
            file.write_all(&chunk)
                .map_err(|e| corpus_core::Error::io_path("write", &tmp, e))?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
        }
        drop(file);
        std::fs::rename(&tmp, path)
            .map_err(|e| corpus_core::Error::io_path("rename into place", path, e))?;
        let meta =
            std::fs::metadata(path).map_err(|e| corpus_core::Error::io_path("read", path, e))?;
        Ok(Some(Known {
            size,
            modified: modified_nanos(&meta),
            xxh3: format!("{:016x}", hasher.digest()),
            e_tag,
        }))
    }

    async fn publish_async(&self, state: &mut SyncState, relative: &str) -> Result<Transfer> {
        let mut transfer = Transfer::default();
        let files = local_files(&self.local, relative)?;
        let under = |r: &str| {
            relative.is_empty() || r == relative || r.starts_with(&format!("{relative}/"))
        };
        let mut changed: Vec<(LocalFile, String)> = Vec::new();
        for file in files.iter() {
            let known = state.files.get(&file.relative);
            if let Some(known) = known
                && known.size == file.size
                && known.modified == file.modified
            {
                continue;
            }
            let sum = corpus_core::hash::file_hex64(&file.path)
                .map_err(|e| corpus_core::Error::io_path("read", &file.path, e))?;
            if let Some(known) = state.files.get_mut(&file.relative)
                && known.size == file.size
                && known.xxh3 == sum
            {
                known.modified = file.modified;
                continue;
            }
            changed.push((file.clone(), sum));
        }
        let here: std::collections::BTreeSet<&str> =
            files.iter().map(|f| f.relative.as_str()).collect();
        let removed: Vec<String> = state
            .files
            .keys()
            .filter(|r| under(r) && !here.contains(r.as_str()))
            .cloned()
            .collect();
        if changed.is_empty() && removed.is_empty() {
            return Ok(transfer);
        }

        // 1. Folders that change (and the folders above them) lose their commit file first;
        // one still here is written again last.
        let mut touched: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for r in changed
            .iter()
            .map(|(f, _)| f.relative.as_str())
            .chain(removed.iter().map(String::as_str))
        {
            let mut folder = folder_of(r);
            loop {
                touched.insert(folder.to_string());
                if folder.is_empty() {
                    break;
                }
                folder = folder_of(folder);
            }
        }
        let mut recommit: Vec<LocalFile> = Vec::new();
        for folder in &touched {
            for name in COMMIT_FILES {
                let relative = join(folder, name);
                let local = files.iter().find(|f| f.relative == relative);
                if local.is_none() && !state.files.contains_key(&relative) {
                    continue;
                }
                self.delete(&relative).await?;
                if state.files.remove(&relative).is_some() && local.is_none() {
                    transfer.deleted += 1;
                }
                if let Some(file) = local {
                    recommit.push(file.clone());
                }
            }
        }

        // 2. Data files up, stale ones removed.
        let data: Vec<_> = changed
            .into_iter()
            .filter(|(f, _)| !is_commit_file(&f.relative))
            .collect();
        let uploaded: Vec<(String, Known)> = futures::stream::iter(data)
            .map(|(file, sum)| async move {
                let e_tag = self.upload(&file).await?;
                Ok::<_, StoreError>((file.relative.clone(), known_of(&file, sum, e_tag)))
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        for (relative, known) in uploaded {
            transfer.uploaded += 1;
            transfer.bytes += known.size;
            state.files.insert(relative, known);
        }
        for relative in removed.iter().filter(|r| !is_commit_file(r)) {
            self.delete(relative).await?;
            state.files.remove(relative);
            transfer.deleted += 1;
        }

        // 3. Commit files last, created only if absent.
        for file in recommit {
            let (e_tag, sum) = self.commit(&file).await?;
            transfer.uploaded += 1;
            transfer.bytes += file.size;
            state
                .files
                .insert(file.relative.clone(), known_of(&file, sum, e_tag));
        }
        Ok(transfer)
    }

    /// Upload a data file (overwriting), in parts when it is large.
    async fn upload(&self, file: &LocalFile) -> Result<Option<String>> {
        let what = self.remote.join(&file.relative);
        let location = self.location(&file.relative);
        if file.size >= MULTIPART_FROM {
            return self.upload_in_parts(file, &location, &what).await;
        }
        let bytes = std::fs::read(&file.path)
            .map_err(|e| corpus_core::Error::io_path("read", &file.path, e))?;
        self.store
            .put(&location, PutPayload::from(bytes))
            .await
            .map(|put| put.e_tag)
            .map_err(|e| StoreError::request("upload", &what, e))
    }

    async fn upload_in_parts(
        &self,
        file: &LocalFile,
        location: &StorePath,
        what: &str,
    ) -> Result<Option<String>> {
        use std::io::Read;
        let upload = self
            .store
            .put_multipart(location)
            .await
            .map_err(|e| StoreError::request("upload", what, e))?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, 16 << 20);
        let mut reader = std::fs::File::open(&file.path)
            .map_err(|e| corpus_core::Error::io_path("open", &file.path, e))?;
        let mut buffer = vec![0u8; 8 << 20];
        loop {
            let n = reader
                .read(&mut buffer)
                .map_err(|e| corpus_core::Error::io_path("read", &file.path, e))?;
            if n == 0 {
                break;
            }
            writer
                .wait_for_capacity(CONCURRENCY)
                .await
                .map_err(|e| StoreError::request("upload", what, e))?;
            writer.write(&buffer[..n]);
        }
        let put = writer
            .finish()
            .await
            .map_err(|e| StoreError::request("upload", what, e))?;
        Ok(put.e_tag)
    }

    /// Write a commit file only if the store has none: a retried request, or a second
    /// writer that committed the same bytes, is success; different bytes are a conflict.
    /// Returns the entity tag and the checksum of the bytes committed.
    async fn commit(&self, file: &LocalFile) -> Result<(Option<String>, String)> {
        let what = self.remote.join(&file.relative);
        let location = self.location(&file.relative);
        let ours = std::fs::read(&file.path)
            .map_err(|e| corpus_core::Error::io_path("read", &file.path, e))?;
        let sum = corpus_core::hash::hex64(&ours);
        let create = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        let payload = PutPayload::from(ours.clone());
        let e_tag = match self.store.put_opts(&location, payload, create).await {
            Ok(put) => put.e_tag,
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => {
                let existing = self
                    .store
                    .get(&location)
                    .await
                    .map_err(|e| StoreError::request("read", &what, e))?;
                let e_tag = existing.meta.e_tag.clone();
                let theirs = existing
                    .bytes()
                    .await
                    .map_err(|e| StoreError::request("read", &what, e))?;
                if theirs.as_ref() != ours.as_slice() {
                    return Err(StoreError::Conflict(what));
                }
                e_tag
            }
            Err(object_store::Error::NotImplemented { .. }) => {
                warn_once_unconditional(&self.remote);
                self.upload(file).await?
            }
            Err(e) => return Err(StoreError::request("commit", &what, e)),
        };
        Ok((e_tag, sum))
    }

    async fn delete(&self, relative: &str) -> Result<()> {
        match self.store.delete(&self.location(relative)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StoreError::request(
                "delete",
                &self.remote.join(relative),
                e,
            )),
        }
    }
}

impl corpus_stage::run_dir::Publisher for RemoteRun {
    fn publish(&self, relative: &str) -> corpus_stage::Result<()> {
        let transfer = RemoteRun::publish(self, relative)?;
        if transfer != Transfer::default() {
            tracing::debug!(
                "published {relative}: {} up, {} deleted, {} bytes",
                transfer.uploaded,
                transfer.deleted,
                transfer.bytes
            );
        }
        Ok(())
    }
}

/// A store without conditional writes still works for one writer per run; say so once.
fn warn_once_unconditional(remote: &RemoteUrl) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            "{remote}: the store does not support conditional writes; manifests are written \
             last but unguarded, so never let two runs write this run directory at once"
        );
    });
}

fn is_commit_file(relative: &str) -> bool {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    COMMIT_FILES.contains(&name)
}

fn folder_of(relative: &str) -> &str {
    relative
        .rsplit_once('/')
        .map(|(folder, _)| folder)
        .unwrap_or("")
}

fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    }
}

fn known_of(file: &LocalFile, xxh3: String, e_tag: Option<String>) -> Known {
    Known {
        size: file.size,
        modified: file.modified,
        xxh3,
        e_tag,
    }
}

fn local_unchanged(path: &Path, known: &Known) -> bool {
    std::fs::metadata(path)
        .map(|meta| meta.len() == known.size && modified_nanos(&meta) == known.modified)
        .unwrap_or(false)
}

fn temporary_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.pull.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::RunLocation;

    fn remote_url() -> RemoteUrl {
        match RunLocation::parse(Path::new("memory://bucket/runs/demo")) {
            Ok(RunLocation::Remote(remote)) => remote,
            other => panic!("not remote: {other:?}"),
        }
    }

    /// Two nodes' scratch copies of one run in one in-memory store.
    fn two_nodes() -> (tempfile::TempDir, tempfile::TempDir, RemoteRun, RemoteRun) {
        let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let (a, b) = (
            tempfile::tempdir().expect("a"),
            tempfile::tempdir().expect("b"),
        );
        let node_a = RemoteRun::with_store(remote_url(), store.clone(), a.path()).expect("a");
        let node_b = RemoteRun::with_store(remote_url(), store, b.path()).expect("b");
        (a, b, node_a, node_b)
    }

    fn write(root: &Path, relative: &str, text: &str) {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn files(root: &Path) -> Vec<(String, String)> {
        local_files(root, "")
            .expect("walk")
            .into_iter()
            .map(|f| {
                let text = std::fs::read_to_string(&f.path).expect("read");
                (f.relative, text)
            })
            .collect()
    }

    #[test]
    fn a_published_run_pulls_into_another_scratch_copy_unchanged() {
        let (a, b, writer, reader) = two_nodes();
        write(a.path(), "recipe.toml", "name = 'demo'");
        write(a.path(), "tables/patches/part-00000.parquet", "rows");
        write(a.path(), "tables/patches/_manifest.json", "{1}");
        write(a.path(), "mirrors/x/HEAD", "scratch, never synced");
        write(a.path(), "tables/patches/.part.tmp", "temporary");
        let sent = writer.publish("").expect("publish");
        assert_eq!(sent.uploaded, 3);
        assert_eq!(writer.publish("").expect("again"), Transfer::default());

        reader.pull(&|_| true).expect("pull");
        let pulled = files(b.path());
        assert_eq!(
            pulled,
            vec![
                ("recipe.toml".to_string(), "name = 'demo'".to_string()),
                ("tables/patches/_manifest.json".into(), "{1}".into()),
                ("tables/patches/part-00000.parquet".into(), "rows".into()),
            ]
        );

        // A rewritten table replaces its parts; a part gone here goes there too, and a
        // reader that did not touch its copy follows.
        std::fs::remove_file(a.path().join("tables/patches/part-00000.parquet")).expect("rm");
        write(a.path(), "tables/patches/part-00001.parquet", "new rows");
        write(a.path(), "tables/patches/_manifest.json", "{2}");
        let sent = writer.publish("tables").expect("publish");
        assert_eq!((sent.uploaded, sent.deleted), (2, 1));
        reader.pull(&|_| true).expect("pull");
        assert_eq!(
            files(b.path())[1..],
            [
                (
                    "tables/patches/_manifest.json".to_string(),
                    "{2}".to_string()
                ),
                (
                    "tables/patches/part-00001.parquet".into(),
                    "new rows".into()
                ),
            ]
        );
        // Unchanged files are not fetched again.
        assert_eq!(reader.pull(&|_| true).expect("pull").downloaded, 0);
    }

    #[test]
    fn a_scoped_pull_lists_and_keeps_only_what_its_scope_names() {
        let (a, b, node_a, node_b) = two_nodes();
        for relative in [
            "recipe.toml",
            "tables/patches/_manifest.json",
            "_work/format/u1/_done.json",
            "_work/extract/u1/_done.json",
            "logs/slurm-jobs.json",
            "logs/extract-0.out",
        ] {
            write(a.path(), relative, relative);
        }
        node_a.publish("").expect("publish");
        // Node b had pulled everything before; a scoped pull lists one room.
        node_b.pull(&|_| true).expect("pull all");
        let scope = Scope::Within {
            folders: vec!["tables".into(), "_work/format".into()],
            files: vec!["logs/slurm-jobs.json".into()],
        };
        let listed: Vec<String> = node_b
            .list_within(&scope)
            .expect("list")
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(
            listed,
            [
                "_work/format/u1/_done.json",
                "logs/slurm-jobs.json",
                "recipe.toml",
                "tables/patches/_manifest.json"
            ]
        );
        // A file outside the scope is not taken for one the store lost.
        std::fs::remove_dir_all(a.path().join("_work/format")).expect("rm");
        node_a.publish("").expect("publish");
        node_b.pull_within(&scope, &|_| true).expect("scoped pull");
        assert!(!b.path().join("_work/format/u1/_done.json").exists());
        assert!(b.path().join("_work/extract/u1/_done.json").exists());
        assert!(b.path().join("logs/extract-0.out").exists());
        assert!(scope.covers("report.json") && !scope.covers("logs/extract-0.out"));
        assert!(!scope.covers("_work/formatter/x") && scope.covers("_work/format/x"));
    }

    #[test]
    fn two_nodes_publish_their_own_units_without_removing_each_others() {
        let (a, b, node_a, node_b) = two_nodes();
        write(a.path(), "_work/extract/u1/patches-0.parquet", "a");
        write(a.path(), "_work/extract/u1/_done.json", "{}");
        write(b.path(), "_work/extract/u2/patches-0.parquet", "b");
        write(b.path(), "_work/extract/u2/_done.json", "{}");
        node_a.publish("_work/extract").expect("a");
        node_b.publish("_work/extract").expect("b");
        let listed: Vec<String> = node_a
            .list()
            .expect("list")
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(listed.len(), 4, "{listed:?}");
        // The barrier node pulls both, removes the units, and the store follows.
        node_a.pull(&|_| true).expect("pull");
        std::fs::remove_dir_all(a.path().join("_work/extract")).expect("rm");
        node_a.publish("").expect("publish");
        assert!(node_a.list().expect("list").is_empty());
    }

    #[test]
    fn a_commit_file_someone_else_wrote_differently_is_a_conflict_and_the_same_is_not() {
        let (a, b, node_a, node_b) = two_nodes();
        write(a.path(), "tables/t/_manifest.json", "{same}");
        write(b.path(), "tables/t/_manifest.json", "{same}");
        node_a.publish("").expect("a");
        // B's copy was never pulled, so B does not delete A's manifest first: its create
        // finds the same bytes, which is success (a retried request looks the same).
        let file = local_files(b.path(), "tables/t/_manifest.json").expect("walk");
        node_b
            .runtime
            .block_on(node_b.commit(&file[0]))
            .expect("same bytes");
        write(b.path(), "tables/t/_manifest.json", "{different}");
        let file = local_files(b.path(), "tables/t/_manifest.json").expect("walk");
        let err = node_b
            .runtime
            .block_on(node_b.commit(&file[0]))
            .expect_err("conflict");
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert!(
            err.to_string()
                .contains("memory://bucket/runs/demo/tables/t/_manifest.json")
        );
    }
}
