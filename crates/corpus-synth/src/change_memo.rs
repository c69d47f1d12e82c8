//! The paths each commit of a PR changes (with its tree), found once and shared by the PR's
//! variants: every variant prepares the same commits, and diffing a commit against its parent
//! gives the same answer each time.

use std::collections::HashMap;
use std::sync::Mutex;

use git2::{Delta, Oid};

/// A commit's tree and the paths it changes against its first parent, sorted.
pub type Change = (Oid, Vec<(String, Delta)>);

/// Commits kept at most; past it the memo starts over (a unit's PRs come in order, so the
/// commits of the PR at hand are what it needs).
const MOST_COMMITS: usize = 4_096;

#[derive(Default)]
pub struct ChangeMemo {
    map: Mutex<HashMap<String, Change>>,
}

impl ChangeMemo {
    pub fn get(&self, sha: &str) -> Option<Change> {
        self.map.lock().ok()?.get(sha).cloned()
    }

    pub fn put(&self, sha: &str, change: Change) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= MOST_COMMITS {
                map.clear();
            }
            map.insert(sha.to_string(), change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_kept_and_the_memo_starts_over_when_full() {
        let memo = ChangeMemo::default();
        assert!(memo.get("a").is_none());
        let change: Change = (Oid::ZERO_SHA1, vec![("x.py".into(), Delta::Modified)]);
        memo.put("a", change.clone());
        assert_eq!(memo.get("a"), Some(change.clone()));
        for n in 0..MOST_COMMITS {
            memo.put(&n.to_string(), change.clone());
        }
        assert!(memo.get("a").is_none());
        assert_eq!(memo.get("4095"), Some(change));
    }
}
