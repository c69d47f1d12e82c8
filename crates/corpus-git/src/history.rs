//! Pull requests recovered from history alone.
//!
//! The walk starts on the first-parent chain of the default branch and, unless the recipe
//! limits it to that chain, continues recursively on the first-parent chain of every merge's
//! other parents: a maintenance branch merged into main ("Merge branch 'stable'", or through
//! a PR such as "Merge stable into main (#N)") brings its own PR merges and squash commits.
//! Each commit is visited once. On any chain:
//!
//! - "Merge pull request #N from …", or a merge whose subject ends in "(#N)" (GitHub's
//!   "pull request title" merge message), with parents P1, P2: base = merge-base(P1, P2),
//!   head = P2, commits = `git rev-list --topo-order --reverse P1..P2`.
//! - A one-parent commit whose subject ends in "(#N)", or that the crawl names as PR N's
//!   merge: a squash merge, base = its parent.
//!
//! On the default branch's own chain, any other one-parent commit is a main-line commit, and
//! other merges and root commits are reported. A PR number found twice (a cherry-pick onto a
//! maintenance branch keeps the subject) keeps its earliest merge.

use corpus_core::identity::PatchKind;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::OnceLock;

use git2::{Oid, Repository};
use regex::Regex;

use crate::error::{GitError, Result};

/// How a PR's merge was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MergeForm {
    /// "Merge pull request #N from owner/branch".
    Classic,
    /// A merge commit titled like a squash: "Title (#N)".
    Titled,
}

/// What a commit of the walk is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MainLineEntry {
    MergePr {
        number: i64,
        merge: Oid,
        first_parent: Oid,
        head: Oid,
        form: MergeForm,
        /// `user/branch` from a classic merge message.
        from: Option<String>,
    },
    SquashPr {
        number: i64,
        commit: Oid,
        parent: Oid,
    },
    Commit {
        commit: Oid,
        parent: Oid,
    },
    /// A merge that is not a GitHub PR merge ("Merge branch 'x'").
    OtherMerge {
        commit: Oid,
    },
    Root {
        commit: Oid,
    },
}

impl MainLineEntry {
    /// The PR number, for PR entries.
    pub fn pr_number(&self) -> Option<i64> {
        match self {
            MainLineEntry::MergePr { number, .. } | MainLineEntry::SquashPr { number, .. } => {
                Some(*number)
            }
            _ => None,
        }
    }

    /// The commit the walk met.
    pub fn commit(&self) -> Oid {
        match self {
            MainLineEntry::MergePr { merge, .. } => *merge,
            MainLineEntry::SquashPr { commit, .. }
            | MainLineEntry::Commit { commit, .. }
            | MainLineEntry::OtherMerge { commit }
            | MainLineEntry::Root { commit } => *commit,
        }
    }

    /// The `patches.kind` of a PR or commit entry.
    pub fn kind(&self) -> Option<PatchKind> {
        match self {
            MainLineEntry::MergePr {
                form: MergeForm::Classic,
                ..
            } => Some(PatchKind::MergePr),
            MainLineEntry::MergePr {
                form: MergeForm::Titled,
                ..
            } => Some(PatchKind::TitledMergePr),
            MainLineEntry::SquashPr { .. } => Some(PatchKind::SquashPr),
            MainLineEntry::Commit { .. } => Some(PatchKind::Commit),
            _ => None,
        }
    }
}

/// Which chain of the walk a commit was met on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Route {
    /// The default branch's first-parent chain.
    FirstParent,
    /// The first-parent chain of a merge's other parent (a merged-in branch).
    MergedBranch,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::FirstParent => "first_parent",
            Route::MergedBranch => "merged_branch",
        }
    }
}

/// One commit of the walk that matters to extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub entry: MainLineEntry,
    pub route: Route,
    /// Committer time of the commit (the merge time of a PR).
    pub time: i64,
}

/// A PR number met again after its first merge was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatedPr {
    pub number: i64,
    pub commit: Oid,
    pub kept: Oid,
}

/// The walk's result: entries in walk order (newest first on each chain, the default
/// branch's chain first), and the PR numbers met again.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub entries: Vec<HistoryEntry>,
    pub repeated: Vec<RepeatedPr>,
}

/// How far the walk goes.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// At most this many commits visited (0: all).
    pub limit: u64,
    /// Only the default branch's first-parent chain.
    pub first_parent_only: bool,
    /// Main-line commits the crawl names as a PR's merge (a squash or rebase merge whose
    /// subject carries no "(#N)"), by commit.
    pub known_merges: HashMap<Oid, i64>,
}

fn merge_pr_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^Merge pull request #(\d+) from (\S+)").expect("static regex"))
}

fn squash_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\(#(\d+)\)\s*$").expect("static regex"))
}

/// The PR number and source of a GitHub merge subject.
pub fn parse_merge_subject(subject: &str) -> Option<(i64, String)> {
    let caps = merge_pr_re().captures(subject)?;
    Some((caps[1].parse().ok()?, caps[2].to_string()))
}

