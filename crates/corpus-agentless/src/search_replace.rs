//! SEARCH/REPLACE edits that are exact: [`file_blocks`] turns a file's before and after
//! contents into blocks, [`render_blocks`] writes them in the Agentless form, [`parse_blocks`]
//! reads them back and [`apply_blocks`] applies them. The converter only returns blocks after
//! proving the round trip (render, parse, apply to the base gives the after contents byte for
//! byte); otherwise it says why, and the PR is dropped with that reason.
//!
//! Rules: a block covers whole lines; its SEARCH matches exactly once in the file as it is when
//! the block is applied (blocks apply in order); a SEARCH that is not unique, or empty (a pure
//! insertion), grows by context lines until it is unique; blocks that would touch are merged.

use corpus_core::drop_reason::DropReason;
use similar::{Algorithm, DiffOp, capture_diff_slices};
use std::borrow::Cow;

pub const SEARCH_MARKER: &str = "<<<<<<< SEARCH";
pub const DIVIDER: &str = "=======";
pub const REPLACE_MARKER: &str = ">>>>>>> REPLACE";

/// One edit of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub path: String,
    pub search: String,
    pub replace: String,
}

/// Why no exact blocks exist for a file (a `drops` reason each).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    #[error("the file has a line that is a SEARCH/REPLACE marker ({0:?})")]
    MarkerInCode(String),
    #[error(
        "an edit touches a last line without a final newline, which the block format cannot express"
    )]
    NoFinalNewline,
    #[error("no unique SEARCH text exists for an edit (the file repeats itself around it)")]
    NotUnique,
    #[error("the blocks do not reproduce the after contents")]
    RoundTrip,
}

impl ConvertError {
    pub fn reason(&self) -> DropReason {
        match self {
            ConvertError::MarkerInCode(_) => DropReason::MarkerInCode,
            ConvertError::NoFinalNewline => DropReason::NoFinalNewline,
            ConvertError::NotUnique => DropReason::SearchNotUnique,
            ConvertError::RoundTrip => DropReason::SearchReplaceMismatch,
        }
    }
}

/// Lines with their endings (`\n`, `\r\n`, or none for a last line without one).
fn lines(text: &str) -> Vec<&str> {
    // `split_inclusive('\n')`, with memchr's vector search for the breaks.
    let mut out = Vec::new();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
        out.push(&text[start..=end]);
        start = end + 1;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn is_marker(line: &str) -> bool {
    let bare = line.trim_end_matches(['\n', '\r']);
    bare == SEARCH_MARKER || bare == DIVIDER || bare == REPLACE_MARKER
}

/// Occurrences of `needle` in `hay`, overlapping ones included, up to 2.
fn count_matches(hay: &str, needle: &str) -> usize {
    if needle.is_empty() {
        return 2;
    }
    // A match of valid UTF-8 in valid UTF-8 starts on a character; the next may start one
    // character later (overlapping).
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    let Some(first) = finder.find(hay.as_bytes()) else {
        return 0;
    };
    let step = needle.chars().next().map_or(1, char::len_utf8);
    1 + usize::from(finder.find(&hay.as_bytes()[first + step..]).is_some())
}

/// A changed region: old lines `old` of the current state become `new`.
#[derive(Debug, Clone)]
struct Region<'a> {
    old_start: usize,
    old_end: usize,
    /// The lines that replace them, borrowed from the new file.
    new: Vec<&'a str>,
}

/// The diff of `before` and `after` as regions over `before`'s lines.
fn regions<'a>(before: &[&str], after: &[&'a str]) -> Vec<Region<'a>> {
    let ops = capture_diff_slices(Algorithm::Myers, before, after);
    let mut out: Vec<Region> = Vec::new();
    // Positions come from a running cursor: an Insert's own `old_index` is not always the
    // line it goes before.
    let mut old_cursor = 0;
    for op in ops {
        let (old, new) = match op {
            DiffOp::Equal { old_index, len, .. } => {
                old_cursor = old_index + len;
                continue;
            }
            DiffOp::Delete { old_len, .. } => (old_cursor..old_cursor + old_len, 0..0),
            DiffOp::Insert {
                new_index, new_len, ..
            } => (old_cursor..old_cursor, new_index..new_index + new_len),
            DiffOp::Replace {
                old_len,
                new_index,
                new_len,
                ..
            } => (
                old_cursor..old_cursor + old_len,
                new_index..new_index + new_len,
            ),
        };
        old_cursor = old.end;
        let new_lines: Vec<&str> = after[new].to_vec();
        match out.last_mut() {
            Some(last) if last.old_end == old.start => {
                last.old_end = old.end;
                last.new.extend(new_lines);
            }
            _ => out.push(Region {
                old_start: old.start,
                old_end: old.end,
                new: new_lines,
            }),
        }
    }
    out
}

