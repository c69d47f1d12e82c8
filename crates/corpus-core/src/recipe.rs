//! The recipe: a TOML file that says what to build. Every section is a struct with
//! `deny_unknown_fields` and defaults, so `recipe show` can print the effective recipe and a
//! typo is an error, never a silently ignored knob.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use crate::recipe_crawl::CrawlOptions;
pub use crate::recipe_export::ExportRecipe;
pub use crate::recipe_ingest::{ExternalSource, IngestOptions};
pub use crate::recipe_synth::{ModelOptions, SynthesizeOptions};
pub use crate::recipe_tokens::{MixOptions, MixSource, ShardOptions, TokenizeOptions};

/// The embedded default recipe (`pipelines/demo.toml`).
pub const DEMO_RECIPE: &str = include_str!("../../../pipelines/demo.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Name of the recipe; the default run directory is `runs/<name>`.
    pub name: String,
    /// Seed of every seeded choice (shuffles, variants).
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default)]
    pub inputs: Inputs,
    #[serde(default)]
    pub crawl: CrawlOptions,
    #[serde(default)]
    pub extract: ExtractOptions,
    #[serde(default)]
    pub format: FormatOptions,
    #[serde(default)]
    pub decontam: DecontamOptions,
    #[serde(default)]
    pub curate: CurateOptions,
    #[serde(default)]
    pub synthesize: SynthesizeOptions,
    #[serde(default)]
    pub ingest: IngestOptions,
    #[serde(default)]
    pub tokenize: TokenizeOptions,
    #[serde(default)]
    pub mix: MixOptions,
    #[serde(default)]
    pub shard: ShardOptions,
    #[serde(default)]
    pub export: ExportRecipe,
    #[serde(default)]
    pub tables: TableOptions,
    #[serde(default)]
    pub runner: RunnerOptions,
    #[serde(default)]
    pub slurm: SlurmOptions,
    /// Where relative paths of this recipe resolve: the recipe file's folder, or the current
    /// directory for the embedded recipe. Not part of the TOML.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

fn default_seed() -> u64 {
    20_250_923
}

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

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
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

/// Keeping benchmarks out: which benchmark families, which cutoff date, which content checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecontamOptions {
    /// The benchmark families of the shipped registry (`data/decontam/benchmarks/`) to keep
    /// out; unset means all of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benchmarks: Option<Vec<String>>,
    /// The older switch: `true` is a synonym for including the `swe-bench` family; `false`
    /// without `benchmarks` keeps no shipped family out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swe_bench_verified: Option<bool>,
    /// PRs merged on or after this date (`YYYY-MM-DD`, UTC) are dropped (`after_cutoff`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cutoff: Option<String>,
    /// More benchmark repositories (`owner/name`) to exclude.
    pub extra_repos: Vec<String>,
    /// Repositories released from a match (known false matches).
    pub allow: Vec<String>,
    /// Benchmark files (JSONL or Parquet with SWE-bench's columns) for content matching.
    pub benchmark_files: Vec<PathBuf>,
    /// Words per n-gram of content matching.
    pub ngram: usize,
    /// A sample holding this share (0 to 1) of a benchmark instance's problem statement or
    /// patch n-grams is contaminated.
    pub threshold: f64,
    /// A PR whose changed lines hold this share (0 to 1) of a benchmark gold patch's is that
    /// instance's fix (`benchmark_patch`); equal line sets always are.
    pub patch_containment: f64,
    /// Gold patches with fewer countable changed lines match only when equal.
    pub patch_min_lines: usize,
}

