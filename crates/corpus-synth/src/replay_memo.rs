//! The replay of a PR's commits (its edit steps, or why it cannot be replayed), kept for the
//! PR's other variants. Variants differ only in how they explore, which never edits the
//! snapshot; the replay starts from the same base and makes the same steps, so the second
//! and later variants take them from here instead of editing and diffing again.

use std::sync::Mutex;

use crate::engine::Drop;
use crate::trajectory::Step;

/// What a replay gave: its steps, or the drop that stopped it.
pub type Replayed = Result<Vec<Step>, Drop>;

/// One slot: the variants of a PR run one after another.
#[derive(Default)]
pub struct ReplayMemo {
    slot: Mutex<Option<(String, Replayed)>>,
}

impl ReplayMemo {
    /// The replay recorded under `key`, if it is the last one recorded.
    pub fn get(&self, key: &str) -> Option<Replayed> {
        let slot = self.slot.lock().ok()?;
        match slot.as_ref() {
            Some((k, replayed)) if k == key => Some(replayed.clone()),
            _ => None,
        }
    }

    pub fn put(&self, key: String, replayed: Replayed) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some((key, replayed));
        }
    }
}

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