/// The changed regions a unified diff of this file states (its hunks, read for line numbers
/// only; the lines themselves come from the files). Linear time, unlike re-diffing a file
/// whose every line changed. None when the text is not a diff of these files.
fn regions_from_patch<'a>(
    patch: &str,
    before: &[&str],
    after: &[&'a str],
) -> Option<Vec<Region<'a>>> {
    let mut out: Vec<Region<'a>> = Vec::new();
    let mut old = 0usize;
    let mut new = 0usize;
    let mut open: Option<(usize, usize, usize)> = None; // (old_start, old_end, new_start)
    let mut in_hunk = false;
    let flush =
        |open: &mut Option<(usize, usize, usize)>, new: usize, out: &mut Vec<Region<'a>>| {
            if let Some((old_start, old_end, new_start)) = open.take() {
                out.push(Region {
                    old_start,
                    old_end,
                    new: after.get(new_start..new)?.to_vec(),
                });
            }
            Some(())
        };
    for line in patch.split_inclusive('\n') {
        if let Some(header) = line.strip_prefix("@@ -") {
            flush(&mut open, new, &mut out)?;
            let (old_part, rest) = header.split_once(" +")?;
            let new_part = rest.split_once(" @@")?.0;
            let parse = |part: &str| -> Option<(usize, usize)> {
                let (start, len) = part.split_once(',').unwrap_or((part, "1"));
                Some((start.parse().ok()?, len.parse().ok()?))
            };
            let (a, b) = parse(old_part)?;
            let (c, d) = parse(new_part)?;
            old = if b == 0 { a } else { a.checked_sub(1)? };
            new = if d == 0 { c } else { c.checked_sub(1)? };
            in_hunk = true;
            continue;
        }
        if !in_hunk {
            continue;
        }
        match line.as_bytes().first() {
            Some(b' ') => {
                flush(&mut open, new, &mut out)?;
                old += 1;
                new += 1;
            }
            Some(b'-') => {
                let region = open.get_or_insert((old, old, new));
                old += 1;
                region.1 = old;
            }
            Some(b'+') => {
                open.get_or_insert((old, old, new));
                new += 1;
            }
            Some(b'\\') => {}
            _ => {
                flush(&mut open, new, &mut out)?;
                in_hunk = false;
            }
        }
    }
    flush(&mut open, new, &mut out)?;
    (old <= before.len() && new <= after.len()).then_some(out)
}

fn ends_cleanly(text: &str) -> bool {
    text.is_empty() || text.ends_with('\n')
}

/// Exact blocks turning `before` into `after` for the file `path`, in application order.
pub fn file_blocks(path: &str, before: &str, after: &str) -> Result<Vec<Block>, ConvertError> {
    blocks_from(path, before, after, None)
}

/// As [`file_blocks`], taking the changed regions from the file's unified diff (`git diff`
/// output for this one file) instead of diffing again; the result is proven the same way.
pub fn file_blocks_from_patch(
    path: &str,
    before: &str,
    after: &str,
    patch: &str,
) -> Result<Vec<Block>, ConvertError> {
    blocks_from(path, before, after, Some(patch))
}

/// Exact, unique replacements for a tool that takes `old_str`/`new_str` as arguments (the
/// agent editors): the same blocks, but lines that look like SEARCH/REPLACE markers are
/// fine there, since no marker frames the text.
pub fn str_replace_blocks(
    path: &str,
    before: &str,
    after: &str,
    patch: Option<&str>,
) -> Result<Vec<Block>, ConvertError> {
    blocks_with(path, before, after, patch, false)
}

fn blocks_from(
    path: &str,
    before: &str,
    after: &str,
    patch: Option<&str>,
) -> Result<Vec<Block>, ConvertError> {
    blocks_with(path, before, after, patch, true)
}

