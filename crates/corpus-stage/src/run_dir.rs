//! The run directory (docs/architecture.md): `recipe.toml`, `tables/NAME/`, `exports/`, `logs/`,
//! `report.json`, plus `_work/` where units of unfinished stages wait for their barrier.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use corpus_core::error::IoContext;
use corpus_core::recipe::Recipe;

use crate::error::Result;

#[derive(Clone)]
pub struct RunDir {
    pub root: PathBuf,
    /// Where committed files go besides `root`, for a run on object storage (`root` is then
    /// the node's scratch copy).
    publisher: Option<Arc<dyn Publisher>>,
    /// The run's URL when it lives in an object store: what cluster jobs are given.
    location: Option<String>,
}

/// Makes a run's files durable somewhere else at each commit point the runner names: a
/// unit's folder once its marker is written, the tables after a barrier, the report.
pub trait Publisher: Send + Sync {
    /// Publish the files under `relative` (a path under the run's root, `/`-separated; ""
    /// for the whole run), commit markers last.
    fn publish(&self, relative: &str) -> Result<()>;
}

impl std::fmt::Debug for RunDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunDir")
            .field("root", &self.root)
            .field("published", &self.publisher.is_some())
            .finish()
    }
}

impl RunDir {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            publisher: None,
            location: None,
        }
    }

    /// A run whose home is `url` (an object store); `root` is this node's copy of it.
    pub fn with_location(mut self, url: String) -> Self {
        self.location = Some(url);
        self
    }

    /// The run's URL when it lives in an object store; `None` for a local run.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    /// A run whose committed files `publisher` also makes durable.
    pub fn with_publisher(mut self, publisher: Arc<dyn Publisher>) -> Self {
        self.publisher = Some(publisher);
        self
    }

    /// Publish `path` (under the root) if this run has a publisher; nothing otherwise.
    pub fn publish(&self, path: &Path) -> Result<()> {
        let Some(publisher) = &self.publisher else {
            return Ok(());
        };
        let relative = path.strip_prefix(&self.root).unwrap_or(path);
        let relative: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        publisher.publish(&relative.join("/"))
    }

    /// `runs/<recipe name>` under the current directory.
    pub fn default_for(recipe: &Recipe) -> Self {
        Self::new(&Path::new("runs").join(&recipe.name))
    }

    /// `runs/latest`, the run started last.
    pub fn latest() -> PathBuf {
        Path::new("runs").join("latest")
    }

    pub fn tables(&self) -> PathBuf {
        self.root.join("tables")
    }

    pub fn table(&self, name: &str) -> PathBuf {
        self.tables().join(name)
    }

    pub fn work(&self, stage: &str) -> PathBuf {
        self.root.join("_work").join(stage)
    }

    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// The effective recipe the run was last started with.
    pub fn recipe_file(&self) -> PathBuf {
        self.root.join("recipe.toml")
    }

    pub fn report(&self) -> PathBuf {
        self.root.join("report.json")
    }

    /// Create the folders and write the effective recipe.
    pub fn prepare(&self, recipe: &Recipe) -> Result<()> {
        for dir in [self.tables(), self.logs()] {
            std::fs::create_dir_all(&dir).at("create directory", &dir)?;
        }

        let text = format!(
            "# The effective recipe of this run (defaults filled in).\n{}",
            recipe.to_toml()?
        );
        corpus_core::manifest::write_atomically(&self.recipe_file(), text.as_bytes())?;
        Ok(())
    }

    /// Remove what a process killed while writing `recipe.toml` or `report.json` left. Only
    /// for a process that owns the whole run (not a cluster task: its peers write too).
    pub fn clear_temporaries(&self) -> Result<()> {
        if let Ok(entries) = std::fs::read_dir(&self.root) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && name.ends_with(".tmp") {
                    std::fs::remove_file(entry.path()).at("remove", &entry.path())?;
                }
            }
        }
        Ok(())
    }

    /// Point `runs/latest` at this run when it lives under `runs/`.
    pub fn mark_latest(&self) {
        let latest = Self::latest();
        let Some(parent) = latest.parent() else {
            return;
        };
        if self.root.parent() != Some(parent) {
            return;
        }
        let Some(name) = self.root.file_name() else {
            return;
        };
        let _ = std::fs::remove_file(&latest);
        #[cfg(unix)]
        {
            let _ = std::os::unix::fs::symlink(name, &latest);
        }
    }
}
