//! Localization reasoning built from evidence (the deterministic engine's `synthetic_reasoning`
//! rows): the response to the Agentless localization prompt narrates the search chain that
//! found the files (the search, its real output, why each other hit needs no change, where
//! the term sits in each right file), then gives the Agentless answer. It is labelled as
//! evidence, not a model's chain of thought, and it is kept only when it names exactly the
//! right files (as the paper kept only exact answers).

#[cfg(test)]
use crate::engine::Search;
use crate::engine::{Drop, Evidence};
use crate::leak::LeakGuard;
use corpus_core::drop_reason::DropReason;
use corpus_core::identity::Role;

/// The reasoning and answer naming exactly `files`, or why the evidence does not support it.
/// Quoted lines are base content the searches point at; the search words themselves must
/// not be words only the PR adds (`leak`).
pub fn localization_reasoning(
    evidence: &Evidence,
    files: &[String],
    role: Role,
) -> Result<String, Drop> {
    let found: Vec<&str> = evidence
        .searches
        .iter()
        .flat_map(|s| s.found.iter().map(|(p, _)| p.as_str()))
        .collect();
    let terms: Vec<&str> = evidence.searches.iter().map(|s| s.term.as_str()).collect();
    if let Some(missing) = files.iter().find(|f| !found.contains(&f.as_str())) {
        return Err(Drop {
            reason: DropReason::ReasoningIncomplete,
            detail: format!(
                "the searches for {} do not find {missing}",
                terms
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let guard = LeakGuard::new(&evidence.problem, &evidence.diff);
    if let Some(term) = terms.iter().find(|t| guard.is_added_only(t)) {
        return Err(Drop {
            reason: DropReason::Leak,
            detail: format!("the search word `{term}` is found only in the PR's added lines"),
        });
    }
    let mut text = String::new();
    let mut noted: Vec<&str> = Vec::new();
    for (k, search) in evidence.searches.iter().enumerate() {
        let term = &search.term;
        text.push_str(&if k == 0 {
            format!("The issue mentions `{term}`, so the code to change should hold it. Searching the repository for it:\n\n")
        } else {
            format!("\nThe issue also mentions `{term}`. Searching for it:\n\n")
        });
        text.push_str(&format!("$ {}\n{}", search.command, search.output));
        if !search.output.ends_with('\n') {
            text.push('\n');
        }
        let mut notes = Vec::new();
        for (path, fact) in &search.others {
            if !noted.contains(&path.as_str()) {
                noted.push(path);
                notes.push(format!(
                    "In `{path}`, {fact}, but nothing there is about the problem, so it needs no change."
                ));
            }
        }
        for (path, fact) in &search.found {
            if noted.contains(&path.as_str()) {
                continue;
            }
            noted.push(path);
            notes.push(if files.contains(path) {
                format!("In `{path}`, {fact}: this is the right place.")
            } else if !role.changes_tests() {
                format!("`{path}` is a test file, not where this change goes.")
            } else {
                format!("`{path}` is not a test file.")
            });
        }
        if !notes.is_empty() {
            text.push('\n');
            text.push_str(&notes.join("\n"));
            text.push('\n');
        }
    }
    text.push_str(if files.len() == 1 {
        "\nThe file to change is:\n```\n"
    } else {
        "\nThe files to change are:\n```\n"
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
            searches: vec![search()],
            diff: "--- a/src/p.py\n+++ b/src/p.py\n@@ -1 +1,2 @@\n def parse(text):\n+    guard_empty(text)\n".into(),
        }
    }

    fn search() -> Search {
        Search {
            term: "parse".into(),
            command: "grep -rn parse .".into(),
            output: "./src/p.py:1:def parse(text):\n./src/u.py:4:# parse later\n./tests/t.py:2:parse('')\n".into(),
            others: vec![("src/u.py".into(), "`parse` appears there on line 4 (`# parse later`)".into())],
            found: vec![
                ("src/p.py".into(), "`parse` appears there on line 1 (`def parse(text):`)".into()),
                ("tests/t.py".into(), "`parse` appears there on line 2 (`parse('')`)".into()),
            ],
        }
    }

    #[test]
    fn golden_reasoning_names_exactly_the_right_files() {
        let text = localization_reasoning(&evidence(), &["src/p.py".into()], Role::BugFixer)
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
    fn a_file_the_searches_missed_or_an_added_search_word_is_refused() {
        let err = localization_reasoning(&evidence(), &["src/other.py".into()], Role::BugFixer)
            .expect_err("incomplete");
        assert_eq!(err.reason, DropReason::ReasoningIncomplete);
        let mut e = evidence();
        e.searches[0].term = "guard_empty".into();
        let err =
            localization_reasoning(&e, &["src/p.py".into()], Role::BugFixer).expect_err("leak");
        assert_eq!(err.reason, DropReason::Leak);
    }

    #[test]
    fn a_second_search_finds_the_second_file() {
        let mut e = evidence();
        e.searches.push(Search {
            term: "render".into(),
            command: "grep -rn render .".into(),
            output: "./src/r.py:3:def render(x):\n".into(),
            others: vec![],
            found: vec![(
                "src/r.py".into(),
                "`render` appears there on line 3 (`def render(x):`)".into(),
            )],
        });
        let text =
            localization_reasoning(&e, &["src/p.py".into(), "src/r.py".into()], Role::BugFixer)
                .expect("complete");
        assert!(text.contains("\nThe issue also mentions `render`. Searching for it:\n\n$ grep -rn render .\n./src/r.py:3:def render(x):\n\nIn `src/r.py`, `render` appears there on line 3 (`def render(x):`): this is the right place.\n"), "{text}");
        assert!(text.ends_with("The files to change are:\n```\nsrc/p.py\nsrc/r.py\n```"));
    }
}
