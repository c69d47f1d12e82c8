//! The benchmark registry: one TOML file per benchmark family in `data/decontam/benchmarks/`,
//! compiled into the binary. Each names the family's repositories, its instance ids where
//! public, the root commits that could be computed, and the source of every fact. The recipe
//! picks families (`[decontam] benchmarks`, default all); extraction skips their repositories
//! by name before any work, and `corpus-decontam` adds roots, forks, instance ids and content.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::recipe::DecontamOptions;
use crate::repo_name::normalize;

/// The shipped family files, in the order reports list them.
const FAMILY_FILES: &[(&str, &str)] = &[
    (
        "swe-bench",
        include_str!("../../../data/decontam/benchmarks/swe-bench.toml"),
    ),
    (
        "swe-bench-multilingual",
        include_str!("../../../data/decontam/benchmarks/swe-bench-multilingual.toml"),
    ),
    (
        "multi-swe-bench",
        include_str!("../../../data/decontam/benchmarks/multi-swe-bench.toml"),
    ),
    (
        "swe-bench-pro",
        include_str!("../../../data/decontam/benchmarks/swe-bench-pro.toml"),
    ),
    (
        "swe-polybench",
        include_str!("../../../data/decontam/benchmarks/swe-polybench.toml"),
    ),
    (
        "swe-bench-live",
        include_str!("../../../data/decontam/benchmarks/swe-bench-live.toml"),
    ),
];

/// One benchmark family (SWE-bench, Multi-SWE-bench, ...): what its file says.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    pub family: String,
    pub title: String,
    /// The date the facts were gathered (`YYYY-MM-DD`): the registry version of this family.
    pub version: String,
    pub sources: Vec<String>,
    /// Repositories whose root commits are not shipped; a run's mirrors of them add theirs.
    #[serde(default)]
    pub roots_at_run_time: Vec<String>,
    /// Live benchmarks: the earliest date their instances come from.
    #[serde(default)]
    pub since: Option<String>,
    #[serde(rename = "subset")]
    pub subsets: Vec<Subset>,
    #[serde(default)]
    pub roots: Vec<RootCommit>,
    /// Gold patches by their changed lines, where they could be read.
    #[serde(default)]
    pub gold: Vec<GoldLines>,
}

/// An instance's gold patch as changed lines: `LINES SIGNATURE H1 H2 ...` in hexadecimal (the
/// count of countable lines, the hash of the whole set, its smallest line hashes), as
/// `swe-corpus decontam gold-lines` prints it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldLines {
    pub instance: String,
    pub lines: String,
}

/// A split or variant of a family (Verified, Lite, mini, the RL pool).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subset {
    pub name: String,
    pub title: String,
    /// Repositories and instances the benchmark's own card states, where it states them.
    #[serde(default)]
    pub declared_repos: Option<usize>,
    #[serde(default)]
    pub declared_instances: Option<usize>,
    #[serde(default)]
    pub languages: Vec<String>,
    pub repos: Vec<String>,
    /// Instance ids as the benchmark writes them (`owner__repo-1234`).
    #[serde(default)]
    pub instances: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootCommit {
    pub repo: String,
    pub commit: String,
}

impl Family {
    /// Every repository of every subset, once, lower-case `owner/name`.
    pub fn repos(&self) -> BTreeSet<String> {
        self.subsets
            .iter()
            .flat_map(|s| &s.repos)
            .filter_map(|r| normalize(r))
            .collect()
    }

    /// Every instance id of every subset, once.
    pub fn instances(&self) -> BTreeSet<&str> {
        self.subsets
            .iter()
            .flat_map(|s| &s.instances)
            .map(String::as_str)
            .collect()
    }
}

/// The shipped families, parsed once. The files are compiled in and their shape is tested,
/// so a parse failure is a build defect, not an input error.
pub fn families() -> &'static [Family] {
    static FAMILIES: OnceLock<Vec<Family>> = OnceLock::new();
    FAMILIES.get_or_init(|| {
        FAMILY_FILES
            .iter()
            .map(|(name, text)| {
                toml::from_str(text).unwrap_or_else(|e| {
                    panic!("shipped benchmark family {name} does not parse: {e}")
                })
            })
            .collect()
    })
}

