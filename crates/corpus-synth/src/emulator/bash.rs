//! A read-only shell subset over the snapshot, each command printing what GNU coreutils,
//! findutils and grep print under `LC_ALL=C` (stderr merged after stdout lines of the same
//! file, as an agent's terminal shows them).

use super::Emulator;
use super::pattern::{bre_to_regex, glob_match, matching_lines};
use crate::snapshot::Kind;
use crate::trigram_index::is_plain_word;
use std::collections::HashSet;
use std::fmt::Write as _;

/// Split a command line into words: single quotes, double quotes (with `\"` and `\\`), and
/// backslash escapes outside quotes. None for shell syntax the subset does not run (pipes,
/// redirections, `;`, `&&`, substitutions, unbalanced quotes).
pub fn split_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        ch => word.push(ch),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' if matches!(
                            chars.peek(),
                            Some('"') | Some('\\') | Some('$') | Some('`')
                        ) =>
                        {
                            word.push(chars.next()?)
                        }
                        '$' | '`' => return None,
                        ch => word.push(ch),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next()?);
            }
            '|' | '&' | ';' | '<' | '>' | '$' | '`' | '(' | ')' => return None,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// `cat -n` of some bytes: each line numbered in 6 columns and a tab; a last line without a
/// newline stays without one.
pub fn number_lines(bytes: &[u8], first: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len() + text.len() / 4 + 16);
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let _ = write!(out, "{:>6}\t{line}", first + i);
    }
    out
}

/// The lines of a file with their newlines (the last may lack one).
fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split_inclusive('\n')
        .map(str::to_string)
        .collect()
}

