//! The leak detector: during exploration the agent may only use what it has seen. A token
//! (identifier-like word) that occurs in the PR's added lines but nowhere in the problem
//! text or the diff's other lines is the answer; an exploration action or a template thought
//! that uses it before an observation showed it is a leak.

use rustc_hash::FxHashSet as HashSet;

/// The tokens of a text, split by bytes: every byte of a non-ASCII character splits, as the
/// character does, so each token is ASCII and cut at character boundaries.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            let start = at + bytes[at..].iter().position(|&b| in_token(b))?;
            let len = bytes[start..]
                .iter()
                .position(|&b| !in_token(b))
                .unwrap_or(bytes.len() - start);
            at = start + len;
            let word = &bytes[start..at];
            if len >= 3 && !word.iter().all(u8::is_ascii_digit) {
                // Always a boundary: the bytes on either side are ASCII or the text's ends.
                if let Some(token) = text.get(start..at) {
                    return Some(token);
                }
            }
        }
    })
}

/// Whether byte `b` belongs to a token: an ASCII letter, digit or `_` (every other character
/// splits [`tokens`]).
fn in_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether `token` (itself a token) stands as a whole token somewhere in `text`: an
/// occurrence whose neighbours are not token bytes. The same answer as looking for it among
/// `tokens(text)`, without splitting the text.
fn holds_token(text: &[u8], token: &str) -> bool {
    let finder = memchr::memmem::Finder::new(token.as_bytes());
    finder.find_iter(text).any(|at| {
        let end = at + token.len();
        (at == 0 || !in_token(text[at - 1])) && (end == text.len() || !in_token(text[end]))
    })
}

/// Past this many unseen tokens, one pass splitting the observation beats a search per token.
const SEARCH_EACH_UP_TO: usize = 8;

#[derive(Clone)]
pub struct LeakGuard {
    /// Tokens only the added lines hold (the problem text's are not among them).
    added_only: HashSet<String>,
    /// Of those, the ones the agent has seen in an observation (no other token matters, and
    /// observations are whole files: keeping every token they hold cost more than the rest
    /// of the exploration).
    seen: HashSet<String>,
}

impl LeakGuard {
    pub fn new(problem: &str, diff: &str) -> Self {
        // Borrowed tokens: copying each token of the diff cost more than the rest of the guard.
        let mut added: HashSet<&str> = HashSet::default();
        let mut elsewhere: HashSet<&str> = tokens(problem).collect();
        for line in diff.lines() {
            if line.starts_with("+++") || line.starts_with("---") {
                continue;
            }
            let target = if line.starts_with('+') {
                &mut added
            } else {
                &mut elsewhere
            };
            target.extend(tokens(line));
        }
        let added_only = added
            .into_iter()
            .filter(|t| !elsewhere.contains(t))
            .map(str::to_string)
            .collect();
        Self {
            added_only,
            seen: HashSet::default(),
        }
    }

    /// Whether a token is one only the added lines hold (and the agent has not seen).
    pub fn is_added_only(&self, token: &str) -> bool {
        self.added_only.contains(token) && !self.seen.contains(token)
    }

    /// Record an observation's tokens as seen.
    pub fn saw(&mut self, observation: &str) {
        let unseen = self.added_only.len() - self.seen.len();
        if unseen == 0 {
            return;
        }
        if unseen <= SEARCH_EACH_UP_TO {
            let found: Vec<String> = self
                .added_only
                .iter()
                .filter(|t| !self.seen.contains(*t) && holds_token(observation.as_bytes(), t))
                .cloned()
                .collect();
            self.seen.extend(found);
            return;
        }
        for token in tokens(observation) {
            if self.added_only.contains(token) && !self.seen.contains(token) {
                self.seen.insert(token.to_string());
            }
        }
    }

    /// The first leaked token of an exploration step, if any.
    pub fn check_exploration(
        &self,
        thought: &str,
        action: &crate::trajectory::Action,
    ) -> Result<(), String> {
        let texts =
            std::iter::once(thought).chain(action.arguments.iter().map(|(_, v)| v.as_str()));
        for text in texts {
            if let Some(token) = tokens(text).find(|t| self.is_added_only(t)) {
                return Err(token.to_string());
            }
        }
        Ok(())
    }