/// The family whose registry file lists instance `id` (any case; SWE-bench Pro's ids also
/// without their `instance_` prefix).
pub fn family_of_instance(id: &str) -> Option<&'static str> {
    static BY_ID: OnceLock<std::collections::HashMap<String, &'static str>> = OnceLock::new();
    let by_id = BY_ID.get_or_init(|| {
        let mut map = std::collections::HashMap::new();
        for family in families() {
            for id in family.instances() {
                let lower = id.to_ascii_lowercase();
                if let Some(bare) = lower.strip_prefix("instance_") {
                    map.insert(bare.to_string(), family.family.as_str());
                }
                map.insert(lower, family.family.as_str());
            }
        }
        map
    });
    by_id.get(&id.to_ascii_lowercase()).copied()
}

/// A digest of the shipped registry: stages whose work depends on it carry it in their
/// fingerprints, so a newer registry reruns them.
pub fn registry_digest() -> String {
    let mut fingerprint = crate::hash::Fingerprint::new();
    for (name, text) in FAMILY_FILES {
        fingerprint.field(name, text.as_bytes());
    }
    fingerprint.finish()
}

/// The names the recipe may give in `[decontam] benchmarks`.
pub fn family_names() -> Vec<&'static str> {
    FAMILY_FILES.iter().map(|(name, _)| *name).collect()
}

/// The family of this name, if shipped.
pub fn family(name: &str) -> Option<&'static Family> {
    families().iter().find(|f| f.family == name)
}

/// The registry version a run checks against: each chosen family with its version.
pub fn registry_version(chosen: &[&str]) -> String {
    chosen
        .iter()
        .filter_map(|name| family(name))
        .map(|f| format!("{}@{}", f.family, f.version))
        .collect::<Vec<_>>()
        .join(",")
}

/// The benchmark repositories a recipe excludes, lower-case `owner/name`, each with the
/// family that names it (`extra` for the recipe's own).
#[derive(Debug, Clone, Default)]
pub struct BenchmarkRepos {
    names: BTreeMap<String, String>,
    allowed: BTreeSet<String>,
}

impl BenchmarkRepos {
    pub fn from_options(options: &DecontamOptions) -> Self {
        let mut names = BTreeMap::new();
        for name in options.families() {
            if let Some(family) = family(name) {
                for repo in family.repos() {
                    names.entry(repo).or_insert_with(|| family.family.clone());
                }
            }
        }
        for repo in options.extra_repos.iter().filter_map(|n| normalize(n)) {
            names.entry(repo).or_insert_with(|| "extra".to_string());
        }
        let allowed = options.allow.iter().filter_map(|n| normalize(n)).collect();
        Self { names, allowed }
    }

    /// Add repositories a benchmark file names (its `repo` column), under `family`.
    pub fn add(&mut self, repo: &str, family: &str) {
        if let Some(repo) = normalize(repo) {
            self.names.entry(repo).or_insert_with(|| family.to_string());
        }
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
            .find(|n| self.names.contains_key(n))
    }

    /// The family that names benchmark repository `repo` (lower-case `owner/name`).
    pub fn family_of(&self, repo: &str) -> Option<&str> {
        self.names.get(repo).map(String::as_str)
    }

    /// Whether the recipe releases this repository from every match.
    pub fn is_allowed(&self, repo: &str) -> bool {
        normalize(repo).is_some_and(|n| self.allowed.contains(&n))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.keys().map(String::as_str)
    }
}