fn blocks_with(
    path: &str,
    before: &str,
    after: &str,
    patch: Option<&str>,
    refuse_markers: bool,
) -> Result<Vec<Block>, ConvertError> {
    if before == after {
        return Ok(Vec::new());
    }
    if before.is_empty() {
        // An empty file gets its content from an empty SEARCH ("create this file").
        if !ends_cleanly(after) {
            return Err(ConvertError::NoFinalNewline);
        }
        let blocks = vec![Block {
            path: path.to_string(),
            search: String::new(),
            replace: after.to_string(),
        }];
        return prove(before, after, blocks, refuse_markers);
    }
    let before_lines = lines(before);
    let after_lines = lines(after);
    if let Some(line) = before_lines
        .iter()
        .chain(&after_lines)
        .find(|l| refuse_markers && is_marker(l))
    {
        return Err(ConvertError::MarkerInCode(line.trim_end().to_string()));
    }
    let pending = match patch.and_then(|p| regions_from_patch(p, &before_lines, &after_lines)) {
        Some(found) => found,
        None => regions(&before_lines, &after_lines),
    };
    // The current state as lines (borrowed from both files); regions are shifted as earlier
    // blocks change line counts.
    let mut state: Vec<&str> = before_lines;
    let mut shift: isize = 0;
    let mut blocks = Vec::new();
    let mut index = 0;
    while index < pending.len() {
        // The whole current state, for the uniqueness checks while this block grows (the
        // file as it was until a block changes it).
        let whole: Cow<str> = if blocks.is_empty() {
            Cow::Borrowed(before)
        } else {
            Cow::Owned(state.concat())
        };
        let region = pending[index].clone();
        let mut start = (region.old_start as isize + shift) as usize;
        let mut end = (region.old_end as isize + shift) as usize;
        let mut new = region.new.clone();
        let mut next = index + 1;
        let mut lead: Vec<&str> = Vec::new();
        let mut trail: Vec<&str> = Vec::new();
        let mut grow_before = true;
        loop {
            let search: String = state[start..end].concat();
            let replace: String = lead.iter().chain(&new).chain(&trail).copied().collect();
            if !ends_cleanly(&search) || !ends_cleanly(&replace) {
                // The edit reaches an unterminated last line: no context can fix that.
                return Err(ConvertError::NoFinalNewline);
            }
            if !search.is_empty() && count_matches(&whole, &search) == 1 {
                break;
            }
            let can_before = start > 0;
            // Never take an unterminated last line as trailing context.
            let can_after = end < state.len() && ends_cleanly(state[end]);
            let take_before = match (can_before, can_after) {
                // Blocked only by an unterminated last line: that line is what cannot be said.
                (false, false) if end < state.len() => return Err(ConvertError::NoFinalNewline),
                (false, false) => return Err(ConvertError::NotUnique),
                (true, false) => true,
                (false, true) => false,
                (true, true) => grow_before,
            };
            grow_before = !grow_before;
            if take_before {
                start -= 1;
                lead.insert(0, state[start]);
            } else if next < pending.len()
                && (pending[next].old_start as isize + shift) as usize == end
            {
                // Growing into the next change merges it into this block.
                let merged = pending[next].clone();
                new.append(&mut trail);
                new.extend(merged.new);
                end = (merged.old_end as isize + shift) as usize;
                next += 1;
            } else {
                trail.push(state[end]);
                end += 1;
            }
        }
        let search: String = state[start..end].concat();
        let replacement: Vec<&str> = lead.into_iter().chain(new).chain(trail).collect();
        let replace: String = replacement.concat();
        shift += replacement.len() as isize - (end - start) as isize;
        state.splice(start..end, replacement);
        blocks.push(Block {
            path: path.to_string(),
            search,
            replace,
        });
        index = next;
    }
    prove(before, after, blocks, refuse_markers)
}

/// The blocks, once proven: applied in order to `before` they give `after`. Blocks that will
/// be written in the Agentless form (`framed`) must also read back from their text as
/// themselves; blocks handed to an editor as arguments are applied as they are (a line such
/// as `=======` in them frames nothing).
fn prove(
    before: &str,
    after: &str,
    blocks: Vec<Block>,
    framed: bool,
) -> Result<Vec<Block>, ConvertError> {
    let applied = if framed {
        let reparsed =
            parse_blocks(&render_blocks(&blocks)).map_err(|_| ConvertError::RoundTrip)?;
        if reparsed != blocks {
            return Err(ConvertError::RoundTrip);
        }
        apply_file(before, &reparsed)
    } else {
        apply_file(before, &blocks)
    };
    match applied {
        Ok(applied) if applied == after => Ok(blocks),
        _ => Err(ConvertError::RoundTrip),
    }
}

