//! The four Agentless samples of one pull request (docs/formats.md): BugFixer and TestWriter file
//! localization, BugFixer and TestWriter SEARCH/REPLACE edits, under the recipe's profile.

use corpus_core::drop_reason::DropReason;
use corpus_core::identity::{Change, Role, SampleKind};
use std::collections::HashMap;

use crate::rules::FormatRules;
use corpus_core::paths::{is_test, skip_by_path};
use corpus_core::recipe::ExtractOptions;
use corpus_core::rows::{FileChange, PatchRow, PullRow};

use crate::packs::split_diff;
use crate::prose::clean_problem_text;
use crate::search_replace::{Block, file_blocks_from_patch, render_blocks};
use crate::structure::render_structure;
use crate::templates::{PromptFile, TemplateError, Templates};

/// A rendered sample before ids and checks are added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub kind: SampleKind,
    pub prompt: String,
    pub response: String,
}

/// Why a PR, or one of its samples, was not rendered (a `drops` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub reason: DropReason,
    /// The sample kind, or None when the whole PR is out.
    pub kind: Option<SampleKind>,
    pub path: Option<String>,
    pub detail: String,
}

fn skip(reason: DropReason, kind: Option<SampleKind>, detail: impl Into<String>) -> Skipped {
    Skipped {
        reason,
        kind,
        path: None,
        detail: detail.into(),
    }
}

fn title_and_body(title: &str, body: &str) -> String {
    if body.trim().is_empty() {
        title.to_string()
    } else {
        format!("{title}\n\n{body}")
    }
}

/// The problem text of a PR and the discussion that opens its edit responses (docs/formats.md):
/// the linked issue (lowest number) and its comments when the crawl found one, else the PR's
/// title and body from the API, else from the merge or squash commit.
pub fn problem_and_discussion(patch: &PatchRow, pull: Option<&PullRow>) -> (String, String) {
    if let Some(pull) = pull {
        if let Some(issue) = pull.linked_issues.iter().min_by_key(|i| i.number) {
            let discussion: Vec<String> = issue
                .comments
                .iter()
                .map(|c| clean_problem_text(c))
                .filter(|c| !c.is_empty())
                .collect();
            return (
                clean_problem_text(&title_and_body(&issue.title, &issue.body)),
                discussion.join("\n\n"),
            );
        }
        return (
            clean_problem_text(&title_and_body(&pull.title, &pull.body)),
            String::new(),
        );
    }
    (
        clean_problem_text(&title_and_body(&patch.title, &patch.body)),
        String::new(),
    )
}

/// The PR-level rules of the profile: file types, added and deleted files, file count.
pub fn check_pr(patch: &PatchRow, rules: &FormatRules) -> Result<(), Skipped> {
    if let Some(f) = patch
        .files
        .iter()
        .find(|f| !rules.is_sample_source(&f.path) && !rules.is_sample_doc(&f.path))
    {
        let mut s = skip(
            DropReason::OtherFileType,
            None,
            format!("{} is {}", f.path, f.language),
        );
        s.path = Some(f.path.clone());
        return Err(s);
    }
    if let Some(f) = patch
        .files
        .iter()
        .find(|f| f.change == Change::Deleted.code())
    {
        let mut s = skip(DropReason::DeletedFile, None, "the PR deletes a file");
        s.path = Some(f.path.clone());
        return Err(s);
    }
    if !rules.allow_added_files
        && let Some(f) = patch
            .files
            .iter()
            .find(|f| f.change == Change::Added.code())
    {
        let mut s = skip(DropReason::AddedFile, None, "the PR adds a file");
        s.path = Some(f.path.clone());
        return Err(s);
    }
    let sources = patch
        .files
        .iter()
        .filter(|f| rules.is_sample_source(&f.path))
        .count();
    if sources == 0 {
        return Err(skip(
            DropReason::NoSourceChange,
            None,
            "only documentation changes",
        ));
    }
    if sources > rules.max_source_files {
        return Err(skip(
            DropReason::TooManyFiles,
            None,
            format!(
                "{sources} source files > max_source_files {}",
                rules.max_source_files
            ),
        ));
    }
    Ok(())
}

