//! The repository structure shown in localization prompts: directories as `name/`, four
//! spaces of indent per level, entries sorted bytewise, built from the base tree's file list.

use std::collections::BTreeMap;

#[derive(Default)]
struct Dir<'a> {
    dirs: BTreeMap<&'a str, Dir<'a>>,
    files: Vec<&'a str>,
}

/// Render the files for which `keep` holds as an indented tree.
pub fn render_structure<'a>(
    files: impl IntoIterator<Item = &'a str>,
    keep: impl Fn(&str) -> bool,
) -> String {
    let mut root = Dir::default();
    for path in files {
        if !keep(path) {
            continue;
        }
        let mut node = &mut root;
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_some() {
                node = node.dirs.entry(part).or_default();
            } else {
                node.files.push(part);
            }
        }
    }
    let mut out = String::new();
    write_dir(&root, 0, &mut out);
    out
}

fn write_dir(dir: &Dir, depth: usize, out: &mut String) {
    // Directories and files interleave in name order, as a sorted listing shows them.
    let mut entries: Vec<(&str, Option<&Dir>)> = dir
        .dirs
        .iter()
        .map(|(name, sub)| (*name, Some(sub)))
        .chain(dir.files.iter().map(|name| (*name, None)))
        .collect();
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    for (name, sub) in entries {
        out.push_str(&"    ".repeat(depth));
        out.push_str(name);
        match sub {
            Some(sub) => {
                out.push_str("/\n");
                write_dir(sub, depth + 1, out);
            }
            None => out.push('\n'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sorted_indented_tree() {
        let files = [
            "setup.py",
            "pkg/b.py",
            "pkg/a.py",
            "pkg/sub/c.py",
            "README.md",
            "tests/test_a.py",
        ];
        let tree = render_structure(files, |p| p.ends_with(".py") && !p.starts_with("tests/"));
        assert_eq!(
            tree,
            "pkg/\n    a.py\n    b.py\n    sub/\n        c.py\nsetup.py\n"
        );
    }

    #[test]
    fn empty_when_nothing_is_kept() {
        assert_eq!(render_structure(["a.txt"], |_| false), "");
    }
}
