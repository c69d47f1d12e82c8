//! The waiting room of a stage: `_work/STAGE/` holds one folder per finished unit (its
//! tables' parts and `_done.json`) and the fingerprint they were made under. A unit folder
//! without `_done.json` is a unit that was killed midway: it is removed and redone.

use std::path::{Path, PathBuf};

use corpus_core::error::IoContext;
use corpus_core::hash::hex64;
use corpus_core::manifest::write_atomically;

use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::UnitDone;

const FINGERPRINT_FILE: &str = "_fingerprint";
const DONE_FILE: &str = "_done.json";
const TASKS_DIR: &str = "_tasks";

/// How one cluster task of a stage ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskOutcome {
    pub task: usize,
    pub tasks: usize,
    pub failed: bool,
    pub message: String,
}

pub struct UnitStore {
    pub dir: PathBuf,
}

impl UnitStore {
    /// Open the store of a stage; units made under another fingerprint are discarded.
    pub fn open(dir: &Path, fingerprint: &str) -> Result<Self> {
        // Cluster tasks of one stage start together: a lock beside the folder makes sure
        // only the first one clears stale units, never a sibling's fresh ones.
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).at("create directory", parent)?;
        }
        let lock_path = dir.with_extension("lock");
        let lock = std::fs::File::create(&lock_path).at("create", &lock_path)?;
        lock.lock().at("lock", &lock_path)?;
        let marker = dir.join(FINGERPRINT_FILE);
        let current = std::fs::read_to_string(&marker).ok();
        if current.as_deref() != Some(fingerprint) {
            if dir.exists() {
                std::fs::remove_dir_all(dir).at("clear stale units", dir)?;
            }
            std::fs::create_dir_all(dir).at("create directory", dir)?;
            write_atomically(&marker, fingerprint.as_bytes())?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// The folder of a unit: a readable prefix plus a hash, safe for any key.
    pub fn unit_dir(&self, key: &str) -> PathBuf {
        let readable: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .take(60)
            .collect();
        self.dir
            .join(format!("{readable}-{}", &hex64(key.as_bytes())[..8]))
    }

    pub fn done(&self, key: &str) -> Result<Option<UnitDone>> {
        let path = self.unit_dir(key).join(DONE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| StageError::Usage(format!("{}: corrupt marker: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(corpus_core::Error::io_path("read", &path, e).into()),
        }
    }

    /// A clean folder for a unit about to run.
    pub fn begin(&self, key: &str) -> Result<PathBuf> {
        let dir = self.unit_dir(key);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).at("clear interrupted unit", &dir)?;
        }
        std::fs::create_dir_all(&dir).at("create directory", &dir)?;
        Ok(dir)
    }

    /// Forget a unit (done or not): it runs again.
    pub fn forget(&self, key: &str) -> Result<()> {
        let dir = self.unit_dir(key);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).at("remove unit", &dir)?;
        }
        Ok(())
    }

    pub fn mark_done(&self, key: &str, done: &UnitDone) -> Result<()> {
        let text = serde_json::to_string_pretty(done)
            .map_err(|e| StageError::Usage(format!("serialize marker: {e}")))?;
        write_atomically(&self.unit_dir(key).join(DONE_FILE), text.as_bytes())?;
        Ok(())
    }

    /// The part files a finished unit wrote for `table`, in order.
    pub fn unit_parts(&self, key: &str, table: &str) -> Result<Vec<PathBuf>> {
        let dir = self.unit_dir(key);
        let mut parts = Vec::new();
        for entry in std::fs::read_dir(&dir).at("list", &dir)? {
            let entry = entry.at("list", &dir)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&format!("{table}-")) && name.ends_with(".parquet") {
                parts.push(entry.path());
            }
        }
        parts.sort();
        Ok(parts)
    }

    /// Partitions of `output` this unit wrote, ascending.
    pub fn unit_partitions(&self, key: &str, output: &str) -> Result<Vec<u32>> {
        let dir = self.unit_dir(key);
        let lead = format!("{output}@");
        let mut partitions = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(&dir).at("list", &dir)? {
            let entry = entry.at("list", &dir)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(rest) = name.strip_prefix(&lead)
                && name.ends_with(".parquet")
                && let Some(Ok(p)) = rest.split('-').next().map(str::parse::<u32>)
            {
                partitions.insert(p);
            }
        }
        Ok(partitions.into_iter().collect())
    }

    pub fn remove(&self) -> Result<()> {
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir).at("remove", &self.dir)?;
        }
        let lock = self.dir.with_extension("lock");
        if lock.exists() {
            std::fs::remove_file(&lock).at("remove", &lock)?;
        }
        Ok(())
    }

    /// Record how task `task` of `tasks` ended (`error`: None for success).
    pub fn mark_task(&self, task: usize, tasks: usize, error: Option<&str>) -> Result<()> {
        let dir = self.dir.join(TASKS_DIR);
        std::fs::create_dir_all(&dir).at("create directory", &dir)?;
        let stem = format!("task-{task:05}-of-{tasks:05}");
        let (write, remove) = if error.is_some() {
            ("failed", "done")
        } else {
            ("done", "failed")
        };
        let stale = dir.join(format!("{stem}.{remove}"));
        if stale.exists() {
            std::fs::remove_file(&stale).at("remove", &stale)?;
        }
        write_atomically(
            &dir.join(format!("{stem}.{write}")),
            error.unwrap_or("").as_bytes(),
        )?;
        Ok(())
    }

    /// Task outcomes recorded so far: (task, tasks, failed?, message).
    pub fn task_outcomes(&self) -> Vec<TaskOutcome> {
        let dir = self.dir.join(TASKS_DIR);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut out: Vec<TaskOutcome> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let (stem, state) = name.rsplit_once('.')?;
                let rest = stem.strip_prefix("task-")?;
                let (task, tasks) = rest.split_once("-of-")?;
                Some(TaskOutcome {
                    task: task.parse().ok()?,
                    tasks: tasks.parse().ok()?,
                    failed: state == "failed",
                    message: std::fs::read_to_string(e.path()).unwrap_or_default(),
                })
            })
            .collect();
        out.sort_by_key(|o| (o.tasks, o.task));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_units_are_cleared_and_current_ones_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let work = dir.path().join("_work/extract");
        let store = UnitStore::open(&work, "fp1").expect("open");
        let unit = store.begin("acme/widgets").expect("begin");
        std::fs::write(unit.join("patches-00000.parquet"), b"x").expect("write");
        store
            .mark_done("acme/widgets", &UnitDone::default())
            .expect("done");
        let again = UnitStore::open(&work, "fp1").expect("reopen");
        assert!(again.done("acme/widgets").expect("read").is_some());
        assert_eq!(
            again
                .unit_parts("acme/widgets", "patches")
                .expect("parts")
                .len(),
            1
        );
        let changed = UnitStore::open(&work, "fp2").expect("reopen changed");
        assert!(changed.done("acme/widgets").expect("read").is_none());
    }

    #[test]
    fn an_interrupted_unit_starts_clean() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = UnitStore::open(&dir.path().join("w"), "fp").expect("open");
        let unit = store.begin("a/b").expect("begin");
        std::fs::write(unit.join("patches-00000.parquet"), b"half").expect("write");
        let unit = store.begin("a/b").expect("begin again");
        assert_eq!(std::fs::read_dir(unit).expect("list").count(), 0);
    }

    #[test]
    fn unit_folders_are_safe_and_distinct() {
        let store = UnitStore {
            dir: PathBuf::from("/w"),
        };
        let a = store.unit_dir("unnamed:/srv/x y");
        let b = store.unit_dir("unnamed:/srv/x_y");
        assert_ne!(a, b);
        assert!(!a.to_string_lossy()[3..].contains(' '));
    }

    #[test]
    fn task_outcomes_replace_each_other() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = UnitStore::open(&dir.path().join("w"), "fp").expect("open");
        store.mark_task(1, 3, Some("boom")).expect("fail");
        store.mark_task(0, 3, None).expect("ok");
        let outcomes = store.task_outcomes();
        assert_eq!(outcomes.len(), 2);
        assert!(
            outcomes
                .iter()
                .any(|o| o.task == 1 && o.failed && o.message == "boom")
        );
        store.mark_task(1, 3, None).expect("retry ok");
        assert!(store.task_outcomes().iter().all(|o| !o.failed));
    }
}