/// The Agentless text of blocks: per block a `### path` line, then the fenced markers.
pub fn render_blocks(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        out.push_str("```python\n");
        out.push_str(&format!("### {}\n{SEARCH_MARKER}\n", block.path));
        out.push_str(&block.search);
        out.push_str(&format!("{DIVIDER}\n"));
        out.push_str(&block.replace);
        out.push_str(&format!("{REPLACE_MARKER}\n```\n"));
    }
    out
}

/// Why a text is not a well-formed list of blocks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Read blocks back from text (the inverse of [`render_blocks`]; text around blocks, such as
/// reasoning before them, is ignored).
pub fn parse_blocks(text: &str) -> Result<Vec<Block>, ParseError> {
    let mut blocks = Vec::new();
    let mut path: Option<String> = None;
    let all = lines(text);
    let mut i = 0;
    while i < all.len() {
        let bare = all[i].trim_end_matches(['\n', '\r']);
        if let Some(p) = bare.strip_prefix("### ") {
            path = Some(p.to_string());
            i += 1;
            continue;
        }
        if bare != SEARCH_MARKER {
            i += 1;
            continue;
        }
        let Some(current) = path.clone() else {
            return Err(ParseError {
                line: i + 1,
                message: "SEARCH block without a `### path` line before it".into(),
            });
        };
        let mut search = String::new();
        let mut replace = String::new();
        let mut j = i + 1;
        while j < all.len() && all[j].trim_end_matches(['\n', '\r']) != DIVIDER {
            search.push_str(all[j]);
            j += 1;
        }
        if j == all.len() {
            return Err(ParseError {
                line: i + 1,
                message: "SEARCH block without `=======`".into(),
            });
        }
        j += 1;
        while j < all.len() && all[j].trim_end_matches(['\n', '\r']) != REPLACE_MARKER {
            replace.push_str(all[j]);
            j += 1;
        }
        if j == all.len() {
            return Err(ParseError {
                line: i + 1,
                message: "SEARCH block without `>>>>>>> REPLACE`".into(),
            });
        }
        blocks.push(Block {
            path: current,
            search,
            replace,
        });
        i = j + 1;
    }
    Ok(blocks)
}

/// Why blocks do not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("SEARCH of block {0} not found")]
    NotFound(usize),
    #[error("SEARCH of block {0} matches more than once")]
    Ambiguous(usize),
}