impl DecontamOptions {
    /// The chosen benchmark families, in the registry's order.
    pub fn families(&self) -> Vec<&'static str> {
        let all = crate::benchmark::family_names();
        match (&self.benchmarks, self.swe_bench_verified) {
            (None, Some(false)) => Vec::new(),
            (None, _) => all,
            (Some(list), verified) => all
                .into_iter()
                .filter(|name| {
                    list.iter().any(|l| l == name)
                        || (verified == Some(true) && *name == "swe-bench")
                })
                .collect(),
        }
    }

    /// The cutoff as seconds since 1970-01-01 UTC, when set and well-formed.
    pub fn cutoff_seconds(&self) -> Option<i64> {
        let text = self.cutoff.as_deref()?;
        (text.len() == 10)
            .then(|| crate::days::parse(text))
            .flatten()
            .map(|days| days * 86_400)
    }

    /// What a user should decide and has not: `plan` and the run report say it.
    pub fn warnings(&self) -> Vec<String> {
        match self.cutoff {
            Some(_) => Vec::new(),
            None => vec![
                "no [decontam] cutoff set: PRs merged after a live benchmark's start \
                 (SWE-bench-Live: 2024-01-01) stay in the corpus; set cutoff = \"YYYY-MM-DD\""
                    .to_string(),
            ],
        }
    }

    fn check(&self, errors: &mut Vec<String>) {
        let known = crate::benchmark::family_names();
        for name in self.benchmarks.iter().flatten() {
            if !known.contains(&name.as_str()) {
                errors.push(format!(
                    "[decontam] benchmarks: unknown family `{name}` (known: {})",
                    known.join(", ")
                ));
            }
        }
        if self.swe_bench_verified == Some(false)
            && self.benchmarks.iter().flatten().any(|n| n == "swe-bench")
        {
            errors.push(
                "[decontam] swe_bench_verified = false contradicts benchmarks naming `swe-bench`"
                    .into(),
            );
        }
        if let Some(cutoff) = &self.cutoff
            && self.cutoff_seconds().is_none()
        {
            errors.push(format!(
                "[decontam] cutoff `{cutoff}` is not a date: write YYYY-MM-DD"
            ));
        }
        if !(0.0..=1.0).contains(&self.threshold) || self.ngram == 0 {
            errors.push("[decontam] threshold must be within 0..=1 and ngram at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.patch_containment) || self.patch_min_lines == 0 {
            errors.push(
                "[decontam] patch_containment must be within 0..=1 and patch_min_lines at least 1"
                    .into(),
            );
        }
    }
}

impl Default for DecontamOptions {
    fn default() -> Self {
        Self {
            benchmarks: None,
            swe_bench_verified: None,
            cutoff: None,
            extra_repos: Vec::new(),
            allow: Vec::new(),
            benchmark_files: Vec::new(),
            ngram: 13,
            threshold: 0.5,
            patch_containment: 0.8,
            patch_min_lines: 5,
        }
    }
}

/// What `curate` keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CurateOptions {
    /// PR title and body shorter than this (characters) is `short_problem_text`.
    pub min_problem_chars: usize,
    /// A sample larger than this is `sample_too_large`.
    pub max_sample_bytes: u64,
    /// A response line longer than this is `minified_line`.
    pub max_line_chars: usize,
    /// Text in a response that marks generated code (`generated_code`).
    pub generated_markers: Vec<String>,
    /// Regular expressions of auto-generated PR titles (`auto_generated_title`).
    pub auto_title_patterns: Vec<String>,
    /// Drop every sample of a PR whose text holds a detected secret (`secret_in_patch`).
    pub secrets: bool,
    /// Drop exact duplicate PRs across repositories and forks (`duplicate_pr`).
    pub dedup: bool,
    /// SPDX ids allowed (licence file at the PR's base); empty: no licence filter. A snapshot
    /// with another licence is `license_not_allowed`, one without a licence file `no_license`.
    pub licenses: Vec<String>,
    /// Also drop near duplicates found by MinHash LSH (`near_duplicate_pr`).
    pub near_dedup: bool,
    /// MinHash permutations (a multiple of `minhash_bands`).
    pub minhash_permutations: usize,
    /// LSH bands; rows per band = permutations / bands.
    pub minhash_bands: usize,
    /// Words per shingle.
    pub shingle_words: usize,
    /// Estimated Jaccard similarity at or above which two PRs are near duplicates.
    pub near_threshold: f64,
    /// MiB the dedup barrier's sorters may hold before they spill to disk (the result does
    /// not depend on it).
    pub dedup_memory_mib: f64,
}