/// Contents of blobs by id (the PR's before and after versions).
pub type BlobContents = HashMap<String, String>;

fn content<'a>(
    blobs: &'a BlobContents,
    id: &Option<String>,
    path: &str,
) -> Result<&'a str, Skipped> {
    match id {
        None => Ok(""),
        Some(id) => blobs.get(id).map(String::as_str).ok_or_else(|| Skipped {
            reason: DropReason::MissingBlob,
            kind: None,
            path: Some(path.to_string()),
            detail: format!("blob {id} is not in the blobs table"),
        }),
    }
}

/// Blocks for a set of files, each converted exactly, or the reason one cannot be.
fn edit_blocks(
    files: &[&FileChange],
    blobs: &BlobContents,
    kind: SampleKind,
    diff: &str,
) -> Result<Vec<Block>, Skipped> {
    let sections = split_diff(diff);
    let mut blocks = Vec::new();
    for f in files {
        let before = content(blobs, &f.before_blob, &f.path)?;
        let after = content(blobs, &f.after_blob, &f.path)?;
        if f.change == Change::Added.code() {
            if after.is_empty() {
                continue;
            }
            // "Create this file": an empty SEARCH, valid only where nothing exists at base.
            blocks.push(Block {
                path: f.path.clone(),
                search: String::new(),
                replace: after.to_string(),
            });
            continue;
        }
        let section = sections
            .iter()
            .find(|(p, _)| *p == f.path)
            .map(|(_, s)| s.as_str())
            .unwrap_or_default();
        match file_blocks_from_patch(&f.path, before, after, section) {
            Ok(b) => blocks.extend(b),
            Err(e) => {
                return Err(Skipped {
                    reason: e.reason(),
                    kind: Some(kind),
                    path: Some(f.path.clone()),
                    detail: e.to_string(),
                });
            }
        }
    }
    Ok(blocks)
}

fn localization_answer(paths: &[&str]) -> String {
    let mut out = String::from("```\n");
    for p in paths {
        out.push_str(p);
        out.push('\n');
    }
    out.push_str("```");
    out
}

/// A role's localization task: its prompt and the files a right answer names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Localization {
    /// The role changes no file that exists at base.
    None,
    Skipped(Skipped),
    Prompt {
        prompt: String,
        files: Vec<String>,
    },
}

/// The files of a PR a role changes: the source files that are tests for the TestWriter,
/// the others for the BugFixer.
fn files_of<'a>(patch: &'a PatchRow, rules: &FormatRules, role: Role) -> Vec<&'a FileChange> {
    patch
        .files
        .iter()
        .filter(|f| rules.is_sample_source(&f.path) && f.is_test == role.changes_tests())
        .collect()
}

/// A role's localization and edit templates.
fn templates_of(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::BugFixer => ("bugfixer_localization.jinja", "bugfixer_edit.jinja"),
        Role::TestWriter => ("testwriter_localization.jinja", "testwriter_edit.jinja"),
    }
}

/// The localization of one role's files: the answer names the files that exist at base
/// (at most 5); the prompt shows the base tree a model may read.
fn localization_of(
    files: &[&FileChange],
    role: Role,
    problem: &str,
    rules: &FormatRules,
    templates: &Templates,
    base_files: &mut dyn Iterator<Item = &str>,
) -> Result<Localization, TemplateError> {
    let kind = role.localization();
    let template = templates_of(role).0;
    let existing: Vec<String> = files
        .iter()
        .filter(|f| f.change != Change::Added.code())
        .map(|f| f.path.clone())
        .collect();
    if existing.len() > 5 {
        return Ok(Localization::Skipped(skip(
            DropReason::TooManyFiles,
            Some(kind),
            format!("{} files > 5", existing.len()),
        )));
    }
    if existing.is_empty() {
        return Ok(Localization::None);
    }
    let structure = if !role.changes_tests() {
        render_structure(base_files, |p| rules.is_sample_source(p) && !is_test(p))
    } else {
        render_structure(base_files, |p| rules.is_sample_source(p))
    };
    Ok(Localization::Prompt {
        prompt: templates.localization(template, problem, structure.trim_end())?,
        files: existing,
    })
}