/// Apply blocks (all of one file) in order to `content`.
pub fn apply_file(content: &str, blocks: &[Block]) -> Result<String, ApplyError> {
    let mut state = content.to_string();
    for (i, block) in blocks.iter().enumerate() {
        if block.search.is_empty() {
            // "Create this file": valid only on an empty or missing file.
            if !state.is_empty() {
                return Err(ApplyError::Ambiguous(i));
            }
            state = block.replace.clone();
            continue;
        }
        match count_matches(&state, &block.search) {
            0 => return Err(ApplyError::NotFound(i)),
            1 => state = state.replacen(&block.search, &block.replace, 1),
            _ => return Err(ApplyError::Ambiguous(i)),
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(before: &str, after: &str) -> Vec<Block> {
        let blocks = file_blocks("f.py", before, after).expect("convertible");
        assert_eq!(apply_file(before, &blocks).expect("applies"), after);
        blocks
    }

    #[test]
    fn simple_change() {
        let blocks = round_trip("a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].search, "b\n");
        assert_eq!(blocks[0].replace, "B\n");
    }

    #[test]
    fn non_unique_search_grows() {
        let before = "x = 1\ny = 2\nx = 1\nz = 3\n";
        let after = "x = 1\ny = 2\nx = 10\nz = 3\n";
        let blocks = round_trip(before, after);
        assert!(blocks[0].search.contains("y = 2") || blocks[0].search.contains("z = 3"));
    }

    #[test]
    fn pure_insertion_and_deletion_anchor_on_context() {
        let blocks = round_trip("a\nc\n", "a\nb\nc\n");
        assert!(!blocks[0].search.is_empty());
        round_trip("a\nb\nc\n", "a\nc\n");
        round_trip("a\n", "");
        round_trip("a\nb\n", "b\n");
    }

    #[test]
    fn crlf_tabs_unicode() {
        round_trip("a\r\n\tb\r\nc\r\n", "a\r\n\tbé\r\nc\r\n");
        round_trip("héllo\nwörld\n", "héllo\nwörld 🌍\n");
    }

    #[test]
    fn missing_final_newline() {
        // An edit away from the unterminated last line is exact.
        round_trip("a\nb\nc", "A\nb\nc");
        // An edit of that line cannot be written as blocks.
        let err = file_blocks("f", "a\nb", "a\nc").expect_err("inexpressible");
        assert_eq!(err, ConvertError::NoFinalNewline);
        let err = file_blocks("f", "a\nb\n", "a\nb").expect_err("inexpressible");
        assert_eq!(err, ConvertError::NoFinalNewline);
        // An insertion whose only anchor is an unterminated line (found by the property test).
        let err = file_blocks("f", "x = 1", "\nx = 1").expect_err("inexpressible");
        assert_eq!(err, ConvertError::NoFinalNewline);
    }

    #[test]
    fn marker_lookalike_in_code_is_refused() {
        let err =
            file_blocks("f.rst", "Title\n=======\n", "Title!\n=======\n").expect_err("marker");
        assert_eq!(err.reason(), DropReason::MarkerInCode);
        // An editor's str_replace has no markers around its text: the same edit is fine.
        let blocks = str_replace_blocks("f.rst", "Title\n=======\n", "Title!\n=======\n", None)
            .expect("no marker framing");
        assert_eq!(blocks[0].search, "Title\n");
        assert_eq!(blocks[0].replace, "Title!\n");
    }

    #[test]
    fn editor_blocks_may_hold_a_marker_lookalike_in_their_context() {
        // "Options" twice: the insertion's SEARCH grows over the `=======` underline. Framed
        // Agentless text could not say that; an editor's old_str can.
        let before = "Options\n=======\n\nOptions\n-------\n";
        let after = ".. _options:\n\nOptions\n=======\n\nOptions\n-------\n";
        let blocks =
            str_replace_blocks("docs/options.rst", before, after, None).expect("editor blocks");
        assert!(
            blocks.iter().any(|b| b.search.contains("=======\n")),
            "{blocks:?}"
        );
        assert_eq!(apply_file(before, &blocks).expect("apply"), after);
        let err = file_blocks("docs/options.rst", before, after).expect_err("framed");
        assert_eq!(err.reason(), DropReason::MarkerInCode);
    }

    #[test]
    fn whole_file_repeated_is_not_unique() {
        // Every line equal: growing never makes the SEARCH unique until it covers the file.
        let blocks = round_trip("a\na\na\n", "a\nb\na\n");
        assert_eq!(blocks.len(), 1);
    }

    #[test]
    fn parser_reports_broken_blocks() {
        let err = parse_blocks("### f\n<<<<<<< SEARCH\na\n").expect_err("broken");
        assert!(err.message.contains("======="));
        let err =
            parse_blocks("<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n").expect_err("no path");
        assert!(err.message.contains("### path"));
    }

    #[test]
    fn hunks_give_the_same_exact_blocks() {
        let before = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let after = "a\nB\nc\nd\ne\nf\ng\nh\nI\nj\n";
        let patch = "diff --git a/f b/f\nindex 1..2 100644\n--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -6,4 +6,5 @@ x\n f\n g\n h\n-i\n+I\n+j\n";
        let from_patch = file_blocks_from_patch("f", before, after, patch).expect("exact");
        assert_eq!(apply_file(before, &from_patch).expect("applies"), after);
        assert_eq!(from_patch.len(), 2);
        // Insertion into an empty range and a new file's hunk header.
        let patch = "@@ -2,0 +3 @@\n+x\n";
        let blocks = file_blocks_from_patch("f", "a\nb\n", "a\nb\nx\n", patch).expect("exact");
        assert_eq!(apply_file("a\nb\n", &blocks).expect("applies"), "a\nb\nx\n");
    }

    #[test]
    fn large_file() {
        let before: String = (0..50_000).map(|i| format!("line {i}\n")).collect();
        let after = before.replace("line 25000\n", "line 25000 changed\n");
        let blocks = round_trip(&before, &after);
        assert_eq!(blocks.len(), 1);
    }
}
