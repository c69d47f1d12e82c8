//! corpus-git: everything read from git, through git2 (no checkout, no git CLI).
//!
//! - [`open`]: a repository's identity ([`open::resolve_name`]), checks and root commits.
//! - [`history`]: pull requests recovered from the first-parent chain.
//! - [`diff`]: per-file diffs with the recipe's skip rules ([`diff::diff_trees`]).
//! - [`extract`]: one repository to rows ([`extract::extract_repo`]).
//!
//! ```no_run
//! use corpus_core::{benchmark::BenchmarkRepos, recipe::ExtractOptions};
//! use corpus_git::{extract::{KnownPulls, extract_repo}, open::RepoSpec};
//! let spec = RepoSpec { path: "mirrors/acme+widgets".into(), name: None, branch: None };
//! let name = corpus_git::open::resolve_name(&spec).unwrap();
//! let options = ExtractOptions::default();
//! let benchmark = BenchmarkRepos::from_options(&Default::default());
//! // No crawl: PR boundaries come from history alone.
//! extract_repo(&spec, &name, &options, &benchmark, &KnownPulls::default(), |chunk| {
//!     println!("{} patches", chunk.patches.len());
//!     Ok(())
//! }).unwrap();
//! ```

pub mod classify;
pub mod diff;
pub mod error;
pub mod extract;
pub mod history;
pub mod license;
pub mod open;
pub mod stage;

pub use error::{GitError, Result};
