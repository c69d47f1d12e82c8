//! Commit-pack documents (a PR's commits in order, each its cleaned message then its diff)
//! and main-line commit documents, under the profile's rules (docs/formats.md).

use crate::rules::FormatRules;
use corpus_core::drop_reason::DropReason;
use corpus_core::identity::SampleKind;
use corpus_core::paths::language;
use corpus_core::rows::{CommitPackRow, PatchRow};

use crate::prose::clean_commit_message;
use crate::samples::{Rendered, Skipped};

/// The path a `diff --git a/P b/P` header names (no renames: both sides are equal).
fn header_path(header: &str) -> Option<&str> {
    let rest = header
        .strip_prefix("diff --git a/")?
        .trim_end_matches(['\n', '\r']);
    let len = rest.len().checked_sub(3)? / 2;
    let path = rest.get(..len)?;
    (rest.get(len..len + 3) == Some(" b/")).then_some(path)
}

/// Split a multi-file diff into (path, section) pairs.
pub fn split_diff(diff: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in diff.split_inclusive('\n') {
        if line.starts_with("diff --git ") {
            let path = header_path(line).unwrap_or_default().to_string();
            out.push((path, String::new()));
        }
        if let Some((_, section)) = out.last_mut() {
            section.push_str(line);
        }
    }
    out
}

/// Render a PR's commit pack, or say why the profile leaves it out.
pub fn render_pack(pack: &CommitPackRow, rules: &FormatRules) -> Result<Rendered, Skipped> {
    let skip = |reason: DropReason, path: Option<&str>, detail: String| Skipped {
        reason,
        kind: Some(SampleKind::CommitPack),
        path: path.map(str::to_string),
        detail,
    };
    let mut source_paths: Vec<&str> = Vec::new();
    let mut doc = String::new();
    for commit in &pack.commits {
        let mut diff = String::new();
        for (path, section) in split_diff(&commit.diff) {
            if rules.is_pack_source(&path) {
                diff.push_str(&section);
                if !source_paths.contains(&path.as_str()) {
                    source_paths.push(
                        commit
                            .paths
                            .iter()
                            .find(|p| **p == path)
                            .map(String::as_str)
                            .unwrap_or(""),
                    );
                }
            } else if rules.is_pack_doc(&path) {
                // Documentation keeps only its header line: what changed, not how.
                if let Some(header) = section.lines().next() {
                    diff.push_str(header);
                    diff.push('\n');
                }
            } else if rules.doc_languages.is_some() {
                return Err(skip(
                    DropReason::OtherFileType,
                    Some(&path),
                    format!("{path} is {}", language(&path)),
                ));
            } else {
                diff.push_str(&section);
            }
        }
        if diff.is_empty() {
            continue;
        }
        let message = clean_commit_message(&commit.message);
        if !doc.is_empty() {
            doc.push('\n');
        }
        doc.push_str(message.trim_end());
        doc.push_str("\n\n");
        doc.push_str(&diff);
    }
    source_paths.retain(|p| !p.is_empty());
    let n = source_paths.len();
    if n < rules.pack_min_files || n > rules.pack_max_files {
        return Err(skip(
            DropReason::PackFileCount,
            None,
            format!(
                "{n} source files, outside {}..={}",
                rules.pack_min_files, rules.pack_max_files
            ),
        ));
    }
    Ok(Rendered {
        kind: SampleKind::CommitPack,
        prompt: String::new(),
        response: doc,
    })
}

/// A main-line commit as a document: its cleaned message, then its diff.
pub fn render_commit(patch: &PatchRow) -> Rendered {
    let message = if patch.body.is_empty() {
        patch.title.clone()
    } else {
        format!("{}\n\n{}", patch.title, patch.body)
    };
    Rendered {
        kind: SampleKind::Commit,
        prompt: String::new(),
        response: format!(
            "{}\n\n{}",
            clean_commit_message(&message).trim_end(),
            patch.diff
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corpus_core::recipe::FormatOptions;
    use corpus_core::rows::PackCommit;

    #[test]
    fn header_paths() {
        assert_eq!(header_path("diff --git a/x.py b/x.py\n"), Some("x.py"));
        assert_eq!(
            header_path("diff --git a/a b/c.py b/a b/c.py"),
            Some("a b/c.py")
        );
    }

    #[test]
    fn pack_keeps_python_and_doc_headers() {
        let diff = "diff --git a/README.md b/README.md\nindex 1..2 100644\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-a\n+b\ndiff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n";
        let pack = CommitPackRow {
            commits: vec![PackCommit {
                message: "Fix x\n\nSigned-off-by: A <a@b.co>\n".into(),
                diff: diff.into(),
                paths: vec!["README.md".into(), "x.py".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let rules = FormatRules::of(&FormatOptions::default());
        let doc = render_pack(&pack, &rules).expect("pack");
        assert!(doc.response.starts_with(
            "Fix x\n\ndiff --git a/README.md b/README.md\ndiff --git a/x.py b/x.py\n"
        ));
        assert!(!doc.response.contains("Signed-off-by"));
        assert!(doc.response.ends_with("+x = 2\n"));
    }
}
