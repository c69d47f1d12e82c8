//! SWE-agent's `str_replace_editor` (tools/edit_anthropic, with its defaults: no window
//! expansion, no file map, no linter), answered from the snapshot. The text is what the tool
//! prints, including the newline `print` adds. Like the real tool it reads files as Python
//! does (UTF-8, else Latin-1; `\r\n` and `\r` become `\n`) and edits write the tab-expanded
//! text back: a file with tabs or CRLF line ends changes beyond the edit (the engine drops
//! such PRs instead of teaching a wrong round trip).

use super::{Emulator, Resolved};
use crate::edit_memo::str_replace_key;
use crate::snapshot::Kind;
use std::borrow::Cow;
use std::fmt::Write as _;

const MAX_RESPONSE_LEN: usize = 16_000;
const SNIPPET_LINES: usize = 4;
const TRUNCATED_MESSAGE: &str = "<response clipped><NOTE>To save on context only part of this file has been shown to you. You should retry this tool after you have searched inside the file with `grep -n` in order to find the line numbers of what you are looking for.</NOTE>";

/// One call of the tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorCall {
    View {
        path: String,
        view_range: Option<(i64, i64)>,
    },
    Create {
        path: String,
        file_text: String,
    },
    StrReplace {
        path: String,
        old_str: String,
        new_str: String,
    },
    Insert {
        path: String,
        insert_line: i64,
        new_str: String,
    },
}

impl EditorCall {
    fn path(&self) -> &str {
        match self {
            EditorCall::View { path, .. }
            | EditorCall::Create { path, .. }
            | EditorCall::StrReplace { path, .. }
            | EditorCall::Insert { path, .. } => path,
        }
    }
}

/// What the call printed and whether it changed the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditorResult {
    pub output: String,
    pub ok: bool,
}

fn fail(output: String) -> EditorResult {
    EditorResult {
        output: output + "\n",
        ok: false,
    }
}

