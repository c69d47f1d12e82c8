//! The patterns the emulated tools take: shell globs (`find -name`, `grep --include`) and
//! grep's basic regular expressions, translated for the `regex` crate, and the lines such a
//! pattern matches.

/// fnmatch(3) without flags: `*`, `?`, `[...]` (with `!`/`^` negation and ranges), `\` escapes.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_at(&p, &n)
}

fn glob_at(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|skip| glob_at(&p[1..], &n[skip..])),
        Some('?') => !n.is_empty() && glob_at(&p[1..], &n[1..]),
        Some('[') => match (class_end(p), n.first()) {
            (Some(end), Some(c)) => {
                class_matches(&p[1..end], *c) && glob_at(&p[end + 1..], &n[1..])
            }
            (None, Some(c)) => *c == '[' && glob_at(&p[1..], &n[1..]),
            (_, None) => false,
        },
        Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && glob_at(&p[2..], &n[1..]),
        Some(c) => n.first() == Some(c) && glob_at(&p[1..], &n[1..]),
    }
}

/// Index of the `]` closing the class that starts at `p[0] == '['`.
fn class_end(p: &[char]) -> Option<usize> {
    let mut i = 1;
    if matches!(p.get(i), Some('!') | Some('^')) {
        i += 1;
    }
    if p.get(i) == Some(&']') {
        i += 1;
    }
    while i < p.len() {
        if p[i] == ']' {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn class_matches(class: &[char], c: char) -> bool {
    let (negated, body) = match class.first() {
        Some('!') | Some('^') => (true, &class[1..]),
        _ => (false, class),
    };
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            hit |= body[i] <= c && c <= body[i + 2];
            i += 3;
        } else {
            hit |= body[i] == c;
            i += 1;
        }
    }
    hit != negated
}

/// A POSIX basic regular expression (grep's default) as a `regex` pattern: `\( \) \{ \} \| \+
/// \?` are the operators and their bare forms literals; `*` at the start is literal; bracket
/// expressions pass through (POSIX classes like `[[:space:]]` are understood by `regex`).
pub fn bre_to_regex(bre: &str) -> String {
    let chars: Vec<char> = bre.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut at_start = true;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() => {
                let next = chars[i + 1];
                match next {
                    '(' | ')' | '{' | '}' | '|' | '+' | '?' => out.push(next),
                    // Word starts and ends: `regex` has no look-around, a boundary is close.
                    '<' | '>' => out.push_str(r"\b"),
                    'w' | 'W' | 's' | 'S' | 'b' | 'B' => {
                        out.push('\\');
                        out.push(next);
                    }
                    d if d.is_ascii_digit() => {
                        // Back-references have no `regex` equivalent: match the digit literally.
                        out.push(d);
                    }
                    other => out.push_str(&regex::escape(&other.to_string())),
                }
                i += 2;
                at_start = next == '(' || next == '|';
                continue;
            }
            '[' => {
                let end = bracket_end(&chars, i);
                let class: String = chars[i..=end].iter().collect();
                // `regex` treats `[` inside a class as a nested class; POSIX does not.
                out.push_str(
                    &class
                        .replace("[[:", "\u{0}")
                        .replace('[', r"\[")
                        .replace('\u{0}', "[[:"),
                );
                i = end + 1;
                at_start = false;
                continue;
            }
            '*' if at_start => out.push_str(r"\*"),
            '(' | ')' | '{' | '}' | '|' | '+' | '?' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        at_start = c == '^' && at_start;
        i += 1;
    }
    out
}

/// Index of the `]` that closes the bracket expression starting at `chars[start] == '['`.
fn bracket_end(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    if chars.get(i) == Some(&'^') {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        i += 1;
    }
    while i < chars.len() {
        if chars[i] == '[' && matches!(chars.get(i + 1), Some(':') | Some('.') | Some('=')) {
            let close = chars[i + 1];
            let mut j = i + 2;
            while j + 1 < chars.len() && !(chars[j] == close && chars[j + 1] == ']') {
                j += 1;
            }
            i = j + 2;
            continue;
        }
        if chars[i] == ']' {
            return i;
        }
        i += 1;
    }
    chars.len() - 1
}

/// What `grep -- TERM` matches (a basic regular expression over bytes); None when it does
/// not compile, which the tools report as no matches.
pub fn grep_regex(term: &str, multi_line: bool) -> Option<regex::bytes::Regex> {
    regex::bytes::RegexBuilder::new(&bre_to_regex(term))
        .unicode(false)
        .multi_line(multi_line)
        .build()
        .ok()
}

/// The lines of `bytes` that `re` matches, each as (start, end) without its `\n`, in order.
/// `anywhere` is the same pattern with `^` and `$` at every line: only the lines it reaches are
/// tried, so a file without a match is never split into lines.
pub fn matching_lines<'a>(
    re: &'a regex::bytes::Regex,
    anywhere: &'a regex::bytes::Regex,
    bytes: &'a [u8],
) -> impl Iterator<Item = (usize, usize)> + 'a {
    let mut next = anywhere.find_at(bytes, 0);
    std::iter::from_fn(move || {
        while let Some(found) = next {
            let start = memchr::memrchr(b'\n', &bytes[..found.start()]).map_or(0, |i| i + 1);
            if start >= bytes.len() {
                return None; // past the last line
            }
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            next = if end < bytes.len() {
                anywhere.find_at(bytes, end + 1)
            } else {
                None
            };
            // A match found across lines is no line's own.
            if re.is_match(&bytes[start..end]) {
                return Some((start, end));
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only the lines the whole-text search reaches are tried: the same count as trying
    /// every line.
    #[test]
    fn matching_lines_counts_what_a_line_by_line_search_counts() {
        let texts: [&[u8]; 7] = [
            b"",
            b"one\ntwo parse\nparse parse\n",
            b"no final newline parse",
            b"crlf parse\r\nnext\r\n",
            b"a\n\nb\n\n",
            b"x[a\nb]y parse\n",
            b"par\nse\n",
        ];
        for term in ["parse", "^$", "^p", "e$", "[^q]*", "par.e", "\\(se\\|ne\\)"] {
            let (Some(re), Some(anywhere)) = (grep_regex(term, false), grep_regex(term, true))
            else {
                panic!("{term} compiles");
            };
            for text in texts {
                let by_line = text
                    .split_inclusive(|b| *b == b'\n')
                    .filter(|line| re.is_match(line.strip_suffix(b"\n").unwrap_or(line)))
                    .count();
                assert_eq!(
                    matching_lines(&re, &anywhere, text).count(),
                    by_line,
                    "{term} in {:?}",
                    String::from_utf8_lossy(text)
                );
            }
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.py", "setup.py"));
        assert!(!glob_match("*.py", "setup.pyc"));
        assert!(glob_match("test_?.py", "test_a.py"));
        assert!(glob_match("[a-c]*", "b.txt"));
        assert!(!glob_match("[!a-c]*", "b.txt"));
        assert!(glob_match("*", ".hidden"));
    }

    #[test]
    fn basic_regular_expressions() {
        let re = |p: &str| regex::Regex::new(&bre_to_regex(p)).expect("valid");
        assert!(re("a\\(b\\)*c").is_match("abbc"));
        assert!(re("f(x)").is_match("call f(x) now"));
        assert!(re("a|b").is_match("a|b") && !re("a|b").is_match("a"));
        assert!(re("a\\|b").is_match("b"));
        assert!(re("x+").is_match("x+") && !re("x+").is_match("xx"));
        assert!(re("^def [[:alpha:]_]*(").is_match("def parse_args(argv):"));
        assert!(re("*star").is_match("a *star"));
    }
}
