//! Localization reasoning built from evidence (the deterministic engine's `synthetic_reasoning`
//! rows): the response to the Agentless localization prompt narrates the search chain that
//! found the files (the search, its real output, why each other hit needs no change, where
//! the term sits in each right file), then gives the Agentless answer. It is labelled as
//! evidence, not a model's chain of thought, and it is kept only when it names exactly the
//! right files (as the paper kept only exact answers).

use crate::engine::{Drop, Evidence, TEMPLATE_WORDS};
use crate::leak::LeakGuard;

/// Every fixed word of the reasoning text (its slots are checked by the leak guard).
pub const REASONING_WORDS: &str = "The issue mentions so the code to change should hold it \
    Searching the repository for it Among the matches is where but nothing there is about the \
    problem so it needs no change is the right place is a test file not where this change goes \
    is not a test file The files to change are The file to change is";

/// The reasoning and answer naming exactly `files`, or why the evidence does not support it.
pub fn localization_reasoning(
    evidence: &Evidence,
    files: &[String],
    role: &str,
) -> Result<String, Drop> {
    let found: Vec<&str> = evidence.found.iter().map(|(p, _)| p.as_str()).collect();
    if let Some(missing) = files.iter().find(|f| !found.contains(&f.as_str())) {
        return Err(Drop {
            reason: "reasoning_incomplete",
            detail: format!("the search for `{}` does not find {missing}", evidence.term),
        });
    }
    let term = &evidence.term;
    let mut text = format!(
        "The issue mentions `{term}`, so the code to change should hold it. Searching the repository for it:\n\n$ {}\n{}",
        evidence.command, evidence.output
    );
    if !evidence.output.ends_with('\n') {
        text.push('\n');
    }
    let mut notes = Vec::new();
    for (path, fact) in &evidence.others {
        notes.push(format!(
            "In `{path}`, {fact}, but nothing there is about the problem, so it needs no change."
        ));
    }
    for (path, fact) in &evidence.found {
        let note = if files.contains(path) {
            format!("In `{path}`, {fact}: this is the right place.")
        } else if role == "bugfixer" {
            format!("`{path}` is a test file, not where this change goes.")
        } else {
            format!("`{path}` is not a test file.")
        };
        notes.push(note);
    }
    // Quoted lines must not bring in what only the PR adds and the output did not show.
    let mut guard = LeakGuard::new(&evidence.problem, &evidence.diff);
    guard.saw(TEMPLATE_WORDS);
    guard.saw(REASONING_WORDS);
    guard.saw(&evidence.output);
    let empty = crate::trajectory::Action::new("none", &[]);
    for note in &notes {
        guard
            .check_exploration(note, &empty)
            .map_err(|token| Drop {
                reason: "leak",
                detail: format!(
                    "the reasoning would quote `{token}`, found only in the PR's added lines"
                ),
            })?;
    }
    text.push('\n');
    text.push_str(&notes.join("\n"));
    text.push_str(if files.len() == 1 {
        "\n\nThe file to change is:\n```\n"
    } else {
        "\n\nThe files to change are:\n```\n"
    });
    for f in files {
        text.push_str(f);
        text.push('\n');
    }
    text.push_str("```");
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence() -> Evidence {
        Evidence {
            problem: "parse fails on empty text".into(),
            term: "parse".into(),
            command: "grep -rn parse .".into(),
            output: "./src/p.py:1:def parse(text):\n./src/u.py:4:# parse later\n./tests/t.py:2:parse('')\n".into(),
            others: vec![("src/u.py".into(), "`parse` appears there on line 4 (`# parse later`)".into())],
            found: vec![
                ("src/p.py".into(), "`parse` appears there on line 1 (`def parse(text):`)".into()),
                ("tests/t.py".into(), "`parse` appears there on line 2 (`parse('')`)".into()),
            ],
            diff: "--- a/src/p.py\n+++ b/src/p.py\n@@ -1 +1,2 @@\n def parse(text):\n+    guard_empty(text)\n".into(),
        }
    }

    #[test]
    fn golden_reasoning_names_exactly_the_right_files() {
        let text = localization_reasoning(&evidence(), &["src/p.py".into()], "bugfixer")
            .expect("complete");
        assert_eq!(
            text,
            "The issue mentions `parse`, so the code to change should hold it. Searching the repository for it:\n\n$ grep -rn parse .\n./src/p.py:1:def parse(text):\n./src/u.py:4:# parse later\n./tests/t.py:2:parse('')\n\n\
In `src/u.py`, `parse` appears there on line 4 (`# parse later`), but nothing there is about the problem, so it needs no change.\n\
In `src/p.py`, `parse` appears there on line 1 (`def parse(text):`): this is the right place.\n\
`tests/t.py` is a test file, not where this change goes.\n\nThe file to change is:\n```\nsrc/p.py\n```"
        );
    }

    #[test]
    fn a_file_the_search_missed_or_a_quoted_answer_is_refused() {
        let err = localization_reasoning(&evidence(), &["src/other.py".into()], "bugfixer")
            .expect_err("incomplete");
        assert_eq!(err.reason, "reasoning_incomplete");
        let mut e = evidence();
        e.command = "grep -rl parse .".into();
        e.output = "./src/p.py\n./src/u.py\n./tests/t.py\n".into();
        e.found[0].1 = "`parse` appears there on line 1 (`guard_empty(text)`)".into();
        let err = localization_reasoning(&e, &["src/p.py".into()], "bugfixer").expect_err("leak");
        assert_eq!(err.reason, "leak");
    }
}