fn default_generated_markers() -> Vec<String> {
    strings(&[
        "DO NOT EDIT",
        "Generated by the protocol buffer compiler",
        "This file was automatically generated",
        "Autogenerated by Thrift",
    ])
}
fn default_title_patterns() -> Vec<String> {
    strings(&[
        r"(?i)^bump \S+ from \S+ to \S+",
        r"(?i)^(chore\(deps[^)]*\): )?update dependency ",
        r"(?i)^\[snyk\]",
        r"(?i)^\[pre-commit\.ci\]",
        r"(?i)^(chore\(deps[^)]*\): )?(lock file maintenance|pin dependencies)",
    ])
}

impl Default for CurateOptions {
    fn default() -> Self {
        Self {
            min_problem_chars: 10,
            max_sample_bytes: 4 << 20,
            max_line_chars: 1000,
            generated_markers: default_generated_markers(),
            auto_title_patterns: default_title_patterns(),
            secrets: true,
            dedup: true,
            licenses: Vec::new(),
            near_dedup: true,
            minhash_permutations: 128,
            minhash_bands: 16,
            shingle_words: 5,
            near_threshold: 0.8,
            dedup_memory_mib: 1024.0,
        }
    }
}

/// Sizes of table parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TableOptions {
    /// A part closes once it holds this many MiB of (uncompressed) data.
    pub max_part_mib: u64,
    /// Row groups flush at this many MiB of encoded data.
    pub row_group_mib: u64,
    /// Or at this many rows.
    pub row_group_rows: u64,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            max_part_mib: 256,
            row_group_mib: 32,
            row_group_rows: 8192,
        }
    }
}

impl TableOptions {
    pub fn writer_options(&self) -> crate::table::WriterOptions {
        crate::table::WriterOptions {
            max_part_bytes: self.max_part_mib.max(1) << 20,
            max_row_group_bytes: (self.row_group_mib.max(1) << 20) as usize,
            max_row_group_rows: self.row_group_rows.max(1) as usize,
            ..Default::default()
        }
    }
}

/// How the runner executes the stages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunnerOptions {
    /// Tasks per stage (0: one per core). Output bytes do not depend on it.
    #[serde(default)]
    pub tasks: usize,
}

/// Resources of the Slurm jobs (`swe-corpus run --executor slurm`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlurmOptions {
    /// Partition to submit to (default: the cluster's default partition).
    pub partition: Option<String>,
    /// CPUs per task (`--cpus-per-task`).
    pub cpus_per_task: u32,
    /// Memory per task (`--mem`, e.g. "8G").
    pub mem: Option<String>,
    /// Time limit per task (`--time`, e.g. "04:00:00").
    pub time: Option<String>,
    /// Further `sbatch` arguments, e.g. ["--account=research"].
    pub extra_args: Vec<String>,
}

impl Default for SlurmOptions {
    fn default() -> Self {
        Self {
            partition: None,
            cpus_per_task: 1,
            mem: None,
            time: None,
            extra_args: Vec::new(),
        }
    }
}

impl Recipe {
    /// Whether the crawl's mirrors are scratch, bounded by a budget: crawl, extract and
    /// synthesize then run as one group, a repository at a time.
    pub fn mirrors_are_scratch(&self) -> bool {
        self.crawl.enabled && self.inputs.mirror_budget_bytes().is_some()
    }