/// Python's `bytes.decode` as `Path.read_text` tries it, then universal newlines.
pub fn python_text(bytes: &[u8]) -> String {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => bytes.iter().map(|b| char::from(*b)).collect(), // Latin-1
    };
    if memchr::memchr(b'\r', text.as_bytes()).is_none() {
        return text;
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Python's `str.expandtabs()` (tab size 8; the column restarts after `\n` and `\r`).
pub fn expandtabs(text: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\t', text.as_bytes()).is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut column = 0usize;
    for c in text.chars() {
        match c {
            '\t' => {
                let spaces = 8 - column % 8;
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
            }
            '\n' | '\r' => {
                out.push(c);
                column = 0;
            }
            c => {
                out.push(c);
                column += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// Lines `from..to` of `text` as `split('\n')` numbers them, joined by `\n` again: a slice
/// of `text`, found without splitting the lines before it.
fn lines_between(text: &str, from: usize, to: usize) -> &str {
    if to <= from {
        return "";
    }
    let mut newlines = memchr::memchr_iter(b'\n', text.as_bytes());
    let begin = match from.checked_sub(1) {
        None => 0,
        Some(k) => match newlines.nth(k) {
            Some(at) => at + 1,
            None => return "",
        },
    };
    let finish = newlines.nth(to - 1 - from).unwrap_or(text.len());
    &text[begin..finish]
}

/// How many lines Python's `str.splitlines()` gives: one pass over the bytes (`\n`, `\r`,
/// `\r\n`, `\v`, `\f`, `\x1c`-`\x1e`, and U+0085, U+2028, U+2029 in UTF-8 end a line).
fn python_splitlines_count(text: &str) -> usize {
    let bytes = text.as_bytes();
    // Most files break lines with `\n` alone: count those at vector speed.
    if !bytes
        .iter()
        .any(|b| matches!(b, b'\r' | 0x0b | 0x0c | 0x1c..=0x1e | 0xc2 | 0xe2))
    {
        let breaks = bytes.iter().filter(|b| **b == b'\n').count();
        return breaks + usize::from(bytes.last().is_some_and(|b| *b != b'\n'));
    }
    let mut count = 0;
    let mut i = 0;
    let mut line_open = false;
    while i < bytes.len() {
        let width = match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => 2,
            b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1e => 1,
            0xc2 if bytes.get(i + 1) == Some(&0x85) => 2,
            0xe2 if bytes.get(i + 1) == Some(&0x80)
                && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) =>
            {
                3
            }
            _ => 0,
        };
        if width == 0 {
            line_open = true;
            i += 1;
        } else {
            count += 1;
            line_open = false;
            i += width;
        }
    }
    count + usize::from(line_open)
}

/// `_make_output`: clip, expand tabs, number every `\n`-separated line from `first`.
fn make_output(content: &str, descriptor: &str, first: i64) -> String {
    let clipped = if content.chars().count() > MAX_RESPONSE_LEN {
        let cut: String = content.chars().take(MAX_RESPONSE_LEN).collect();
        cut + TRUNCATED_MESSAGE
    } else {
        content.to_string()
    };
    let expanded = expandtabs(&clipped);
    // One buffer, written in place: views are a large share of a trajectory's text.
    let mut out = String::with_capacity(expanded.len() + expanded.len() / 4 + 128);
    let _ = writeln!(
        out,
        "Here's the result of running `cat -n` on {descriptor}:"
    );
    for (i, line) in expanded.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = write!(out, "{:>6}\t{line}", i as i64 + first);
    }
    out.push('\n');
    out
}

/// The repository path of a resolved file ("" when there is none).
fn path_of(kind: &Option<(String, Kind)>) -> String {
    kind.as_ref().map(|(p, _)| p.clone()).unwrap_or_default()
}

/// Python's `repr` of a list of ints: `[1, 5]`.
fn int_list(values: &[usize]) -> String {
    let items: Vec<String> = values.iter().map(usize::to_string).collect();
    format!("[{}]", items.join(", "))
}

impl Emulator<'_> {
    pub fn editor(&mut self, call: &EditorCall) -> EditorResult {
        let shown = call.path().to_string();
        if !shown.starts_with('/') {
            return fail(format!(
                "The path {shown} is not an absolute path, it should start with `/`. Maybe you meant {}/{shown}?",
                self.root
            ));
        }
        let kind = self.kind_of(&shown);
        let is_create = matches!(call, EditorCall::Create { .. });
        match (&kind, is_create) {
            (None, false) => {
                return fail(format!(
                    "The path {shown} does not exist. Please provide a valid path."
                ));
            }
            (Some(_), true) => {
                return fail(format!(
                    "File already exists at: {shown}. Cannot overwrite files using command `create`."
                ));
            }
            (Some((_, Kind::Dir)), _) if !matches!(call, EditorCall::View { .. }) => {
                return fail(format!(
                    "The path {shown} is a directory and only the `view` command can be used on directories"
                ));
            }
            _ => {}
        }
        match call {
            EditorCall::View { view_range, .. } => self.view_shared(&shown, kind, *view_range),
            EditorCall::Create { file_text, .. } => self.create(&shown, file_text),
            EditorCall::StrReplace {
                old_str, new_str, ..
            } => self.str_replace(&shown, kind, old_str, new_str),
            EditorCall::Insert {
                insert_line,
                new_str,
                ..
            } => self.insert(&shown, kind, *insert_line, new_str),
        }
    }

    /// A view of an unedited file is a pure function of its blob, the path shown and the
    /// range: the variants of a PR open the same files, so the first one's view serves them.
    fn view_shared(
        &self,
        shown: &str,
        kind: Option<(String, Kind)>,
        view_range: Option<(i64, i64)>,
    ) -> EditorResult {
        let shared = match (&kind, self.shared()) {
            (Some((path, Kind::File)), Some(cache)) if !self.snapshot.is_edited() => {
                self.snapshot.blob_id(path).map(|blob| {
                    let key = (blob, format!("editor-view\0{shown}\0{view_range:?}"));
                    (cache, key)
                })
            }
            _ => None,
        };
        let Some((cache, key)) = shared else {
            return self.view(shown, kind, view_range);
        };
        if let Some(kept) = cache.peek(&key) {
            let (ok, output) = kept.split_at(1);
            return EditorResult {
                output: output.to_string(),
                ok: ok == "1",
            };
        }
        let result = self.view(shown, kind, view_range);
        let ok = if result.ok { "1" } else { "0" };
        cache.put(key, format!("{ok}{}", result.output));
        result
    }

    fn text_of(&self, kind: &Option<(String, Kind)>) -> (String, String) {
        let path = path_of(kind);
        let text = python_text(&self.snapshot.read(&path).unwrap_or_default());
        (path, text)
    }

    fn view(
        &self,
        shown: &str,
        kind: Option<(String, Kind)>,
        view_range: Option<(i64, i64)>,
    ) -> EditorResult {
        if let Some((dir, Kind::Dir)) = &kind {
            if view_range.is_some() {
                return fail(
                    "The `view_range` parameter is not allowed when `path` points to a directory."
                        .into(),
                );
            }
            // `find PATH -maxdepth 2 -not -path '*/\.*'`, in byte order. find does not follow
            // a link given as PATH: it prints the link alone.
            if self.lstat_of(shown).is_some_and(|(_, k)| k == Kind::Link) {
                return EditorResult {
                    output: format!(
                        "Here's the files and directories up to 2 levels deep in {shown}, excluding hidden items:\n{shown}\n\n\n"
                    ),
                    ok: true,
                };
            }
            let shown_dir = shown.trim_end_matches('/');
            let prefix = if dir.is_empty() { 0 } else { dir.len() + 1 };
            let mut listing = vec![shown.to_string()];
            let mut below: Vec<String> = self
                .snapshot
                .walk(dir)
                .into_iter()
                .map(|(p, _)| p[prefix..].to_string())
                .filter(|rel| rel.split('/').count() <= 2)
                .filter(|rel| !rel.split('/').any(|part| part.starts_with('.')))
                .map(|rel| format!("{shown_dir}/{rel}"))
                .collect();
            below.sort();
            listing.extend(below);
            let stdout: String = listing.iter().map(|l| format!("{l}\n")).collect();
            return EditorResult {
                output: format!(
                    "Here's the files and directories up to 2 levels deep in {shown}, excluding hidden items:\n{stdout}\n\n"
                ),
                ok: true,
            };
        }
        let (_, text) = self.text_of(&kind);
        let (content, first) = match view_range {
            None => (text, 1),
            Some((start, end)) => {
                let lines: Vec<&str> = text.split('\n').collect();
                let n = lines.len() as i64;
                let range = format!("[{start}, {end}]");
                if start < 1 || start > n {
                    return fail(format!(
                        "Invalid `view_range`: {range}. Its first element `{start}` should be within the range of lines of the file: [1, {n}]"
                    ));
                }
                if end > n {
                    return fail(format!(
                        "Invalid `view_range`: {range}. Its second element `{end}` should be smaller than the number of lines in the file: `{n}`"
                    ));
                }
                if end != -1 && end < start {
                    return fail(format!(
                        "Invalid `view_range`: {range}. Its second element `{end}` should be larger or equal than its first `{start}`"
                    ));
                }
                let end = if end == -1 { n } else { end };
                (lines[(start - 1) as usize..end as usize].join("\n"), start)
            }
        };
        EditorResult {
            output: make_output(&content, shown, first) + "\n",
            ok: true,
        }
    }

    fn create(&mut self, shown: &str, file_text: &str) -> EditorResult {
        let Resolved::Inside(path) = self.resolve(shown) else {
            return fail(format!(
                "Ran into a read-only file system while trying to write to {shown}"
            ));
        };
        let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        if self.snapshot.follow(parent).map(|(_, k)| k) != Some(Kind::Dir) {
            let shown_parent = shown.rsplit_once('/').map(|(p, _)| p).unwrap_or("/");
            return fail(format!(
                "The parent directory {shown_parent} does not exist. Please create it first."
            ));
        }
        self.snapshot.write(&path, file_text.as_bytes().to_vec());
        EditorResult {
            output: format!("File created successfully at: {shown}\n"),
            ok: true,
        }
    }

    fn str_replace(
        &mut self,
        shown: &str,
        kind: Option<(String, Kind)>,
        old_str: &str,
        new_str: &str,
    ) -> EditorResult {
        let path = path_of(&kind);
        let raw = self.snapshot.read(&path).unwrap_or_default();
        // A pure function of the file and the call: the variants of a PR replay the same
        // edits on the same files, so the first one's result serves the others.
        let memo = self.shared().map(|cache| {
            (
                cache.clone(),
                str_replace_key(shown, &raw, old_str, new_str),
            )
        });
        if let Some((cache, key)) = &memo
            && let Some((result, content)) = cache.edits.editor(key)
        {
            if let Some(content) = content {
                self.snapshot.write(&path, content);
            }
            return result;
        }
        let (result, content) = str_replace_text(shown, &python_text(&raw), old_str, new_str);
        if let Some((cache, key)) = memo {
            cache.edits.put_editor(key, &result, content.as_deref());
        }
        if let Some(content) = content {
            self.snapshot.write(&path, content);
        }
        result
    }

    fn insert(
        &mut self,
        shown: &str,
        kind: Option<(String, Kind)>,
        insert_line: i64,
        new_str: &str,
    ) -> EditorResult {
        let (path, text) = self.text_of(&kind);
        let text = expandtabs(&text);
        let new = expandtabs(new_str);
        let lines: Vec<&str> = text.split('\n').collect();
        let n = lines.len() as i64;
        if insert_line < 0 || insert_line > n {
            return fail(format!(
                "Invalid `insert_line` parameter: {insert_line}. It should be within the range of lines of the file: [0, {n}]"
            ));
        }
        let k = insert_line as usize;
        let new_lines: Vec<&str> = new.split('\n').collect();
        let mut updated: Vec<&str> = lines[..k].to_vec();
        updated.extend(&new_lines);
        updated.extend(&lines[k..]);
        let mut snippet: Vec<&str> = lines[k.saturating_sub(SNIPPET_LINES)..k].to_vec();
        snippet.extend(&new_lines);
        snippet.extend(&lines[k..(k + SNIPPET_LINES).min(lines.len())]);
        self.snapshot.write(&path, updated.join("\n").into_bytes());
        let first = (insert_line - SNIPPET_LINES as i64 + 1).max(1);
        EditorResult {
            output: format!(
                "The file {shown} has been edited. {}Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.\n",
                make_output(&snippet.join("\n"), "a snippet of the edited file", first)
            ),
            ok: true,
        }
    }
}

/// `str_replace` on a file's text: the result, and the new content when it was edited.
fn str_replace_text(
    shown: &str,
    text: &str,
    old_str: &str,
    new_str: &str,
) -> (EditorResult, Option<Vec<u8>>) {
    let content = expandtabs(text);
    let old = expandtabs(old_str);
    let new = expandtabs(new_str);
    // Whether `old` occurs none, one or more times (the count itself is never shown).
    let first = memchr::memmem::find(content.as_bytes(), old.as_bytes());
    let occurrences = match first {
        _ if old.is_empty() => content.chars().count() + 1,
        None => 0,
        Some(at) => {
            let rest = &content.as_bytes()[at + old.len()..];
            1 + usize::from(memchr::memmem::find(rest, old.as_bytes()).is_some())
        }
    };
    if occurrences == 0 {
        return (
            fail(format!(
                "No replacement was performed, old_str `{old}` did not appear verbatim in {shown}."
            )),
            None,
        );
    }
    if occurrences > 1 {
        let lines: Vec<usize> = content
            .split('\n')
            .enumerate()
            .filter(|(_, l)| l.contains(&*old))
            .map(|(i, _)| i + 1)
            .collect();
        return (
            fail(format!(
                "No replacement was performed. Multiple occurrences of old_str `{old}` in lines {}. Please ensure it is unique",
                int_list(&lines)
            )),
            None,
        );
    }
    if new == old {
        return (
            fail(format!(
                "No replacement was performed, old_str `{old}` is the same as new_str `{new}`."
            )),
            None,
        );
    }
    // The one occurrence (an empty `old` is found at the start, as `replacen` puts it).
    let at = first.unwrap_or(0);
    let mut new_content = String::with_capacity(content.len() + new.len());
    new_content.push_str(&content[..at]);
    new_content.push_str(&new);
    new_content.push_str(&content[at + old.len()..]);
    let newlines = |text: &str| memchr::memchr_iter(b'\n', text.as_bytes()).count();
    let replacement_line = newlines(&content[..at]);
    let start = replacement_line.saturating_sub(SNIPPET_LINES).max(1);
    let window_end = replacement_line + SNIPPET_LINES + newlines(&new);
    let breaks = newlines(&new_content);
    // Python's splitlines ends a line at every `\n` and maybe elsewhere: a window within the
    // first `breaks` lines needs no count of the others.
    let end = if window_end <= breaks {
        window_end
    } else {
        window_end.min(python_splitlines_count(&new_content))
    };
    let from = start - 1;
    let snippet = lines_between(&new_content, from, end.min(breaks + 1).max(from));
    let result = EditorResult {
        output: format!(
            "The file {shown} has been edited. {}Review the changes and make sure they are as expected. Edit the file again if necessary.\n",
            make_output(snippet, &format!("a snippet of {shown}"), start as i64)
        ),
        ok: true,
    };
    (result, Some(new_content.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::{lines_between, python_splitlines_count};

    #[test]
    fn lines_between_is_split_skip_take_join() {
        for text in [
            "",
            "a",
            "a\n",
            "a\nb",
            "\n\n",
            "one\ntwo\nthree\n",
            "x\n\ny\nz",
        ] {
            let pieces = text.split('\n').count();
            for from in 0..pieces + 2 {
                for to in 0..pieces + 2 {
                    let reference = text
                        .split('\n')
                        .skip(from)
                        .take(to.min(pieces).saturating_sub(from))
                        .collect::<Vec<&str>>()
                        .join("\n");
                    let got = lines_between(text, from, to.min(pieces));
                    assert_eq!(got, reference, "{text:?} {from}..{to}");
                }
            }
        }
    }

    /// Python's rule, char by char (the reference the byte scan must equal).
    fn reference(text: &str) -> usize {
        let breaks = [
            '\n', '\r', '\u{0b}', '\u{0c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}',
            '\u{2029}',
        ];
        let mut count = 0;
        let mut chars = text.chars().peekable();
        let mut in_line = false;
        while let Some(c) = chars.next() {
            if breaks.contains(&c) {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                count += 1;
                in_line = false;
            } else {
                in_line = true;
            }
        }
        count + usize::from(in_line)
    }

    #[test]
    fn counts_lines_as_python_splitlines_does() {
        let cases = [
            "",
            "a",
            "a\n",
            "a\nb",
            "\n\n",
            "a\r\nb\rc\n",
            "\r",
            "\r\r\n",
            "x\u{0b}y\u{0c}z\u{1c}\u{1d}\u{1e}",
            "caf\u{e9}\n\u{85}tail",
            "line\u{2028}next\u{2029}",
            "\u{20ac}\u{2027}\u{2030}\n",
            "no break \u{c5}\u{80}",
        ];
        for text in cases {
            assert_eq!(python_splitlines_count(text), reference(text), "{text:?}");
        }
    }
}