/// The PR number of a squash subject ("Fix the thing (#123)").
pub fn parse_squash_subject(subject: &str) -> Option<i64> {
    squash_re().captures(subject)?[1].parse().ok()
}

/// Classify one commit met on `route`; `None` for a commit that is nothing to extraction
/// (a plain commit or a non-PR merge inside a merged-in branch).
fn classify(
    commit: &git2::Commit,
    route: Route,
    known_merges: &HashMap<Oid, i64>,
    git: &impl Fn(git2::Error) -> GitError,
) -> Result<Option<MainLineEntry>> {
    let oid = commit.id();
    let subject = String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default());
    let on_main = route == Route::FirstParent;
    Ok(match commit.parent_count() {
        0 => on_main.then_some(MainLineEntry::Root { commit: oid }),
        1 => {
            let parent = commit.parent_id(0).map_err(git)?;
            let number = parse_squash_subject(&subject).or_else(|| known_merges.get(&oid).copied());
            match number {
                Some(number) => Some(MainLineEntry::SquashPr {
                    number,
                    commit: oid,
                    parent,
                }),
                None => on_main.then_some(MainLineEntry::Commit {
                    commit: oid,
                    parent,
                }),
            }
        }
        _ => {
            let classic = parse_merge_subject(&subject);
            let titled = parse_squash_subject(&subject);
            let first_parent = commit.parent_id(0).map_err(git)?;
            let head = commit.parent_id(1).map_err(git)?;
            match (classic, titled) {
                (Some((number, from)), _) => Some(MainLineEntry::MergePr {
                    number,
                    merge: oid,
                    first_parent,
                    head,
                    form: MergeForm::Classic,
                    from: Some(from),
                }),
                (None, Some(number)) => Some(MainLineEntry::MergePr {
                    number,
                    merge: oid,
                    first_parent,
                    head,
                    form: MergeForm::Titled,
                    from: None,
                }),
                (None, None) => on_main.then_some(MainLineEntry::OtherMerge { commit: oid }),
            }
        }
    })
}

/// Walk the history from `head` (the default branch's tip): every PR of the default branch
/// and of the branches merged into it, and the default branch's own commits.
pub fn walk_history(
    repo: &Repository,
    head: Oid,
    options: &WalkOptions,
    name: &str,
) -> Result<History> {
    let git = |e| GitError::from_git(name, e);
    let mut visited: HashSet<Oid> = HashSet::new();
    let mut chains: VecDeque<(Oid, Route)> = VecDeque::from([(head, Route::FirstParent)]);
    let mut entries = Vec::new();
    'chains: while let Some((start, route)) = chains.pop_front() {
        let mut next = Some(start);
        while let Some(oid) = next {
            if !visited.insert(oid) {
                break;
            }
            if options.limit > 0 && visited.len() as u64 > options.limit {
                break 'chains;
            }
            let commit = repo.find_commit(oid).map_err(git)?;
            if let Some(entry) = classify(&commit, route, &options.known_merges, &git)? {
                entries.push(HistoryEntry {
                    entry,
                    route,
                    time: commit.committer().when().seconds(),
                });
            }
            if !options.first_parent_only {
                for other in commit.parent_ids().skip(1) {
                    chains.push_back((other, Route::MergedBranch));
                }
            }
            next = commit.parent_ids().next();
        }
    }
    Ok(keep_first_merges(entries))
}

/// A PR number met more than once keeps its earliest merge (then the first met).
fn keep_first_merges(entries: Vec<HistoryEntry>) -> History {
    let mut first: HashMap<i64, (i64, usize)> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if let Some(number) = e.entry.pr_number() {
            let slot = first.entry(number).or_insert((e.time, i));
            if e.time < slot.0 {
                *slot = (e.time, i);
            }
        }
    }
    let mut history = History::default();
    let kept_commit: HashMap<i64, Oid> = first
        .iter()
        .map(|(number, (_, i))| (*number, entries[*i].entry.commit()))
        .collect();
    for (i, e) in entries.into_iter().enumerate() {
        match e.entry.pr_number() {
            Some(number) if first.get(&number).is_some_and(|(_, k)| *k != i) => {
                history.repeated.push(RepeatedPr {
                    number,
                    commit: e.entry.commit(),
                    kept: kept_commit[&number],
                });
            }
            _ => history.entries.push(e),
        }
    }
    history
}

/// A branch range `from..to`: the commits reachable from `to` and not from `from`, oldest
/// first (`git rev-list --topo-order --reverse from..to`), and `git merge-base from to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchRange {
    pub base: Oid,
    pub commits: Vec<Oid>,
}

/// Answers [`BranchRange`]s for many pairs of one repository through one revision walk,
/// reset between pairs: the commits it parsed stay parsed, where a walk per pair (and
/// libgit2's merge-base, which makes its own) would read the same history again for every
/// PR.
pub struct RangeWalker<'r> {
    repo: &'r Repository,
    walk: git2::Revwalk<'r>,
    name: String,
}

