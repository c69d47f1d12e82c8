//! The recipe: a TOML file that says what to build. Every section is a struct with
//! `deny_unknown_fields` and defaults, so `recipe show` can print the effective recipe and a
//! typo is an error, never a silently ignored knob.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod crawl;
mod curate;
mod decontam;
mod export;
mod extract;
mod format;
mod ingest;
mod inputs;
mod runner;
mod synthesize;
mod tokens;

pub use crawl::{CrawlOptions, CrawlSearch};
pub use curate::CurateOptions;
pub use decontam::*;
pub use export::{EXPORT_FOLDERS, ExportRecipe};
pub use extract::ExtractOptions;
pub use format::{FormatOptions, Profile};
pub use ingest::{ExternalSource, IngestOptions};
pub use inputs::{Inputs, RepoEntry};
pub use runner::{RunnerOptions, SlurmOptions, TableOptions};
pub use synthesize::{ModelOptions, SynthesizeOptions};
pub use tokens::{MixOptions, MixSource, ShardOptions, TokenizeOptions};

/// The embedded default recipe (`pipelines/demo.toml`).
pub const DEMO_RECIPE: &str = include_str!("../../../../pipelines/demo.toml");

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

/// A list of owned strings, for the defaults that are lists.
fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn default_seed() -> u64 {
    20_250_923
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
        errors.extend(ingest::semantic_errors(&self.ingest));
        errors.extend(tokens::semantic_errors(
            &self.tokenize,
            &self.mix,
            &self.shard,
        ));
        errors.extend(export::semantic_errors(&self.export));
        errors.extend(synthesize::semantic_errors(&self.synthesize));
        errors.extend(crawl::semantic_errors(&self.crawl));
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
        empty::<crawl::CrawlOptions>();
        empty::<synthesize::ModelOptions>();
        empty::<synthesize::SynthesizeOptions>();
        empty::<tokens::TokenizeOptions>();
        empty::<tokens::MixOptions>();
        empty::<tokens::ShardOptions>();
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
