//! The recipe's `[format]` section: the sample profile and its overrides.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which sample profile `format` applies (docs/formats.md): `kimi_dev` is the paper's filter,
/// `broad` keeps every language and larger PRs. Any knob below overrides the profile's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    #[default]
    KimiDev,
    Broad,
}

/// What `format` renders and which PRs qualify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FormatOptions {
    pub profile: Profile,
    /// Folder of the prompt templates (`*.jinja`); missing files fall back to the built-in
    /// copies of `pipelines/templates/`.
    pub templates_dir: PathBuf,
    /// Render PR commit packs (`commit_pack`).
    pub commit_packs: bool,
    /// Render plain main-line commits as documents (`commit`).
    pub commits: bool,
    /// Languages whose files are source code (profile: python; broad: every language).
    pub languages: Option<Vec<String>>,
    /// Other languages a PR may touch; their content is left out (profile: markdown,
    /// restructuredtext; broad: any).
    pub doc_languages: Option<Vec<String>>,
    /// Keep PRs that add files (an added file is a block with an empty SEARCH).
    pub allow_added_files: Option<bool>,
    /// Most source files a PR may change (profile: 3; broad: 10).
    pub max_source_files: Option<usize>,
    /// Most SEARCH/REPLACE blocks in an edit sample (profile: 5; broad: 20).
    pub max_blocks: Option<usize>,
    /// Source files a commit pack must change, at least and at most (profile: 1 and 5).
    pub pack_min_files: Option<usize>,
    pub pack_max_files: Option<usize>,
    /// The `source` the rows count toward in the mix.
    pub source_agentless: String,
    pub source_commit_packs: String,
    pub source_commits: String,
}

impl Default for FormatOptions {
    fn default() -> Self {
        Self {
            profile: Profile::KimiDev,
            templates_dir: PathBuf::from("pipelines/templates"),
            commit_packs: true,
            commits: false,
            languages: None,
            doc_languages: None,
            allow_added_files: None,
            max_source_files: None,
            max_blocks: None,
            pack_min_files: None,
            pack_max_files: None,
            source_agentless: "agentless".into(),
            source_commit_packs: "commit_packs".into(),
            source_commits: "commits".into(),
        }
    }
}