impl<'r> RangeWalker<'r> {
    pub fn new(repo: &'r Repository, name: &str) -> Result<Self> {
        let walk = repo.revwalk().map_err(|e| GitError::from_git(name, e))?;
        Ok(Self {
            repo,
            walk,
            name: name.to_string(),
        })
    }

    /// The range `from..to` and the merge base of `from` and `to`. The merge base comes from
    /// the range itself when the range leaves through one commit (every common ancestor is
    /// then behind it, so it is the one best common ancestor); with several ways out (a
    /// criss-cross history) libgit2's merge-base decides, as before.
    pub fn range(&mut self, from: Oid, to: Oid) -> Result<BranchRange> {
        let name = self.name.clone();
        let git = |e| GitError::from_git(&name, e);
        self.walk.reset().map_err(git)?;
        self.walk
            .set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .map_err(git)?;
        self.walk.push(to).map_err(git)?;
        self.walk.hide(from).map_err(git)?;
        let commits = self
            .walk
            .by_ref()
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(git)?;
        if commits.is_empty() {
            // `to` is reachable from `from`: it is its own merge base.
            return Ok(BranchRange { base: to, commits });
        }
        let inside: HashSet<Oid> = commits.iter().copied().collect();
        let mut exits: HashSet<Oid> = HashSet::new();
        for oid in &commits {
            let commit = self.repo.find_commit(*oid).map_err(git)?;
            exits.extend(commit.parent_ids().filter(|p| !inside.contains(p)));
        }
        let base = match exits.len() {
            1 => exits.into_iter().next().unwrap_or(to),
            _ => self.repo.merge_base(from, to).map_err(git)?,
        };
        Ok(BranchRange { base, commits })
    }
}

/// The commits of a merged branch, oldest first: `git rev-list --topo-order --reverse P1..P2`.
pub fn branch_commits(
    repo: &Repository,
    first_parent: Oid,
    head: Oid,
    name: &str,
) -> Result<Vec<Oid>> {
    let git = |e| GitError::from_git(name, e);
    let mut walk = repo.revwalk().map_err(git)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .map_err(git)?;
    walk.push(head).map_err(git)?;
    walk.hide(first_parent).map_err(git)?;
    walk.collect::<Result<Vec<_>, _>>().map_err(git)
}

/// The commit messages of each PR's `base..head` range, joined (for closing keywords), by
/// PR number; a PR whose commits the repository lacks gets nothing.
pub fn pr_commit_messages(
    path: &std::path::Path,
    prs: &[(i64, String, String)],
) -> Result<std::collections::BTreeMap<i64, String>> {
    let name = path.display().to_string();
    let repo = Repository::open(path).map_err(|e| GitError::from_git(&name, e))?;
    let mut out = std::collections::BTreeMap::new();
    for (number, base, head) in prs {
        let (Ok(base), Ok(head)) = (Oid::from_str(base), Oid::from_str(head)) else {
            continue;
        };
        if repo.find_commit(base).is_err() || repo.find_commit(head).is_err() {
            continue;
        }
        let mut text = String::new();
        for oid in branch_commits(&repo, base, head, &name)? {
            if let Ok(commit) = repo.find_commit(oid) {
                text.push_str(&String::from_utf8_lossy(commit.message_bytes()));
                text.push('\n');
            }
        }
        out.insert(*number, text);
    }
    Ok(out)
}

/// How many files each PR changes (GitHub's `changed_files`: the diff from the merge base
/// of base and head to head, renames as two paths), by PR number; a PR whose commits the
/// repository lacks gets nothing.
pub fn pr_changed_files(
    path: &std::path::Path,
    prs: &[(i64, String, String)],
) -> Result<std::collections::BTreeMap<i64, i64>> {
    let name = path.display().to_string();
    let git = |e| GitError::from_git(&name, e);
    let repo = Repository::open(path).map_err(git)?;
    let mut out = std::collections::BTreeMap::new();
    for (number, base, head) in prs {
        let (Ok(base), Ok(head)) = (Oid::from_str(base), Oid::from_str(head)) else {
            continue;
        };
        let (Ok(head_commit), Ok(merge_base)) =
            (repo.find_commit(head), repo.merge_base(base, head))
        else {
            continue;
        };
        let base_tree = repo
            .find_commit(merge_base)
            .and_then(|c| c.tree())
            .map_err(git)?;
        let head_tree = head_commit.tree().map_err(git)?;
        let diff = repo
            .diff_tree_to_tree(Some(&base_tree), Some(&head_tree), None)
            .map_err(git)?;
        out.insert(*number, diff.deltas().len() as i64);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_subjects() {
        assert_eq!(
            parse_merge_subject("Merge pull request #12 from alice/fix-x"),
            Some((12, "alice/fix-x".into()))
        );
        assert_eq!(parse_merge_subject("Merge branch 'main' into x"), None);
        assert_eq!(parse_squash_subject("Fix the thing (#123)"), Some(123));
        assert_eq!(parse_squash_subject("Fix (#12) the thing"), None);
        assert_eq!(parse_squash_subject("Fix the thing"), None);
    }
}