    /// Parse recipe text, reporting every problem found, not just the first.
    pub fn parse(text: &str, origin: &str, base_dir: &Path) -> Result<Self> {
        let value: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| Error::Config(format!("{origin}: {e}")))?;
        let mut errors = Vec::new();
        let known = [
            "name",
            "seed",
            "inputs",
            "crawl",
            "extract",
            "format",
            "synthesize",
            "ingest",
            "decontam",
            "curate",
            "tokenize",
            "mix",
            "shard",
            "export",
            "tables",
            "runner",
            "slurm",
        ];
        for key in value.keys() {
            if !known.contains(&key.as_str()) {
                errors.push(format!(
                    "unknown key `{key}` (expected one of: {})",
                    known.join(", ")
                ));
            }
        }
        // Check each section on its own so one bad section does not hide another.
        for section in known.iter().skip(2) {
            if let Some(v) = value.get(*section) {
                let checked = match *section {
                    "inputs" => v.clone().try_into::<Inputs>().map(|_| ()),
                    "crawl" => v.clone().try_into::<CrawlOptions>().map(|_| ()),
                    "extract" => v.clone().try_into::<ExtractOptions>().map(|_| ()),
                    "format" => v.clone().try_into::<FormatOptions>().map(|_| ()),
                    "decontam" => v.clone().try_into::<DecontamOptions>().map(|_| ()),
                    "curate" => v.clone().try_into::<CurateOptions>().map(|_| ()),
                    "tokenize" => v.clone().try_into::<TokenizeOptions>().map(|_| ()),
                    "ingest" => v.clone().try_into::<IngestOptions>().map(|_| ()),
                    "synthesize" => v.clone().try_into::<SynthesizeOptions>().map(|_| ()),
                    "mix" => v.clone().try_into::<MixOptions>().map(|_| ()),
                    "shard" => v.clone().try_into::<ShardOptions>().map(|_| ()),
                    "export" => v.clone().try_into::<ExportRecipe>().map(|_| ()),
                    "tables" => v.clone().try_into::<TableOptions>().map(|_| ()),
                    "slurm" => v.clone().try_into::<SlurmOptions>().map(|_| ()),
                    _ => v.clone().try_into::<RunnerOptions>().map(|_| ()),
                };
                if let Err(e) = checked {
                    errors.push(format!("[{section}]: {}", e.message()));
                }
            }
        }
        match value.get("name") {
            None => errors.push("missing key `name`".into()),
            Some(toml::Value::String(s)) if valid_name(s) => {}
            Some(_) => errors.push(
                "`name` must be a string of letters, digits, '-', '_' or '.' (it names the run directory)"
                    .into(),
            ),
        }
        if let Some(seed) = value.get("seed")
            && !matches!(seed, toml::Value::Integer(i) if *i >= 0)
        {
            errors.push("`seed` must be a non-negative integer".into());
        }
        if !errors.is_empty() {
            return Err(recipe_errors(origin, &errors));
        }
        let mut recipe: Recipe = toml::Value::Table(value)
            .try_into()
            .map_err(|e: toml::de::Error| Error::Config(format!("{origin}: {}", e.message())))?;
        recipe.base_dir = base_dir.to_path_buf();
        let semantic = recipe.semantic_errors();
        if !semantic.is_empty() {
            return Err(recipe_errors(origin, &semantic));
        }
        Ok(recipe)
    }

    /// Load a recipe file; paths in it resolve against its folder.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read recipe {}: {e}", path.display())))?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Self::parse(&text, &path.display().to_string(), &base)
    }

    /// The embedded demo recipe; its paths resolve against the current directory.
    pub fn demo() -> Result<Self> {
        Self::parse(DEMO_RECIPE, "embedded demo recipe", Path::new("."))
    }

    /// The recipe of a quick try on some repositories (`--repo PATH`): named `quick`, every
    /// other setting at its default, paths against the current directory.
    pub fn quick(repos: Vec<RepoEntry>) -> Result<Self> {
        #[derive(Serialize)]
        struct Quick<'a> {
            name: &'a str,
            inputs: QuickInputs<'a>,
        }
        #[derive(Serialize)]
        struct QuickInputs<'a> {
            repos: &'a [RepoEntry],
        }
        let text = toml::to_string(&Quick {
            name: "quick",
            inputs: QuickInputs { repos: &repos },
        })
        .map_err(|e| Error::Config(format!("quick recipe: {e}")))?;
        // Parsed like any recipe, so it is checked the same way.
        Self::parse(&text, "quick recipe", Path::new("."))
    }

    /// Where the demo set lives when the recipe uses it (the command line generates it
    /// there before a run; stages only read it).
    pub fn demo_root(&self) -> Option<PathBuf> {
        self.inputs
            .demo
            .then(|| self.resolve(&self.inputs.demo_dir))
    }

    fn semantic_errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for (i, entry) in self.inputs.repos.iter().enumerate() {
            if let Some(name) = &entry.name
                && crate::repo_name::normalize(name).is_none()
            {
                errors.push(format!(
                    "[inputs] repos[{i}]: name `{name}` is not of the form owner/name"
                ));
            }
        }
        if !self.inputs.demo
            && self.inputs.repos.is_empty()
            && self.inputs.repo_dirs.is_empty()
            && !self.crawl.enabled
        {
            errors.push(
                "[inputs] lists no repositories: set `demo = true`, `repos` or `repo_dirs`, or enable [crawl]".into(),
            );
        }
        if !self.inputs.mirror_budget_gib.is_finite() || self.inputs.mirror_budget_gib < 0.0 {
            errors.push("[inputs] mirror_budget_gib must be a number of GiB, 0 or more".into());
        }
        if self.inputs.mirror_budget_gib > 0.0
            && (!self.crawl.enabled || !self.crawl.mirror || self.crawl.offline)
        {
            errors.push(
                "[inputs] mirror_budget_gib fetches the crawl's mirrors and removes them when done: \
                 it needs [crawl] enabled = true, mirror = true and offline = false"
                    .into(),
            );
        }
        if self.inputs.mirror_budget_gib > 0.0
            && let Some(mirrors) = &self.crawl.mirrors
            && self
                .inputs
                .repo_dirs
                .iter()
                .any(|d| self.resolve(d) == self.resolve(mirrors))
        {
            errors.push(
                "[inputs] repo_dirs lists the crawl's mirrors folder: under mirror_budget_gib \
                 those mirrors are scratch (removed when done), not inputs"
                    .into(),
            );
        }
        for pattern in &self.curate.auto_title_patterns {
            if let Err(e) = regex_syntax_check(pattern) {
                errors.push(format!(
                    "[curate] auto_title_patterns: `{pattern}` is not a regular expression: {e}"
                ));
            }
        }
        let c = &self.curate;
        if c.minhash_bands == 0 || !c.minhash_permutations.is_multiple_of(c.minhash_bands) {
            errors.push(
                "[curate] minhash_permutations must be a positive multiple of minhash_bands".into(),
            );
        }
        if c.dedup_memory_mib.is_nan() || c.dedup_memory_mib <= 0.0 {
            errors.push("[curate] dedup_memory_mib must be positive".into());
        }
        if !(0.0..=1.0).contains(&c.near_threshold) {
            errors.push("[curate] near_threshold must be within 0..=1".into());
        }
        self.decontam.check(&mut errors);
        if self.extract.max_file_bytes == 0 || self.extract.max_diff_bytes == 0 {
            errors.push("[extract] max_file_bytes and max_diff_bytes must be positive".into());
        }
        errors.extend(crate::recipe_ingest::semantic_errors(&self.ingest));
        errors.extend(crate::recipe_tokens::semantic_errors(
            &self.tokenize,
            &self.mix,
            &self.shard,
        ));
        errors.extend(crate::recipe_export::semantic_errors(&self.export));
        errors.extend(crate::recipe_synth::semantic_errors(&self.synthesize));
        errors.extend(crate::recipe_crawl::semantic_errors(&self.crawl));
        errors
    }

    /// A path of this recipe made absolute against its base directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }

    /// The same recipe with every path made absolute (the form a run directory keeps, so
    /// `status` and cluster tasks resolve paths the same way from anywhere).
    pub fn absolutized(mut self) -> Result<Self> {
        let cwd =
            std::env::current_dir().map_err(|e| Error::io("read the current directory", e))?;
        let absolute = |p: &Path| {
            let p = if p.is_absolute() {
                p.to_path_buf()
            } else {
                cwd.join(p)
            };
            normalize_path(&p)
        };
        let base = absolute(&self.base_dir);
        let resolve = |p: &Path| {
            if p.is_absolute() {
                normalize_path(p)
            } else {
                normalize_path(&base.join(p))
            }
        };
        self.inputs.demo_dir = resolve(&self.inputs.demo_dir);
        self.format.templates_dir = resolve(&self.format.templates_dir);
        for entry in &mut self.inputs.repos {
            entry.path = resolve(&entry.path);
        }
        for dir in &mut self.inputs.repo_dirs {
            *dir = resolve(dir);
        }
        for path in [
            &mut self.crawl.repos_file,
            &mut self.crawl.cache,
            &mut self.crawl.mirrors,
        ]
        .into_iter()
        .flatten()
        {
            *path = resolve(path);
        }
        for file in &mut self.decontam.benchmark_files {
            *file = resolve(file);
        }
        for source in &mut self.ingest.sources {
            source.path = resolve(&source.path);
            if let Some(template) = &mut source.template {
                *template = resolve(template);
            }
        }
        if let Some(dir) = &mut self.tokenize.tokenizer_dir {
            *dir = resolve(dir);
        }
        // A tokenizer given by path (not a name) resolves like every other path.
        if self.tokenize.tokenizer.ends_with(".json") {
            self.tokenize.tokenizer = resolve(Path::new(&self.tokenize.tokenizer))
                .to_string_lossy()
                .into_owned();
        }
        self.base_dir = base;
        Ok(self)
    }

    /// The effective recipe as TOML, defaults filled in.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|e| Error::Internal(format!("render recipe: {e}")))
    }

    /// Hash of one section's effective settings (a stage's config hash).
    pub fn section_hash<T: Serialize>(section: &T) -> String {
        let text = serde_json::to_string(section).unwrap_or_default();
        crate::hash::hex64(text.as_bytes())
    }
}

