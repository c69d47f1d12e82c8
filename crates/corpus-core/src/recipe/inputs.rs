//! The recipe's `[inputs]` section: where the git repositories come from.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where the git repositories come from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// Use the generated demo set (`swe-corpus demo` makes it; `run` makes it when missing).
    #[serde(default)]
    pub demo: bool,
    /// Folder of the demo set.
    #[serde(default = "default_demo_dir")]
    pub demo_dir: PathBuf,
    /// Repositories listed one by one.
    #[serde(default)]
    pub repos: Vec<RepoEntry>,
    /// Folders whose direct children are git repositories (bare mirrors or clones).
    #[serde(default)]
    pub repo_dirs: Vec<PathBuf>,
    /// At most this many GiB of the crawl's mirrors on disk at a time (0: no bound). A budget
    /// makes the mirrors scratch: each repository is fetched, crawled, extracted and
    /// synthesized, then its mirror is removed.
    #[serde(default)]
    pub mirror_budget_gib: f64,
}

impl Inputs {
    /// The mirror budget in bytes, when there is one.
    pub fn mirror_budget_bytes(&self) -> Option<u64> {
        (self.mirror_budget_gib > 0.0)
            .then_some((self.mirror_budget_gib * (1u64 << 30) as f64) as u64)
    }
}

fn default_demo_dir() -> PathBuf {
    PathBuf::from("data/demo")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoEntry {
    pub path: PathBuf,
    /// `owner/name`; else taken from the origin URL or an `owner+name` / `owner__name` folder.
    #[serde(default)]
    pub name: Option<String>,
    /// The default branch; else HEAD's branch.
    #[serde(default)]
    pub branch: Option<String>,
}