    /// Check a whole trajectory again from scratch (the test over every demo trajectory);
    /// `known` is the template vocabulary the engine's fixed text uses.
    pub fn audit(
        problem: &str,
        diff: &str,
        known: &str,
        steps: &[crate::trajectory::Step],
    ) -> Result<(), String> {
        let mut guard = Self::new(problem, diff);
        guard.saw(known);
        for step in steps {
            if step.phase == crate::trajectory::Phase::Explore
                || step.thought_source == crate::trajectory::ThoughtSource::Template
            {
                let action = if step.phase == crate::trajectory::Phase::Explore {
                    step.action.clone()
                } else {
                    crate::trajectory::Action::new(&step.action.tool, &[])
                };
                guard.check_exploration(&step.thought, &action)?;
            }
            guard.saw(&step.observation);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trajectory::Action;

    #[test]
    fn tokens_split_by_bytes_as_by_characters() {
        let by_chars = |text: &str| -> Vec<String> {
            text.split(|c: char| !(c.is_ascii() && in_token(c as u8)))
                .filter(|w| w.len() >= 3 && !w.chars().all(|c| c.is_ascii_digit()))
                .map(str::to_string)
                .collect()
        };
        for text in [
            "def parse_size(text): return 1234",
            "caf\u{e9}_name na\u{ef}ve x\u{2026}yz abc\u{1F600}def __init__",
            "",
            "12345 ab a1b2 \u{e9}\u{e9}\u{e9}",
        ] {
            assert_eq!(tokens(text).collect::<Vec<_>>(), by_chars(text), "{text}");
        }
    }

    #[test]
    fn a_token_only_the_added_lines_hold_is_a_leak_until_seen() {
        let diff =
            "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-def parse(text):\n+def parse_strict(text):\n";
        let mut guard = LeakGuard::new("parse fails on empty text", diff);
        let grep = |term: &str| Action::new("bash", &[("command", &format!("grep -rn {term} ."))]);
        assert!(
            guard
                .check_exploration("Search for parse.", &grep("parse"))
                .is_ok()
        );
        assert_eq!(
            guard.check_exploration("Look for it.", &grep("parse_strict")),
            Err("parse_strict".to_string())
        );
        guard.saw("x.py:3:    parse_strict = None");
        assert!(guard.check_exploration("", &grep("parse_strict")).is_ok());
    }

    #[test]
    fn searching_each_token_sees_what_splitting_sees() {
        let texts = [
            "parse_strict",
            "xparse_strict",
            "parse_strict2",
            "a parse_strict.",
            "é parse_strict é",
            "parse_stric",
            "_parse_strict_",
            "(parse_strict)",
            "",
            "parse_strictparse_strict",
            "zz parse_strictx parse_strict",
        ];
        for text in texts {
            let split = tokens(text).any(|t| t == "parse_strict");
            assert_eq!(
                holds_token(text.as_bytes(), "parse_strict"),
                split,
                "{text:?}"
            );
        }
        // Many unseen tokens take the splitting path; a few the search: the same seen set.
        let added: Vec<String> = (0..20).map(|i| format!("tok{i}x")).collect();
        let diff = format!("--- a/x\n+++ b/x\n+{}\n", added.join(" "));
        let observation = "tok3x, tok11x tok19xx _tok5x tok7x";
        let mut many = LeakGuard::new("", &diff);
        many.saw(observation);
        let mut few = LeakGuard::new("", &diff);
        few.seen = many
            .added_only
            .iter()
            .filter(|t| {
                !["tok3x", "tok11x", "tok7x", "tok19x", "tok5x", "tok1x"].contains(&t.as_str())
            })
            .cloned()
            .collect();
        let before: HashSet<String> = few.seen.clone();
        few.saw(observation);
        let newly: HashSet<String> = few.seen.difference(&before).cloned().collect();
        assert_eq!(newly, many.seen);
        assert_eq!(many.seen.len(), 3);
    }
}