/// The BugFixer and TestWriter localization tasks of a PR (the prompts `format` writes),
/// by sample kind; PR-level rules must already have passed.
pub fn localizations(
    patch: &PatchRow,
    rules: &FormatRules,
    templates: &Templates,
    skip_rules: &ExtractOptions,
    problem: &str,
) -> Result<Vec<(SampleKind, Localization)>, TemplateError> {
    let mut out = Vec::new();
    for role in Role::ALL.iter().copied() {
        let files = files_of(patch, rules, role);
        if files.is_empty() {
            continue;
        }
        let mut base = patch
            .base_files
            .iter()
            .map(String::as_str)
            .filter(|p| skip_by_path(p, skip_rules).is_none());
        let found = localization_of(&files, role, problem, rules, templates, &mut base)?;
        out.push((role.localization(), found));
    }
    Ok(out)
}

/// Render the PR's samples; PR-level rules must already have passed.
pub fn render_pr(
    patch: &PatchRow,
    blobs: &BlobContents,
    rules: &FormatRules,
    templates: &Templates,
    skip_rules: &ExtractOptions,
    pull: Option<&PullRow>,
) -> Result<(Vec<Rendered>, Vec<Skipped>), TemplateError> {
    let (problem, discussion) = problem_and_discussion(patch, pull);
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    // The tree shows what a model may read: no lockfiles, vendored or generated files.
    let base_files = || {
        patch
            .base_files
            .iter()
            .map(String::as_str)
            .filter(|p| skip_by_path(p, skip_rules).is_none())
    };

    for role in Role::ALL.iter().copied() {
        let files = &files_of(patch, rules, role);
        if files.is_empty() {
            continue;
        }
        let (loc_kind, edit_kind) = (role.localization(), role.edit());
        let edit_template = templates_of(role).1;
        match localization_of(files, role, &problem, rules, templates, &mut base_files())? {
            Localization::None => {}
            Localization::Skipped(s) => skipped.push(s),
            Localization::Prompt { prompt, files } => {
                let names: Vec<&str> = files.iter().map(String::as_str).collect();
                out.push(Rendered {
                    kind: loc_kind,
                    prompt,
                    response: localization_answer(&names),
                });
            }
        }
        // Edit: the files' base contents in the prompt, exact blocks in the response.
        let blocks = match edit_blocks(files, blobs, edit_kind, &patch.diff) {
            Ok(b) => b,
            Err(s) => {
                skipped.push(s);
                continue;
            }
        };
        if blocks.is_empty() {
            continue;
        }
        if blocks.len() > rules.max_blocks {
            skipped.push(skip(
                DropReason::TooManyBlocks,
                Some(edit_kind),
                format!("{} blocks > max_blocks {}", blocks.len(), rules.max_blocks),
            ));
            continue;
        }
        let prompt_files: Result<Vec<PromptFile>, Skipped> = files
            .iter()
            .filter(|f| f.change != Change::Added.code())
            .map(|f| {
                content(blobs, &f.before_blob, &f.path).map(|text| PromptFile::new(&f.path, text))
            })
            .collect();
        let prompt_files = match prompt_files {
            Ok(files) => files,
            Err(s) => {
                skipped.push(s);
                continue;
            }
        };
        let response = if discussion.is_empty() {
            render_blocks(&blocks)
        } else {
            format!("{discussion}\n\n{}", render_blocks(&blocks))
        };
        out.push(Rendered {
            kind: edit_kind,
            prompt: templates.edit(edit_template, &problem, &prompt_files)?,
            response,
        });
    }
    Ok((out, skipped))
}
