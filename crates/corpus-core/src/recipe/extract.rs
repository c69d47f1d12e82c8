//! The recipe's `[extract]` section: what the history walk keeps and skips.

use serde::{Deserialize, Serialize};

use super::strings;

/// What `extract` keeps and skips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractOptions {
    /// A file whose before or after version is larger is left out of the patch (`file_too_large`).
    pub max_file_bytes: u64,
    /// A patch whose kept diff is larger is dropped (`diff_too_large`).
    pub max_diff_bytes: u64,
    /// File names of lockfiles (`lockfile`).
    pub lockfiles: Vec<String>,
    /// Path components that mark vendored code (`vendored`).
    pub vendored_dirs: Vec<String>,
    /// File-name suffixes of generated files (`generated`).
    pub generated_suffixes: Vec<String>,
    /// Author names or e-mails containing one of these mark a bot (`bot_author`).
    pub bot_authors: Vec<String>,
    /// Also extract plain main-line commits (kind `commit`).
    pub main_line_commits: bool,
    /// Stop walking the history after this many commits (0: all).
    pub max_history: u64,
    /// Walk only the default branch's first-parent chain, not the branches merged into it.
    pub first_parent_only: bool,
}

fn default_lockfiles() -> Vec<String> {
    strings(&[
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
        "pdm.lock",
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "Cargo.lock",
        "Gemfile.lock",
        "composer.lock",
        "go.sum",
        "mix.lock",
        "pubspec.lock",
        "packages.lock.json",
        "flake.lock",
    ])
}
fn default_vendored() -> Vec<String> {
    strings(&[
        "vendor",
        "vendored",
        "_vendor",
        "third_party",
        "thirdparty",
        "3rdparty",
        "node_modules",
        "site-packages",
        "bower_components",
    ])
}
fn default_generated() -> Vec<String> {
    strings(&[
        "_pb2.py",
        "_pb2_grpc.py",
        ".pb.go",
        ".min.js",
        ".min.css",
        ".map",
        ".generated.cs",
        "_generated.py",
    ])
}
fn default_bots() -> Vec<String> {
    strings(&[
        "[bot]",
        "dependabot",
        "renovate",
        "pre-commit-ci",
        "github-actions",
        "greenkeeper",
        "snyk-bot",
        "pyup-bot",
        "allcontributors",
    ])
}

impl Default for ExtractOptions {
    fn default() -> Self {
        Self {
            max_file_bytes: 1 << 20,
            max_diff_bytes: 1 << 20,
            lockfiles: default_lockfiles(),
            vendored_dirs: default_vendored(),
            generated_suffixes: default_generated(),
            bot_authors: default_bots(),
            main_line_commits: true,
            max_history: 0,
            first_parent_only: false,
        }
    }
}
