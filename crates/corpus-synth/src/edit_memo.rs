//! The replay's work, done once per file change and shared by the variants of a PR (and by
//! PRs that share commits): every variant replays the same commits on the same files, so the
//! edit blocks of a change and the editor's answer to an edit are the same for all of them.

use std::collections::HashMap;
use std::sync::Mutex;

use corpus_agentless::search_replace::{Block, ConvertError};
use corpus_core::hash::id128;

use crate::emulator::editor::EditorResult;

/// Bytes of blocks kept at most; past it the memo starts over.
pub const EDIT_BUDGET: usize = 64 << 20;

type Blocks = Result<Vec<Block>, ConvertError>;

/// The editor's answer to an edit and the file it leaves (None when it refused).
type Edited = (EditorResult, Option<Vec<u8>>);

#[derive(Default)]
struct Memo {
    map: HashMap<String, Blocks>,
    editor: HashMap<String, Edited>,
    bytes: usize,
}

impl Memo {
    /// Room for `size` more bytes: past the budget the memo starts over.
    fn make_room(&mut self, size: usize, budget: usize) {
        if self.bytes + size > budget {
            self.map.clear();
            self.editor.clear();
            self.bytes = 0;
        }
        self.bytes += size;
    }
}

pub struct EditMemo {
    memo: Mutex<Memo>,
    budget: usize,
}

/// The key of the editor's answer to a `str_replace` of `old` by `new` in a file of bytes
/// `file`, shown as `shown`.
pub fn str_replace_key(shown: &str, file: &[u8], old: &str, new: &str) -> String {
    format!(
        "str_replace\0{shown}\0{}\0{}\0{}",
        id128(file),
        id128(old.as_bytes()),
        id128(new.as_bytes())
    )
}

impl Default for EditMemo {
    fn default() -> Self {
        Self::new(EDIT_BUDGET)
    }
}

impl EditMemo {
    pub fn new(budget: usize) -> Self {
        Self {
            memo: Mutex::new(Memo::default()),
            budget,
        }
    }

    /// The blocks that turn `before` into `after` at `path` (with the commit's diff section,
    /// when there is one), from the memo or from `compute`.
    pub fn blocks(
        &self,
        path: &str,
        before: &str,
        after: &str,
        section: Option<&str>,
        compute: impl FnOnce() -> Blocks,
    ) -> Blocks {
        let key = format!(
            "{path}\0{}\0{}\0{}",
            id128(before.as_bytes()),
            id128(after.as_bytes()),
            section.map(|s| id128(s.as_bytes())).unwrap_or_default()
        );
        if let Some(found) = self.memo.lock().ok().and_then(|m| m.map.get(&key).cloned()) {
            return found;
        }
        let blocks = compute();
        let size = key.len()
            + blocks.as_ref().map_or(0, |b| {
                b.iter()
                    .map(|b| b.path.len() + b.search.len() + b.replace.len())
                    .sum()
            });
        if size <= self.budget / 16
            && let Ok(mut memo) = self.memo.lock()
        {
            memo.make_room(size, self.budget);
            memo.map.insert(key, blocks.clone());
        }
        blocks
    }

    /// The editor's answer under `key` ([`str_replace_key`]), if an earlier edit gave it.
    pub fn editor(&self, key: &str) -> Option<Edited> {
        self.memo.lock().ok()?.editor.get(key).cloned()
    }

    pub fn put_editor(&self, key: String, result: &EditorResult, content: Option<&[u8]>) {
        let size = key.len() + result.output.len() + content.map_or(0, <[u8]>::len);
        if size > self.budget / 16 {
            return;
        }
        if let Ok(mut memo) = self.memo.lock() {
            memo.make_room(size, self.budget);
            memo.editor
                .insert(key, (result.clone(), content.map(<[u8]>::to_vec)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_change_is_computed_once() {
        let memo = EditMemo::default();
        let mut calls = 0;
        let mut get = |after: &str| {
            memo.blocks("a.py", "x = 1\n", after, None, || {
                calls += 1;
                corpus_agentless::search_replace::str_replace_blocks("a.py", "x = 1\n", after, None)
            })
        };
        let first = get("x = 2\n");
        let again = get("x = 2\n");
        let other = get("x = 3\n");
        assert_eq!(first, again);
        assert_ne!(first, other);
        assert_eq!(calls, 2);
    }
}
