//! Pull requests recovered from history alone (CONTRACT.md, "Pull requests from history"):
//! only commits on the first-parent chain of the default branch count.
//!
//! - "Merge pull request #N from …" with parents P1, P2: base = merge-base(P1, P2), head = P2,
//!   commits = `git rev-list --topo-order --reverse P1..P2`.
//! - A one-parent commit whose subject ends in "(#N)": a squash merge, base = its parent.
//! - Any other one-parent commit: a main-line commit.

use std::sync::OnceLock;

use git2::{Oid, Repository};
use regex::Regex;

use crate::error::{GitError, Result};

/// What a commit on the first-parent chain is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MainLineEntry {
    MergePr {
        number: i64,
        merge: Oid,
        first_parent: Oid,
        head: Oid,
        /// `user/branch` from the message.
        from: String,
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

    /// The commit on the main line.
    pub fn commit(&self) -> Oid {
        match self {
            MainLineEntry::MergePr { merge, .. } => *merge,
            MainLineEntry::SquashPr { commit, .. }
            | MainLineEntry::Commit { commit, .. }
            | MainLineEntry::OtherMerge { commit }
            | MainLineEntry::Root { commit } => *commit,
        }
    }
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

/// Classify the first-parent chain from `head`, newest first, at most `limit` entries (0: all).
pub fn main_line(
    repo: &Repository,
    head: Oid,
    limit: u64,
    name: &str,
) -> Result<Vec<MainLineEntry>> {
    let git = |e| GitError::from_git(name, e);
    let mut walk = repo.revwalk().map_err(git)?;
    walk.push(head).map_err(git)?;
    walk.simplify_first_parent().map_err(git)?;
    let mut out = Vec::new();
    for oid in walk {
        if limit > 0 && out.len() as u64 >= limit {
            break;
        }
        let oid = oid.map_err(git)?;
        let commit = repo.find_commit(oid).map_err(git)?;
        let subject = commit.summary_bytes().unwrap_or_default();
        let subject = String::from_utf8_lossy(subject);
        let entry = match commit.parent_count() {
            0 => MainLineEntry::Root { commit: oid },
            1 => {
                let parent = commit.parent_id(0).map_err(git)?;
                match parse_squash_subject(&subject) {
                    Some(number) => MainLineEntry::SquashPr {
                        number,
                        commit: oid,
                        parent,
                    },
                    None => MainLineEntry::Commit {
                        commit: oid,
                        parent,
                    },
                }
            }
            _ => match parse_merge_subject(&subject) {
                Some((number, from)) => MainLineEntry::MergePr {
                    number,
                    merge: oid,
                    first_parent: commit.parent_id(0).map_err(git)?,
                    head: commit.parent_id(1).map_err(git)?,
                    from,
                },
                None => MainLineEntry::OtherMerge { commit: oid },
            },
        };
        out.push(entry);
    }
    Ok(out)
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