/// Shipped root commits of the chosen families: (benchmark repository, root commit id).
pub fn shipped_root_commits(options: &DecontamOptions) -> Vec<(String, String)> {
    options
        .families()
        .into_iter()
        .filter_map(family)
        .flat_map(|f| &f.roots)
        .map(|r| (r.repo.clone(), r.commit.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(families: &[&str]) -> DecontamOptions {
        DecontamOptions {
            benchmarks: Some(families.iter().map(|f| f.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn matches_names_case_and_mirror_spelling() {
        let repos = BenchmarkRepos::from_options(&only(&["swe-bench"]));
        assert_eq!(
            repos.matches("PSF/Requests", []),
            Some("psf/requests".into())
        );
        assert_eq!(
            repos.matches("acme/x", ["psf__requests"]),
            Some("psf/requests".into())
        );
        assert_eq!(repos.matches("acme/x", []), None);
        assert_eq!(repos.family_of("psf/requests"), Some("swe-bench"));
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
    fn default_is_every_family_and_false_verified_is_none() {
        let all = BenchmarkRepos::from_options(&DecontamOptions::default());
        assert_eq!(all.family_of("ansible/ansible"), Some("swe-bench-pro"));
        assert_eq!(
            all.family_of("tokio-rs/tokio"),
            Some("swe-bench-multilingual")
        );
        assert_eq!(all.family_of("trinodb/trino"), Some("swe-polybench"));
        assert_eq!(all.family_of("zeromicro/go-zero"), Some("multi-swe-bench"));
        let none = DecontamOptions {
            swe_bench_verified: Some(false),
            ..Default::default()
        };
        assert_eq!(BenchmarkRepos::from_options(&none).names().count(), 0);
    }

    #[test]
    fn instances_name_their_family() {
        assert_eq!(
            family_of_instance("Django__django-11099"),
            Some("swe-bench")
        );
        assert_eq!(
            family_of_instance("alibaba__fastjson2-1245"),
            Some("multi-swe-bench")
        );
        let pro = "NodeBB__NodeBB-00c70ce7b0541cfc94afe567921d7668cdc8f4ac-vnan";
        assert_eq!(family_of_instance(pro), Some("swe-bench-pro"));
        assert_eq!(family_of_instance("acme__widgets-1"), None);
    }

    #[test]
    fn root_commits_parse() {
        let roots = shipped_root_commits(&DecontamOptions::default());
        assert!(roots.len() >= 15);
        assert!(roots.iter().all(|(_, sha)| sha.len() == 40));
    }

    #[test]
    fn registry_shape_and_counts() {
        let names = family_names();
        assert_eq!(families().len(), names.len());
        for (f, name) in families().iter().zip(&names) {
            assert_eq!(&f.family, name, "file name and family agree");
            assert!(
                crate::days::parse(&f.version).is_some(),
                "{name}: version is a date"
            );
            assert!(!f.sources.is_empty(), "{name}: every fact has a source");
            for s in &f.subsets {
                if let Some(n) = s.declared_repos {
                    let distinct: BTreeSet<_> =
                        s.repos.iter().filter_map(|r| normalize(r)).collect();
                    assert_eq!(distinct.len(), n, "{name}/{}: repositories", s.name);
                }
                if let Some(n) = s.declared_instances
                    && !s.instances.is_empty()
                {
                    let distinct: BTreeSet<_> = s.instances.iter().collect();
                    assert_eq!(distinct.len(), n, "{name}/{}: instances", s.name);
                }
            }
            for root in &f.roots {
                assert_eq!(root.commit.len(), 40, "{name}: {}", root.repo);
                assert!(f.repos().contains(&root.repo.to_lowercase()));
            }
            // Every repository has shipped roots or is listed as computed at run time.
            let rooted: BTreeSet<String> = f.roots.iter().map(|r| r.repo.to_lowercase()).collect();
            let later: BTreeSet<String> = f
                .roots_at_run_time
                .iter()
                .map(|r| r.to_lowercase())
                .collect();
            assert!(rooted.is_disjoint(&later), "{name}");
            let both: BTreeSet<String> = rooted.union(&later).cloned().collect();
            assert_eq!(
                both,
                f.repos(),
                "{name}: roots shipped or computed at run time"
            );
        }
        let count = |name: &str| family(name).map(|f| (f.repos().len(), f.instances().len()));
        assert_eq!(count("swe-bench"), Some((17, 500)));
        assert_eq!(count("swe-bench-multilingual"), Some((41, 0)));
        // The benchmark (39), mini (43) and the RL pool (74) share repositories and instances.
        assert_eq!(count("multi-swe-bench"), Some((93, 6405)));
        assert_eq!(count("swe-bench-pro"), Some((11, 1000)));
        assert_eq!(count("swe-polybench"), Some((21, 0)));
        assert_eq!(count("swe-bench-live"), Some((0, 0)));
        let later = |name: &str| family(name).map(|f| f.roots_at_run_time.len());
        assert_eq!(
            later("swe-bench"),
            Some(3),
            "matplotlib, scikit-learn, wp-calypso"
        );
        let roots: usize = families().iter().map(|f| f.roots.len()).sum();
        assert_eq!(roots, 21 + 79 + 155 + 14 + 16);
    }
}
