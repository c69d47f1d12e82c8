//! Repository-level matching: a repository is a benchmark repository when its name or an
//! alias names one (`owner__name` mirrors too), when the API says its fork parent is one, or
//! when it shares a root commit with one: shipped roots, plus roots of benchmark mirrors
//! found in this run. Sharing a root over-matches on purpose; the recipe's allow-list
//! releases known false matches, and every match is reported with its evidence.

use corpus_core::drop_reason::DropReason;
use std::collections::BTreeMap;

use corpus_core::benchmark::{BenchmarkRepos, shipped_root_commits};
use corpus_core::recipe::DecontamOptions;
use corpus_core::repo_name::normalize;
use corpus_core::rows::RepoRow;

/// Why a repository is a benchmark repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoVerdict {
    /// `benchmark_repo`, `benchmark_fork` or `benchmark_root`.
    pub reason: DropReason,
    /// The benchmark repository it stands for.
    pub matched: String,
    pub detail: String,
}

pub struct BenchmarkIdentity {
    names: BenchmarkRepos,
    /// root commit → benchmark repository.
    roots: BTreeMap<String, String>,
}

impl BenchmarkIdentity {
    /// From the recipe and the run's `repos` rows (benchmark mirrors there add their roots).
    pub fn new(options: &DecontamOptions, repos: &[RepoRow]) -> Self {
        Self::with_file_repos(options, repos, &[])
    }

    /// As [`Self::new`], with the repositories the recipe's benchmark files name (their
    /// `repo` column) as benchmark repositories too: a live benchmark's dataset file brings
    /// its repositories.
    pub fn with_file_repos(
        options: &DecontamOptions,
        repos: &[RepoRow],
        file_repos: &[String],
    ) -> Self {
        let mut names = BenchmarkRepos::from_options(options);
        for repo in file_repos {
            names.add(repo, "benchmark_files");
        }
        let mut roots = BTreeMap::new();
        for (repo, sha) in shipped_root_commits(options) {
            roots.insert(sha, repo.to_lowercase());
        }
        for row in repos {
            let aliases = row.aliases.iter().map(String::as_str);
            if let Some(matched) = names.matches(&row.repo, aliases) {
                for sha in &row.root_commits {
                    roots.entry(sha.clone()).or_insert_with(|| matched.clone());
                }
            }
        }
        Self { names, roots }
    }

    pub fn verdict(&self, row: &RepoRow) -> Option<RepoVerdict> {
        if self.names.is_allowed(&row.repo) {
            return None;
        }
        let aliases = row.aliases.iter().map(String::as_str);
        if let Some(matched) = self.names.matches(&row.repo, aliases) {
            return Some(RepoVerdict {
                reason: DropReason::BenchmarkRepo,
                detail: format!("{} is benchmark repository {matched} by name", row.repo),
                matched,
            });
        }
        if let Some(parent) = row.fork_parent.as_deref().and_then(normalize)
            && let Some(matched) = self.names.matches(&parent, [])
        {
            return Some(RepoVerdict {
                reason: DropReason::BenchmarkFork,
                detail: format!("{} is a fork of {parent}", row.repo),
                matched,
            });
        }
        row.root_commits.iter().find_map(|sha| {
            self.roots.get(sha).map(|matched| RepoVerdict {
                reason: DropReason::BenchmarkRoot,
                matched: matched.clone(),
                detail: format!("{} shares root commit {sha} with {matched}", row.repo),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(name: &str, roots: &[&str]) -> RepoRow {
        RepoRow {
            repo: name.into(),
            root_commits: roots.iter().map(|s| s.to_string()).collect(),
            origin: "local".into(),
            ..Default::default()
        }
    }

    #[test]
    fn names_forks_roots_and_the_allow_list() {
        let run = vec![
            repo("psf/requests", &["r1"]),
            repo("someone/reqs", &["r1"]),
            repo("a/b", &["r2"]),
        ];
        let identity = BenchmarkIdentity::new(&DecontamOptions::default(), &run);
        assert_eq!(
            identity.verdict(&run[0]).map(|v| v.reason),
            Some(DropReason::BenchmarkRepo)
        );
        let renamed = identity.verdict(&run[1]).expect("shares a root");
        assert_eq!(
            (renamed.reason, renamed.matched.as_str()),
            (DropReason::BenchmarkRoot, "psf/requests")
        );
        assert!(renamed.detail.contains("r1"));
        assert!(identity.verdict(&run[2]).is_none());
        // A shipped root (django) catches a mirror that is not in the run.
        let mirror = repo("x/dj", &["d6ded0e91bcdd2a8f7a221f6a5552a33fe545359"]);
        assert_eq!(
            identity.verdict(&mirror).map(|v| v.matched),
            Some("django/django".into())
        );
        let mut fork = repo("me/flask", &[]);
        fork.fork_parent = Some("Pallets/Flask".into());
        assert_eq!(
            identity.verdict(&fork).map(|v| v.reason),
            Some(DropReason::BenchmarkFork)
        );
        let allowed = DecontamOptions {
            allow: vec!["someone/reqs".into()],
            ..Default::default()
        };
        let identity = BenchmarkIdentity::new(&allowed, &run);
        assert!(identity.verdict(&run[1]).is_none());
        // A benchmark file's repository is a benchmark repository, with its renamed copies.
        let run = vec![repo("live/project", &["r9"]), repo("x/copy", &["r9"])];
        let files = vec!["Live/Project".to_string()];
        let identity = BenchmarkIdentity::with_file_repos(&allowed, &run, &files);
        assert_eq!(
            identity.verdict(&run[0]).map(|v| v.reason),
            Some(DropReason::BenchmarkRepo)
        );
        assert_eq!(
            identity.verdict(&run[1]).map(|v| v.reason),
            Some(DropReason::BenchmarkRoot)
        );
    }

    #[test]
    fn every_registry_repository_and_a_renamed_copy_of_it_is_matched() {
        let options = DecontamOptions::default();
        let mut checked = 0;
        for family in corpus_core::benchmark::families() {
            for (i, name) in family.repos().iter().enumerate() {
                let root = format!("{}-root-{i}", family.family);
                let original = repo(name, &[&root]);
                let mirror_folder = repo(&name.replace('/', "__"), &[]);
                let renamed = repo("someone/renamed-copy", &[&root]);
                let identity =
                    BenchmarkIdentity::new(&options, &[original.clone(), renamed.clone()]);
                assert_eq!(
                    identity.verdict(&original).map(|v| v.reason),
                    Some(DropReason::BenchmarkRepo),
                    "{name}"
                );
                assert_eq!(
                    identity.verdict(&mirror_folder).map(|v| v.reason),
                    Some(DropReason::BenchmarkRepo),
                    "{name} as a mirror folder"
                );
                let copy = identity
                    .verdict(&renamed)
                    .expect("the renamed copy shares a root");
                assert_eq!(
                    (copy.reason, copy.matched.as_str()),
                    (DropReason::BenchmarkRoot, name.as_str())
                );
                checked += 1;
            }
        }
        assert_eq!(
            checked,
            17 + 41 + 93 + 11 + 21,
            "every repository of every family"
        );
    }
}