impl Emulator<'_> {
    /// Run one command line; None when it is not in the subset (the caller refuses the call).
    pub fn bash(&self, line: &str) -> Option<String> {
        let words = split_words(line)?;
        let (program, args) = words.split_first()?;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match program.as_str() {
            "cat" => self.cat(&args),
            "sed" => self.sed(&args),
            "head" => self.head(&args),
            "wc" => self.wc(&args),
            "ls" => self.ls(&args),
            "find" => self.find(&args),
            "grep" => self.grep(&args),
            _ => None,
        }
    }

    /// The bytes of a file argument, or the error line the tool prints.
    fn file_arg(&self, tool: &str, arg: &str) -> Result<Vec<u8>, String> {
        match self.kind_of(arg) {
            Some((_, Kind::Dir)) => Err(format!("{tool}: {arg}: Is a directory\n")),
            // Followed: a file (never a link).
            Some((path, _)) => Ok(self.snapshot.read(&path).unwrap_or_default()),
            None => Err(format!("{tool}: {arg}: {}\n", self.unresolved(arg))),
        }
    }

    /// `cat [-n] FILE...`: the files' bytes in order (numbered as one stream with `-n`, so a
    /// last line without a newline runs into the next file), errors first.
    fn cat(&self, args: &[&str]) -> Option<String> {
        let (number, files): (bool, Vec<&str>) = match args {
            ["-n", files @ ..] => (true, files.to_vec()),
            files => (false, files.to_vec()),
        };
        if files.is_empty() || files.iter().any(|f| f.starts_with('-')) {
            return None;
        }
        let mut stream = Vec::new();
        let mut errors = String::new();
        for file in files {
            match self.file_arg("cat", file) {
                Ok(bytes) => stream.extend_from_slice(&bytes),
                Err(e) => errors.push_str(&e),
            }
        }
        Some(if number {
            errors + &number_lines(&stream, 1)
        } else {
            errors + &String::from_utf8_lossy(&stream)
        })
    }

    /// `sed -n 'A,Bp' FILE` and `sed -n 'Ap' FILE`.
    fn sed(&self, args: &[&str]) -> Option<String> {
        let ["-n", script, file] = args else {
            return None;
        };
        let range = script.strip_suffix('p')?;
        let (a, b) = match range.split_once(',') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => {
                let a = range.parse::<usize>().ok()?;
                (a, a)
            }
        };
        if a == 0 {
            return Some("sed: -e expression #1, char 1: invalid usage of line address 0\n".into());
        }
        Some(match self.file_arg("sed", file) {
            Ok(bytes) => lines(&bytes)
                .into_iter()
                .enumerate()
                .filter(|(i, _)| *i + 1 >= a && *i < b.max(a))
                .map(|(_, l)| l)
                .collect(),
            Err(e) if e.contains("Is a directory") => {
                format!("sed: read error on {file}: Is a directory\n")
            }
            Err(_) => format!("sed: can't read {file}: {}\n", self.unresolved(file)),
        })
    }

    /// `head [-n N | -N] FILE` (one file: several print `==> name <==` headers).
    fn head(&self, args: &[&str]) -> Option<String> {
        let (n, file) = match args {
            [file] => (10, *file),
            ["-n", n, file] => (n.parse().ok()?, *file),
            [flag, file] if flag.starts_with('-') => (flag[1..].parse().ok()?, *file),
            _ => return None,
        };
        Some(match self.file_arg("head", file) {
            Ok(bytes) => lines(&bytes).into_iter().take(n).collect(),
            Err(_) if self.kind_of(file).is_some() => {
                format!("head: error reading '{file}': Is a directory\n")
            }
            Err(_) => {
                format!(
                    "head: cannot open '{file}' for reading: {}\n",
                    self.unresolved(file)
                )
            }
        })
    }

    /// `wc -l FILE...`: newline counts right-aligned to the digits of the files' total size
    /// (at least 7 when an operand is a directory), a `total` line for several files; errors
    /// in operand order.
    fn wc(&self, args: &[&str]) -> Option<String> {
        let ["-l", files @ ..] = args else {
            return None;
        };
        if files.is_empty() {
            return None;
        }
        enum Row {
            Count(usize, String),
            Error(String),
        }
        let mut rows = Vec::new();
        let mut size = 0usize;
        let mut irregular = false;
        for file in files {
            match self.file_arg("wc", file) {
                Ok(bytes) => {
                    size += bytes.len();
                    let count = bytes.iter().filter(|b| **b == b'\n').count();
                    rows.push(Row::Count(count, file.to_string()));
                }
                Err(e) if e.contains("Is a directory") => {
                    irregular = true;
                    rows.push(Row::Error(format!("wc: {file}: Is a directory\n")));
                    rows.push(Row::Count(0, file.to_string()));
                }
                Err(_) => rows.push(Row::Error(format!(
                    "wc: {file}: {}\n",
                    self.unresolved(file)
                ))),
            }
        }
        let total: usize = rows
            .iter()
            .map(|r| if let Row::Count(n, _) = r { *n } else { 0 })
            .sum();
        if files.len() > 1 {
            rows.push(Row::Count(total, "total".into()));
        }
        // coreutils: one operand and one count print unpadded.
        let mut width = size.to_string().len();
        if irregular {
            width = width.max(7);
        }
        if files.len() == 1 {
            width = 1;
        }
        Some(
            rows.into_iter()
                .map(|r| match r {
                    Row::Count(n, name) => format!("{n:>width$} {name}\n"),
                    Row::Error(e) => e,
                })
                .collect(),
        )
    }

    /// `ls [-a] [-1] [PATH...]`, one name per line (as when the output is not a terminal).
    fn ls(&self, args: &[&str]) -> Option<String> {
        let mut all = false;
        let mut paths = Vec::new();
        for arg in args {
            match *arg {
                "-a" => all = true,
                "-1" => {}
                "-a1" | "-1a" => all = true,
                a if a.starts_with('-') => return None,
                a => paths.push(a),
            }
        }
        if paths.is_empty() {
            paths.push(".");
        }
        let mut out = String::new();
        let mut errors = String::new();
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for p in &paths {
            // An operand that is a link to a directory lists the directory; any other link,
            // dangling ones too, is shown by its name.
            match (self.kind_of(p), self.lstat_of(p)) {
                (Some((path, Kind::Dir)), _) => dirs.push((*p, path)),
                (Some(_), _) | (None, Some(_)) => files.push(*p),
                (None, None) => errors.push_str(&format!(
                    "ls: cannot access '{p}': {}\n",
                    self.unresolved(p)
                )),
            }
        }
        files.sort();
        dirs.sort();
        for f in &files {
            out.push_str(&format!("{f}\n"));
        }
        let headers = paths.len() > 1;
        for (i, (shown, path)) in dirs.iter().enumerate() {
            if headers {
                if i > 0 || !files.is_empty() {
                    out.push('\n');
                }
                out.push_str(&format!("{shown}:\n"));
            }
            if all {
                out.push_str(".\n..\n");
            }
            for (name, _) in self.snapshot.list(path).unwrap_or_default() {
                if all || !name.starts_with('.') {
                    out.push_str(&format!("{name}\n"));
                }
            }
        }
        Some(errors + &out)
    }

    /// `find [PATH] [-type f|d|l] [-name GLOB | -iname GLOB]` (the tests in either order);
    /// links are listed, never followed.
    fn find(&self, args: &[&str]) -> Option<String> {
        let (start, tests) = match args.first() {
            Some(a) if !a.starts_with('-') => (*a, &args[1..]),
            _ => (".", args),
        };
        let mut name: Option<(String, bool)> = None;
        let mut kind: Option<Kind> = None;
        let mut i = 0;
        while i < tests.len() {
            match (tests[i], tests.get(i + 1)) {
                ("-name", Some(g)) => name = Some((g.to_string(), false)),
                ("-iname", Some(g)) => name = Some((g.to_lowercase(), true)),
                ("-type", Some(&"f")) => kind = Some(Kind::File),
                ("-type", Some(&"d")) => kind = Some(Kind::Dir),
                ("-type", Some(&"l")) => kind = Some(Kind::Link),
                _ => return None,
            }
            i += 2;
        }
        // find does not follow links, not even its starting point (`-P`).
        let Some((root, root_kind)) = self.lstat_of(start) else {
            return Some(format!("find: '{start}': {}\n", self.unresolved(start)));
        };
        let shown = start.trim_end_matches('/');
        let shown = if shown.is_empty() { "/" } else { shown };
        let mut entries = vec![(root.clone(), root_kind, shown.to_string())];
        if root_kind == Kind::Dir {
            let prefix = if root.is_empty() { 0 } else { root.len() + 1 };
            for (path, k) in self.snapshot.walk(&root) {
                entries.push((path.clone(), k, format!("{shown}/{}", &path[prefix..])));
            }
        }
        let mut hits: Vec<String> = entries
            .into_iter()
            .filter(|(_, k, _)| kind.is_none_or(|want| want == *k))
            .filter(|(_, _, display)| {
                name.as_ref().is_none_or(|(glob, fold)| {
                    let base = display.rsplit('/').next().unwrap_or(display);
                    if *fold {
                        glob_match(glob, &base.to_lowercase())
                    } else {
                        glob_match(glob, base)
                    }
                })
            })
            .map(|(_, _, display)| display)
            .collect();
        hits.sort();
        Some(hits.iter().map(|h| format!("{h}\n")).collect())
    }

    /// `grep -r[n] [-i] [-w] [-F] [-l] [--include=GLOB] PATTERN [PATH...]` (flags may be
    /// combined, as `-rn` or `-rni`). Operands are followed when they are links; links met
    /// while recursing are skipped, as GNU grep `-r` does.
    fn grep(&self, args: &[&str]) -> Option<String> {
        let (mut recursive, mut numbers, mut fold, mut word, mut fixed, mut names_only) =
            (false, false, false, false, false, false);
        let mut includes: Vec<String> = Vec::new();
        let mut operands = Vec::new();
        for arg in args {
            if let Some(glob) = arg.strip_prefix("--include=") {
                includes.push(glob.to_string());
            } else if arg.starts_with('-') && arg.len() > 1 && operands.is_empty() {
                for flag in arg[1..].chars() {
                    match flag {
                        // -R follows every link met while recursing: not in the subset.
                        'r' => recursive = true,
                        'n' => numbers = true,
                        'i' => fold = true,
                        'w' => word = true,
                        'F' => fixed = true,
                        'l' => names_only = true,
                        _ => return None,
                    }
                }
            } else {
                operands.push(*arg);
            }
        }
        let (pattern, paths) = operands.split_first()?;
        let mut source = if fixed {
            regex::escape(pattern)
        } else {
            bre_to_regex(pattern)
        };
        if word {
            source = format!(r"\b(?:{source})\b");
        }
        let re = regex::bytes::RegexBuilder::new(&source)
            .case_insensitive(fold)
            .unicode(false)
            .build()
            .ok()?;
        // The same pattern over a whole file, `^` and `$` at every line: it matches wherever
        // some line matches (and maybe across lines too), so a file it misses has no matching
        // line and is not split into lines at all.
        let anywhere = regex::bytes::RegexBuilder::new(&source)
            .case_insensitive(fold)
            .unicode(false)
            .multi_line(true)
            .build()
            .ok()?;
        // Without a path, `grep -r` searches `.` and shows paths without `./`.
        let implicit = paths.is_empty();
        let paths: Vec<&str> = if implicit { vec!["."] } else { paths.to_vec() };
        // The files a search of this unedited tree matched, when an earlier grep made the same
        // search (only its output differed: `-rl` before `-rn`); only those can match now.
        let memo = self
            .cache
            .as_ref()
            .filter(|_| !self.snapshot.is_edited())
            .map(|cache| {
                let search = format!(
                    "grep-files\0{source}\0{fold}\0{recursive}\0{}\0{}",
                    includes.join("\0"),
                    paths.join("\0")
                );
                (cache, (self.snapshot.tree_id(), search))
            });
        let known: Option<HashSet<String>> = memo
            .as_ref()
            .and_then(|(cache, key)| cache.peek(key))
            .map(|files| {
                files
                    .split('\0')
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect()
            });
        // Without a memo, a plain word is looked up in the index: a file it leaves out
        // cannot hold the word, so no line of it can match.
        let indexed = known.is_none() && !fold && is_plain_word(pattern);
        let mut search = FileSearch {
            re: &re,
            anywhere: &anywhere,
            numbers,
            names_only,
            out: String::new(),
            matching: known.is_none().then(Vec::new),
        };
        let wanted = |base: &str, path: &str| {
            (includes.is_empty() || includes.iter().any(|g| glob_match(g, base)))
                && known.as_ref().is_none_or(|known| known.contains(path))
        };
        // (shown path, repo path, blob id when a walk found it unedited, found by a walk)
        let mut files: Vec<(String, String, Option<git2::Oid>, bool)> = Vec::new();
        let mut dirs = Vec::new();
        for p in &paths {
            match self.kind_of(p) {
                Some((path, Kind::File)) => files.push((p.to_string(), path, None, false)),
                Some((path, Kind::Dir)) if recursive => dirs.push((*p, path)),
                Some(_) => search.out.push_str(&format!("grep: {p}: Is a directory\n")),
                None => search
                    .out
                    .push_str(&format!("grep: {p}: {}\n", self.unresolved(p))),
            }
        }
        // A directory's files in byte order of their paths (-r skips links met while
        // recursing); each shown below the operand as given, or bare for the implicit `.`.
        let in_dir = |path: &str| {
            let prefix = if path.is_empty() { 0 } else { path.len() + 1 };
            let listed = self.files_shared(path);
            let may_hold = indexed.then(|| self.may_hold(pattern, listed.iter().map(|f| f.1)));
            (prefix, listed, may_hold)
        };
        let display = |shown: &str, rel: &str| {
            let mut display = String::with_capacity(shown.len() + 1 + rel.len());
            if !implicit {
                display.push_str(shown);
                display.push('/');
            }
            display.push_str(rel);
            display
        };
        if let ([(p, path)], true) = (dirs.as_slice(), files.is_empty()) {
            // One directory: its files are already in the order grep prints them.
            let (prefix, listed, may_hold) = in_dir(path);
            let shown = p.trim_end_matches('/');
            for (n, (sub, blob)) in listed.iter().enumerate() {
                let rel = &sub[prefix..];
                let base = rel.rsplit('/').next().unwrap_or(rel);
                if may_hold.as_ref().is_some_and(|may| !may[n]) || !wanted(base, sub) {
                    continue;
                }
                search.file(self, &display(shown, rel), sub, *blob, true);
            }
        } else {
            for (p, path) in &dirs {
                let (prefix, listed, may_hold) = in_dir(path);
                let shown = p.trim_end_matches('/');
                for (n, (sub, blob)) in listed.iter().enumerate() {
                    if may_hold.as_ref().is_none_or(|may| may[n]) {
                        files.push((display(shown, &sub[prefix..]), sub.clone(), *blob, true));
                    }
                }
            }
            files.sort();
            // GNU grep names the file of a line when it has several operands, or when `-r`
            // found the file inside a directory operand.
            let several = paths.len() > 1;
            for (display, path, blob, walked) in &files {
                let base = display.rsplit('/').next().unwrap_or(display);
                if wanted(base, path) {
                    search.file(self, display, path, *blob, several || *walked);
                }
            }
        }
        if let (Some(matching), Some((cache, key))) = (search.matching, memo) {
            cache.put(key, matching.join("\0"));
        }
        Some(search.out)
    }
}

