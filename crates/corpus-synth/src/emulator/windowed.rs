//! The `kimi_dev` tool family's reading tools, as SWE-agent's windowed tools print them:
//! `open`, `goto`, `scroll_down`, `scroll_up` (a 100-line window, 2 lines of overlap when
//! scrolling), `search_dir`, `search_file` and `find_file`. The open file and the window's
//! first line are state the calls share, as the tools keep them in their registry.

use super::bash::split_words;
use super::editor::python_text;
use super::pattern::{grep_regex, matching_lines};
use super::{Emulator, Resolved};
use crate::snapshot::Kind;
use crate::trigram_index::is_plain_word;

pub const WINDOW: i64 = 100;
pub const OVERLAP: i64 = 2;

/// The open file (as the tools name it) and the window's first line (0-based).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowState {
    pub current: Option<String>,
    pub first_line: i64,
}

/// How many lines Python's `str.splitlines()` gives (universal newlines already applied).
fn n_lines(text: &str) -> i64 {
    if text.is_empty() {
        return 0;
    }
    (text.matches('\n').count() + usize::from(!text.ends_with('\n'))) as i64
}

impl Emulator<'_> {
    /// One call of the family, as a command line (`open "src/x.py" 40`, `search_dir TERM`);
    /// None when it is not one of these tools.
    pub fn windowed(&self, state: &mut WindowState, line: &str) -> Option<String> {
        let words = split_words(line)?;
        let (tool, args) = words.split_first()?;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Some(match tool.as_str() {
            "open" => self.open(state, &args),
            "goto" => self.goto(state, &args),
            "scroll_down" => self.scroll(state, WINDOW),
            "scroll_up" => self.scroll(state, -WINDOW),
            // Reads no window state: shared by the searches of an unedited tree.
            "search_dir" => self.cached(
                || self.snapshot.tree_id(),
                line,
                || Some(self.search_dir(&args)),
            )?,
            "search_file" => self.search_file(state, &args),
            "find_file" => self.find_file(&args),
            _ => return None,
        })
    }

    /// The repository path and text of a file argument, or the tools' error.
    fn window_file(&self, shown: &str) -> Result<(String, String), String> {
        match self.kind_of(shown) {
            Some((_, Kind::Dir)) => Err(format!(
                "Error: {shown} is a directory. You can only open files. Use cd or ls to navigate directories.\n"
            )),
            // Followed: a file (never a link).
            Some((path, _)) => {
                let text = python_text(&self.snapshot.read(&path).unwrap_or_default());
                Ok((path, text))
            }
            None => Err(format!("Error: File {shown} not found\n")),
        }
    }

    fn set_first_line(state: &mut WindowState, value: f64, n: i64) {
        state.first_line = 0.max((value.trunc() as i64).min(n - WINDOW));
    }

    fn print_window(&self, shown: &str, text: &str, first: i64) -> String {
        let n = n_lines(text);
        let end = (first + WINDOW - 1).min(n - 1);
        let mut out = vec![format!("[File: {shown} ({n} lines total)]")];
        if first > 0 {
            out.push(format!("({first} more lines above)"));
        }
        let lines: Vec<&str> = text.split('\n').collect();
        if end >= first {
            for (i, line) in lines
                .iter()
                .enumerate()
                .skip(first as usize)
                .take((end - first + 1) as usize)
            {
                out.push(format!("{}:{line}", i + 1));
            }
        }
        if end < n - 1 {
            out.push(format!("({} more lines below)", n - end - 1));
        }
        out.join("\n") + "\n"
    }

    fn open(&self, state: &mut WindowState, args: &[&str]) -> String {
        let Some(arg) = args.first() else {
            return match state.current.clone() {
                Some(current) => self.redraw(state, &current),
                None => "Usage: open \"<file>\"\n".into(),
            };
        };
        let shown = if arg.len() > 1 {
            arg.trim_end_matches('/')
        } else {
            arg
        };
        let (path, text) = match self.window_file(shown) {
            Ok(found) => found,
            Err(e) => return e,
        };
        let n = n_lines(&text);
        let mut out = String::new();
        let line = match args.get(1) {
            None => 1,
            Some(raw) => match raw.parse::<i64>() {
                Err(_) => {
                    return "Usage: open \"<file>\" [<line_number>]\nError: <line_number> must be a number\n"
                        .into();
                }
                Ok(l) if l > n => {
                    out.push_str(&format!("Warning: <line_number> ({l}) is greater than the number of lines in the file ({n})\nWarning: Setting <line_number> to {n}\n"));
                    n
                }
                Ok(l) if l < 1 => {
                    out.push_str(&format!(
                        "Warning: <line_number> ({l}) is less than 1\nWarning: Setting <line_number> to 1\n"
                    ));
                    1
                }
                Ok(l) => l,
            },
        };
        // The registry keeps the resolved path; this call's status line shows the argument.
        state.current = Some(format!("{}/{path}", self.root).replace("//", "/"));
        Self::set_first_line(state, (line - 1) as f64 - WINDOW as f64 / 6.0, n);
        out + &self.print_window(shown, &text, state.first_line)
    }

    fn redraw(&self, state: &WindowState, current: &str) -> String {
        match self.window_file(current) {
            Ok((_, text)) => self.print_window(current, &text, state.first_line),
            Err(e) => e,
        }
    }

    fn goto(&self, state: &mut WindowState, args: &[&str]) -> String {
        let Some(current) = state.current.clone() else {
            return "No file open. Use the open command first.\n".into();
        };
        let Ok((_, text)) = self.window_file(&current) else {
            return format!("Error: File {current} not found\n");
        };
        let n = n_lines(&text);
        let Some(line) = args.first().and_then(|a| a.parse::<i64>().ok()) else {
            return "Usage: goto <line>\nError: <line> must be a number\n".into();
        };
        if line > n {
            return format!("Error: <line> must be less than or equal to {n}\n");
        }
        Self::set_first_line(state, (line - 1) as f64 - WINDOW as f64 / 6.0, n);
        self.print_window(&current, &text, state.first_line)
    }

    fn scroll(&self, state: &mut WindowState, lines: i64) -> String {
        let Some(current) = state.current.clone() else {
            return "No file open. Use the open command first.\n".into();
        };
        let Ok((_, text)) = self.window_file(&current) else {
            return format!("Error: File {current} not found\n");
        };
        let n = n_lines(&text);
        let moved = if lines > 0 {
            state.first_line + lines - OVERLAP
        } else {
            state.first_line + lines + OVERLAP
        };
        Self::set_first_line(state, moved as f64, n);
        self.print_window(&current, &text, state.first_line)
    }

    /// `realpath` of a directory argument, or None when it is not a directory.
    fn real_dir(&self, arg: &str) -> Option<(String, String)> {
        match self.resolve(arg) {
            Resolved::Inside(path) if self.snapshot.kind(&path) == Some(Kind::Dir) => {
                let shown = if path.is_empty() {
                    self.root.clone()
                } else {
                    format!("{}/{path}", self.root)
                };
                Some((path, shown))
            }
            _ => None,
        }
    }

    /// Files under a directory as (absolute path, repository path), in byte order.
    fn files_under(&self, dir: &str, shown: &str) -> Vec<(String, String)> {
        let prefix = if dir.is_empty() { 0 } else { dir.len() + 1 };
        let mut files: Vec<(String, String)> = self
            .snapshot
            .walk(dir)
            .into_iter()
            .filter(|(_, k)| *k == Kind::File)
            .map(|(p, _)| (format!("{shown}/{}", &p[prefix..]), p))
            .collect();
        files.sort();
        files
    }

    fn search_dir(&self, args: &[&str]) -> String {
        let (term, dir) = match args {
            [term] => (*term, "./"),
            [term, dir] => (*term, *dir),
            _ => return "Usage: search_dir <search_term> [<dir>]\n".into(),
        };
        let Some((path, shown)) = self.real_dir(dir) else {
            return format!("Directory {dir} not found\n");
        };
        let (Some(re), Some(anywhere)) = (grep_regex(term, false), grep_regex(term, true)) else {
            return format!("No matches found for \"{term}\" in {shown}\n");
        };
        // `find DIR -type f ! -path '*/.*' -exec grep -nIH -- TERM {} + | cut -d: -f1 | sort | uniq -c`
        let mut hits: Vec<(String, usize)> = Vec::new();
        let prefix = if path.is_empty() { 0 } else { path.len() + 1 };
        let listed = self.files_shared(&path);
        // A file the trigram index leaves out cannot hold a plain word: not read.
        let may_hold = is_plain_word(term).then(|| self.may_hold(term, listed.iter().map(|f| f.1)));
        for (n, (repo_path, blob)) in listed.iter().enumerate() {
            if may_hold.as_ref().is_some_and(|may| !may[n]) {
                continue;
            }
            let absolute = format!("{shown}/{}", &repo_path[prefix..]);
            if absolute.contains("/.") {
                continue;
            }
            // An unreadable file has no matching line, as an empty one.
            let Some(bytes) = self.snapshot.read_walked(repo_path, *blob) else {
                continue;
            };
            if bytes.contains(&0) {
                continue; // grep -I
            }
            let count = matching_lines(&re, &anywhere, &bytes).count();
            if count > 0 {
                let name = absolute.split(':').next().unwrap_or(&absolute).to_string();
                hits.push((name, count));
            }
        }
        if hits.is_empty() {
            return format!("No matches found for \"{term}\" in {shown}\n");
        }
        if hits.len() > 100 {
            return format!(
                "More than {} files matched for \"{term}\" in {shown}. Please narrow your search.\n",
                hits.len()
            );
        }
        let total: usize = hits.iter().map(|h| h.1).sum();
        let mut out = format!("Found {total} matches for \"{term}\" in {shown}:\n");
        for (name, count) in hits {
            out.push_str(&format!("{name} ({count} matches)\n"));
        }
        out + &format!("End of matches for \"{term}\" in {shown}\n")
    }

    fn search_file(&self, state: &WindowState, args: &[&str]) -> String {
        let usage = "Usage: search_file <search_term> [<file>]\n";
        let Some(term) = args.first().filter(|t| !t.is_empty()) else {
            return usage.into();
        };
        let (path, shown) = match args.get(1) {
            Some(file) => match self.kind_of(file) {
                Some((path, Kind::File)) => (path.clone(), format!("{}/{path}", self.root)),
                _ => {
                    return format!(
                        "{usage}Error: File name {file} not found. Please provide a valid file name.\n"
                    );
                }
            },
            None => match &state.current {
                Some(current) => match self.resolve(current) {
                    Resolved::Inside(path) => (path, current.clone()),
                    Resolved::Outside => return format!("Error: File {current} not found\n"),
                },
                None => return "No file open. Use the open command first.\n".into(),
            },
        };
        let Some(re) = grep_regex(term, false) else {
            return format!("No matches found for \"{term}\" in {shown}\n");
        };
        let bytes = self.snapshot.read(&path).unwrap_or_default();
        if bytes.contains(&0) {
            return format!("No matches found for \"{term}\" in {shown}\n");
        }
        let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
        let matched: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| re.is_match(l.strip_suffix(b"\n").unwrap_or(l)))
            .map(|(i, _)| i + 1)
            .collect();
        if matched.is_empty() {
            return format!("No matches found for \"{term}\" in {shown}\n");
        }
        if matched.len() > 100 {
            return format!(
                "More than {} lines matched for \"{term}\" in {shown}. Please narrow your search.\n",
                matched.len()
            );
        }
        let mut out = format!(
            "Found {} matches for \"{term}\" in {shown}:\n",
            matched.len()
        );
        for n in matched {
            let line = lines[n - 1];
            let text = String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(line));
            // `$(sed -n Np FILE)` drops trailing newlines (and so trailing `\r`s stay).
            out.push_str(&format!("Line {n}:{}\n", text.trim_end_matches('\n')));
        }
        out + &format!("End of matches for \"{term}\" in {shown}\n")
    }

    fn find_file(&self, args: &[&str]) -> String {
        let (name, dir) = match args {
            [name] => (*name, "./"),
            [name, dir] => (*name, *dir),
            _ => return "Usage: find_file <file_name> [<dir>]\n".into(),
        };
        let Some((path, shown)) = self.real_dir(dir) else {
            return format!("Directory {dir} not found\n");
        };
        let hits: Vec<String> = self
            .files_under(&path, &shown)
            .into_iter()
            .filter(|(absolute, _)| {
                let base = absolute.rsplit('/').next().unwrap_or(absolute);
                super::pattern::glob_match(name, base)
            })
            .map(|(absolute, _)| absolute)
            .collect();
        if hits.is_empty() {
            return format!("No matches found for \"{name}\" in {shown}\n");
        }
        let mut out = format!("Found {} matches for \"{name}\" in {shown}:\n", hits.len());
        for hit in hits {
            out.push_str(&format!("{hit}\n"));
        }
        out
    }
}