/// Whether a pattern compiles (the curate stage compiles it for real).
fn regex_syntax_check(pattern: &str) -> std::result::Result<(), String> {
    regex::Regex::new(pattern)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Remove `.` and `..` components without touching the file system.
fn normalize_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name != "latest"
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn recipe_errors(origin: &str, errors: &[String]) -> Error {
    let mut message = format!("recipe {origin} has {} error(s):", errors.len());
    for e in errors {
        message.push_str("\n  - ");
        message.push_str(e);
    }
    Error::Config(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each section states its defaults once, in its `Default`: an empty section and a
    /// missing key read as that, and a key given keeps the others at their defaults.
    #[test]
    fn every_section_reads_its_defaults_from_its_default() {
        fn empty<T: serde::de::DeserializeOwned + Default + PartialEq + std::fmt::Debug>() {
            let parsed: T = toml::from_str("").expect("an empty section parses");
            assert_eq!(parsed, T::default());
        }
        empty::<ExtractOptions>();
        empty::<FormatOptions>();
        empty::<DecontamOptions>();
        empty::<CurateOptions>();
        empty::<TableOptions>();
        empty::<SlurmOptions>();
        empty::<crate::recipe_crawl::CrawlOptions>();
        empty::<crate::recipe_synth::ModelOptions>();
        empty::<crate::recipe_synth::SynthesizeOptions>();
        empty::<crate::recipe_tokens::TokenizeOptions>();
        empty::<crate::recipe_tokens::MixOptions>();
        empty::<crate::recipe_tokens::ShardOptions>();
        let curate: CurateOptions = toml::from_str("max_line_chars = 7").expect("parses");
        assert_eq!(curate.max_line_chars, 7);
        assert_eq!(curate.minhash_bands, CurateOptions::default().minhash_bands);
        assert!(curate.secrets && curate.dedup && curate.near_dedup);
    }

    #[test]
    fn a_quick_recipe_lists_its_repositories_and_nothing_else() {
        let entry = RepoEntry {
            path: PathBuf::from("mirrors/acme+widgets"),
            name: Some("acme/widgets".into()),
            branch: None,
        };
        let recipe = Recipe::quick(vec![entry.clone()]).expect("quick");
        assert_eq!(recipe.name, "quick");
        assert_eq!(recipe.inputs.repos, vec![entry]);
        assert!(!recipe.inputs.demo && !recipe.crawl.enabled);
        assert!(
            Recipe::quick(Vec::new()).is_err(),
            "a recipe with no input is refused"
        );
    }

    #[test]
    fn demo_recipe_parses() {
        let recipe = Recipe::demo().expect("demo recipe");
        assert_eq!(recipe.name, "demo");
        assert!(recipe.inputs.demo);
    }

    #[test]
    fn lists_every_error_at_once() {
        let text = r#"
name = "x"
colour = "blue"
[extract]
max_file_bytes = "big"
[runner]
taskz = 3
"#;
        let err = Recipe::parse(text, "r.toml", Path::new(".")).expect_err("invalid");
        let msg = err.to_string();
        assert!(msg.contains("3 error(s)"), "{msg}");
        assert!(msg.contains("unknown key `colour`"), "{msg}");
        assert!(msg.contains("[extract]"), "{msg}");
        assert!(msg.contains("taskz"), "{msg}");
    }

    #[test]
    fn a_mirror_budget_needs_an_online_crawl_and_its_own_mirrors() {
        let parse = |inputs: &str, crawl: &str| {
            let text = format!(
                "name = \"b\"\n[inputs]\n{inputs}\n[crawl]\nenabled = true\nrepos = [\"a/b\"]\n{crawl}\n"
            );
            Recipe::parse(&text, "r.toml", Path::new("/r")).map_err(|e| e.to_string())
        };
        let ok = parse("mirror_budget_gib = 50", "").expect("valid");
        assert_eq!(ok.inputs.mirror_budget_bytes(), Some(50 << 30));
        assert_eq!(
            parse("", "").expect("valid").inputs.mirror_budget_bytes(),
            None
        );
        let negative = parse("mirror_budget_gib = -1", "").expect_err("negative");
        assert!(negative.contains("0 or more"), "{negative}");
        let offline = parse("mirror_budget_gib = 1", "offline = true").expect_err("offline");
        assert!(offline.contains("offline = false"), "{offline}");
        let listed = parse(
            "mirror_budget_gib = 1\nrepo_dirs = [\"m\"]",
            "mirrors = \"/r/m\"",
        )
        .expect_err("mirrors as inputs");
        assert!(listed.contains("scratch"), "{listed}");
    }

    #[test]
    fn wrong_type_and_missing_name() {
        let err = Recipe::parse("seed = -1", "r.toml", Path::new(".")).expect_err("invalid");
        let msg = err.to_string();
        assert!(msg.contains("missing key `name`"), "{msg}");
        assert!(msg.contains("seed"), "{msg}");
    }

    #[test]
    fn effective_recipe_round_trips() {
        let recipe = Recipe::demo().expect("demo");
        let text = recipe.to_toml().expect("toml");
        let back = Recipe::parse(&text, "shown", Path::new(".")).expect("parse shown");
        assert_eq!(back, recipe);
    }
}