/// One `grep`'s patterns and options, and what it has printed and matched so far.
struct FileSearch<'p> {
    re: &'p regex::bytes::Regex,
    anywhere: &'p regex::bytes::Regex,
    numbers: bool,
    names_only: bool,
    out: String,
    /// The files that matched, for the memo (None when the memo answered).
    matching: Option<Vec<String>>,
}

impl FileSearch<'_> {
    /// Search one file; `show_names` puts its name before each line.
    fn file(
        &mut self,
        emulator: &Emulator,
        display: &str,
        path: &str,
        blob: Option<git2::Oid>,
        show_names: bool,
    ) {
        let Some(bytes) = emulator.snapshot.read_walked(path, blob) else {
            return;
        };
        let mut lines = matching_lines(self.re, self.anywhere, &bytes).peekable();
        if lines.peek().is_none() {
            return;
        }
        if let Some(matching) = &mut self.matching {
            matching.push(path.to_string());
        }
        let out = &mut self.out;
        if self.names_only {
            out.push_str(display);
            out.push('\n');
            return;
        }
        if bytes.contains(&0) {
            out.push_str(&format!("grep: {display}: binary file matches\n"));
            return;
        }
        // `line_no` lines come before byte `counted`.
        let (mut line_no, mut counted) = (0usize, 0usize);
        for (start, end) in lines {
            line_no += memchr::memchr_iter(b'\n', &bytes[counted..start]).count();
            counted = start;
            if show_names {
                out.push_str(display);
                out.push(':');
            }
            if self.numbers {
                let _ = write!(out, "{}:", line_no + 1);
            }
            out.push_str(&String::from_utf8_lossy(&bytes[start..end]));
            out.push('\n');
        }
    }
}
