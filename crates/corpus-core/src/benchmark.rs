//! Benchmark repositories that must never reach a corpus, as shipped in `data/decontam/`.
//! Extraction skips them by name before doing any work; `corpus-decontam` adds roots, forks
//! and content matching on top.

use std::collections::BTreeSet;

use crate::recipe::DecontamOptions;
use crate::repo_name::normalize;

const VERIFIED_REPOS: &str = include_str!("../../../data/decontam/swe-bench-verified-repos.txt");
const VERIFIED_ROOTS: &str = include_str!("../../../data/decontam/swe-bench-root-commits.txt");

/// Lines of a shipped list, comments and blanks left out.
fn data_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// The benchmark repositories a recipe excludes, lower-case `owner/name`.
#[derive(Debug, Clone, Default)]
pub struct BenchmarkRepos {
    names: BTreeSet<String>,
    allowed: BTreeSet<String>,
}

impl BenchmarkRepos {
    pub fn from_options(options: &DecontamOptions) -> Self {
        let mut names = BTreeSet::new();
        if options.swe_bench_verified {
            names.extend(data_lines(VERIFIED_REPOS).filter_map(normalize));
        }
        names.extend(options.extra_repos.iter().filter_map(|n| normalize(n)));
        let allowed = options.allow.iter().filter_map(|n| normalize(n)).collect();
        Self { names, allowed }
    }

    /// The benchmark repository `repo` (or one of its aliases) names, if any. `owner__name`
    /// mirror spellings are matched too.
    pub fn matches<'a>(
        &self,
        repo: &'a str,
        aliases: impl IntoIterator<Item = &'a str>,
    ) -> Option<String> {
        std::iter::once(repo)
            .chain(aliases)
            .filter_map(|n| normalize(n).or_else(|| crate::repo_name::from_folder(n)))
            .filter(|n| !self.allowed.contains(n))
            .find(|n| self.names.contains(n))
    }

    /// Whether the recipe releases this repository from every match.
    pub fn is_allowed(&self, repo: &str) -> bool {
        normalize(repo).is_some_and(|n| self.allowed.contains(&n))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

/// Shipped root commits: (benchmark repository, root commit id).
pub fn shipped_root_commits() -> Vec<(String, String)> {
    data_lines(VERIFIED_ROOTS)
        .filter_map(|l| {
            let (repo, sha) = l.split_once('\t')?;
            Some((repo.trim().to_string(), sha.trim().to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_names_case_and_mirror_spelling() {
        let repos = BenchmarkRepos::from_options(&DecontamOptions::default());
        assert_eq!(repos.names().count(), 12);
        assert_eq!(
            repos.matches("PSF/Requests", []),
            Some("psf/requests".into())
        );
        assert_eq!(
            repos.matches("acme/x", ["psf__requests"]),
            Some("psf/requests".into())
        );
        assert_eq!(repos.matches("acme/x", []), None);
        let allow = DecontamOptions {
            allow: vec!["psf/requests".into()],
            ..Default::default()
        };
        assert_eq!(
            BenchmarkRepos::from_options(&allow).matches("psf/requests", []),
            None
        );
    }

    #[test]
    fn root_commits_parse() {
        let roots = shipped_root_commits();
        assert!(roots.len() >= 15);
        assert!(roots.iter().all(|(_, sha)| sha.len() == 40));
    }
}
