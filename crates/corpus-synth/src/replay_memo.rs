//! The replay of a PR's commits (its edit steps, or why it cannot be replayed), kept for the
//! PR's other variants. Variants differ only in how they explore, which never edits the
//! snapshot; the replay starts from the same base and makes the same steps, so the second
//! and later variants take them from here instead of editing and diffing again.

use std::sync::Mutex;

use crate::engine::Drop;
use crate::trajectory::Step;

/// What a replay gave: its steps, or the drop that stopped it.
pub type Replayed = Result<Vec<Step>, Drop>;

/// One slot keyed by the PR: the variants of a PR run one after another, so the last PR's
/// value is the one its next variant asks for. Holds the replay, and the PR's fresh leak guard.
pub struct LastPr<T> {
    slot: Mutex<Option<(String, T)>>,
}

impl<T> Default for LastPr<T> {
    fn default() -> Self {
        Self {
            slot: Mutex::new(None),
        }
    }
}

impl<T: Clone> LastPr<T> {
    /// The value recorded under `key`, if it is the last one recorded.
    pub fn get(&self, key: &str) -> Option<T> {
        let slot = self.slot.lock().ok()?;
        match slot.as_ref() {
            Some((k, value)) if k == key => Some(value.clone()),
            _ => None,
        }
    }

    pub fn put(&self, key: String, value: T) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some((key, value));
        }
    }
}

/// The last PR's replay, for its other variants.
pub type ReplayMemo = LastPr<Replayed>;

#[cfg(test)]
mod tests {
    use super::*;
    use corpus_core::drop_reason::DropReason;

    #[test]
    fn the_last_replay_is_kept_under_its_key_only() {
        let memo = ReplayMemo::default();
        assert!(memo.get("a").is_none());
        memo.put("a".into(), Ok(Vec::new()));
        assert_eq!(memo.get("a"), Some(Ok(Vec::new())));
        let dropped = Drop {
            reason: DropReason::ReplayMismatch,
            detail: "x".into(),
        };
        memo.put("b".into(), Err(dropped.clone()));
        assert!(memo.get("a").is_none());
        assert_eq!(memo.get("b"), Some(Err(dropped)));
    }
}
