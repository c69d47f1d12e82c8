//! The recipe's `[decontam]` section: which benchmarks to keep out, and how.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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

    pub(super) fn check(&self, errors: &mut Vec<String>) {
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
