//! The emulator against the real tools: a repository made here is checked out with `git
//! archive`, each command runs under `LC_ALL=C` with stderr merged, and the emulator must
//! print the same bytes (as sorted lines where the real order follows the file system). The
//! editor's outputs are golden strings written from SWE-agent's tool source.

mod support;

use std::path::Path;

use corpus_synth::emulator::editor::EditorCall;
use corpus_synth::{Emulator, Snapshot};
use support::{FILE, assert_like_the_real_tools, checkout, real, repository};

const FILES: &[(&str, &[u8])] = &[
    ("README.md", b"# Demo\n\nA parser for widgets.\n"),
    (
        "src/widgets/parser.py",
        b"import re\n\n\ndef parse(text):\n\tif not text:\n\t\treturn None\n    return re.split(r\"\\s+\", text)\n\n\nclass Parser:\n    def run(self, text):\n        return parse(text)\n",
    ),
    ("src/widgets/__init__.py", b"from .parser import parse\n"),
    ("src/widgets/util.py", b"def helper(x):\n    return x + 1  # parse later\n"),
    ("src/widgets/no_newline.py", b"VALUE = 1\nOTHER = 2"),
    ("src/widgets/crlf.txt", b"one\r\ntwo parse\r\n"),
    ("src/data/blob.bin", b"PK\x00\x01parse\x00\xff\xfe\n"),
    ("tests/test_parser.py", b"from widgets import parse\n\ndef test_parse():\n    assert parse(\"a b\") == [\"a\", \"b\"]\n"),
    (".hidden/config", b"parse = true\n"),
    (".gitignore", b"*.pyc\n"),
    ("docs/Deep/nested/file.txt", b"deep parse text\n"),
    ("docs/caf\u{e9}.txt", b"caf\xc3\xa9 parse\n"),
];

fn fixture(dir: &Path) -> (git2::Repository, git2::Oid) {
    let long: String = (1..=250)
        .map(|i| format!("line {i} of the long file\n"))
        .collect();
    let mut entries: Vec<(&str, u32, &[u8])> = FILES
        .iter()
        .map(|(path, bytes)| (*path, FILE, *bytes))
        .collect();
    entries.push(("src/long.txt", FILE, long.as_bytes()));
    repository(dir, &entries)
}

#[test]
fn the_bash_subset_prints_what_the_real_tools_print() {
    let dir = tempfile::tempdir().expect("tmp");
    let (repo, commit) = fixture(dir.path());
    let tree = checkout(dir.path(), commit);
    let emulator = Emulator::new(
        Snapshot::at_commit(&repo, commit).expect("snapshot"),
        "/testbed",
    );
    let exact = [
        "cat -n src/widgets/parser.py",
        "cat -n src/widgets/no_newline.py src/widgets/util.py",
        "cat src/widgets/util.py",
        "cat -n src/widgets",
        "cat -n missing.py",
        "sed -n '4,7p' src/widgets/parser.py",
        "sed -n '2p' src/widgets/no_newline.py",
        "sed -n '1,200p' src/widgets/no_newline.py",
        "sed -n '1,3p' missing.py",
        "sed -n '1,3p' src",
        "head src/widgets/parser.py",
        "head -n 3 src/widgets/parser.py",
        "head -2 src/widgets/no_newline.py",
        "head missing.py",
        "wc -l src/widgets/parser.py",
        "wc -l src/widgets/parser.py src/widgets/no_newline.py README.md",
        "wc -l src src/widgets/util.py",
        "wc -l missing.py src/widgets/util.py",
        "ls",
        "ls -a",
        "ls src/widgets",
        "ls src tests",
        "ls README.md src/data",
        "ls nowhere",
        "ls /testbed/docs",
        "grep -n parse src/widgets/parser.py",
        "grep -n 'parse(' src/widgets/parser.py src/widgets/util.py",
    ];
    let any_order = [
        "find . -name '*.py'",
        "find src -name 'p*'",
        "find . -type d",
        "find docs",
        "find . -iname 'readme*'",
        "find nowhere -name x",
        "grep -rn parse .",
        "grep -rn parse",
        "grep -rn 'def \\(parse\\|helper\\)' src",
        "grep -rni PARSE tests",
        "grep -rnw parse src",
        "grep -rnF 're.split(r\"' src",
        "grep -rn --include=*.py parse .",
        "grep -rl parse src",
        "grep -rn 'x+1' src",
        "grep -rn 'return x + 1' src",
        // Anchors, a last line without its newline, CR before LF, every line.
        "grep -rn '^def' src",
        "grep -rn '2$' src",
        "grep -rn 'parse.$' src",
        "grep -n '' src/widgets/no_newline.py",
        "grep -rn 'of the long file$' src/long.txt",
    ];
    assert_like_the_real_tools(&emulator, &tree, &exact, &any_order);
    for refused in [
        "rm -rf src",
        "cat a | grep b",
        "python -c 'print(1)'",
        "ls $(pwd)",
        "grep -P x .",
        "grep -c parse src/widgets/parser.py",
    ] {
        assert!(emulator.bash(refused).is_none(), "{refused}");
    }
}

#[test]
fn the_editor_prints_what_str_replace_editor_prints_and_later_views_see_edits() {
    let dir = tempfile::tempdir().expect("tmp");
    let (repo, commit) = fixture(dir.path());
    let mut emulator = Emulator::new(
        Snapshot::at_commit(&repo, commit).expect("snapshot"),
        "/testbed",
    );
    let view = |path: &str, range: Option<(i64, i64)>| EditorCall::View {
        path: path.into(),
        view_range: range,
    };
    // A file: every `\n`-separated line numbered, so a final newline gives an empty last row;
    // tabs expanded; `print` adds a newline.
    let out = emulator.editor(&view("/testbed/src/widgets/util.py", None));
    assert_eq!(
        out.output,
        "Here's the result of running `cat -n` on /testbed/src/widgets/util.py:\n     1\tdef helper(x):\n     2\t    return x + 1  # parse later\n     3\t\n\n"
    );
    let out = emulator.editor(&view("/testbed/src/widgets/parser.py", Some((4, 6))));
    assert_eq!(
        out.output,
        "Here's the result of running `cat -n` on /testbed/src/widgets/parser.py:\n     4\tdef parse(text):\n     5\t        if not text:\n     6\t                return None\n\n"
    );
    // CRLF reads as LF, as Python's universal newlines do.
    let out = emulator.editor(&view("/testbed/src/widgets/crlf.txt", None));
    assert!(
        out.output
            .contains("     1\tone\n     2\ttwo parse\n     3\t\n"),
        "{}",
        out.output
    );
    // A directory: two levels, hidden entries left out.
    let out = emulator.editor(&view("/testbed/docs", None));
    assert_eq!(
        out.output,
        "Here's the files and directories up to 2 levels deep in /testbed/docs, excluding hidden items:\n/testbed/docs\n/testbed/docs/Deep\n/testbed/docs/Deep/nested\n/testbed/docs/caf\u{e9}.txt\n\n\n"
    );
    // Errors.
    let out = emulator.editor(&view("src/widgets/util.py", None));
    assert_eq!(
        out.output,
        "The path src/widgets/util.py is not an absolute path, it should start with `/`. Maybe you meant /testbed/src/widgets/util.py?\n"
    );
    let out = emulator.editor(&view("/testbed/nope.py", None));
    assert_eq!(
        out.output,
        "The path /testbed/nope.py does not exist. Please provide a valid path.\n"
    );
    let out = emulator.editor(&view("/testbed/src/widgets/util.py", Some((0, 2))));
    assert_eq!(
        out.output,
        "Invalid `view_range`: [0, 2]. Its first element `0` should be within the range of lines of the file: [1, 3]\n"
    );
    let replace = |old: &str, new: &str| EditorCall::StrReplace {
        path: "/testbed/src/widgets/parser.py".into(),
        old_str: old.into(),
        new_str: new.into(),
    };
    let out = emulator.editor(&replace("text", "t"));
    assert_eq!(
        out.output,
        "No replacement was performed. Multiple occurrences of old_str `text` in lines [4, 5, 7, 11, 12]. Please ensure it is unique\n"
    );
    assert!(!out.ok);
    let out = emulator.editor(&replace("absent", "x"));
    assert_eq!(
        out.output,
        "No replacement was performed, old_str `absent` did not appear verbatim in /testbed/src/widgets/parser.py.\n"
    );
    // Success: a snippet from 4 lines before to 4 after the change (tabs now expanded in the
    // file, as the real tool writes them back).
    let out = emulator.editor(&replace("class Parser:", "class WidgetParser:"));
    assert!(out.ok);
    assert_eq!(
        out.output,
        "The file /testbed/src/widgets/parser.py has been edited. Here's the result of running `cat -n` on a snippet of /testbed/src/widgets/parser.py:\n     5\t        if not text:\n     6\t                return None\n     7\t    return re.split(r\"\\s+\", text)\n     8\t\n     9\t\n    10\tclass WidgetParser:\n    11\t    def run(self, text):\n    12\t        return parse(text)\nReview the changes and make sure they are as expected. Edit the file again if necessary.\n"
    );
    // Later calls see the edit, through the editor and the shell.
    assert!(
        emulator
            .bash("grep -n WidgetParser src/widgets/parser.py")
            .is_some_and(|o| o == "10:class WidgetParser:\n")
    );
    assert!(
        emulator
            .bash("cat -n src/widgets/parser.py")
            .is_some_and(|o| o.contains("     5\t        if not text:\n"))
    );
    // Insert after line 1.
    let out = emulator.editor(&EditorCall::Insert {
        path: "/testbed/src/widgets/util.py".into(),
        insert_line: 1,
        new_str: "    \"\"\"Add one.\"\"\"".into(),
    });
    assert_eq!(
        out.output,
        "The file /testbed/src/widgets/util.py has been edited. Here's the result of running `cat -n` on a snippet of the edited file:\n     1\tdef helper(x):\n     2\t    \"\"\"Add one.\"\"\"\n     3\t    return x + 1  # parse later\n     4\t\nReview the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.\n"
    );
    // Create, then it exists.
    let create = EditorCall::Create {
        path: "/testbed/src/widgets/new.py".into(),
        file_text: "X = 1\n".into(),
    };
    assert_eq!(
        emulator.editor(&create).output,
        "File created successfully at: /testbed/src/widgets/new.py\n"
    );
    assert_eq!(
        emulator.editor(&create).output,
        "File already exists at: /testbed/src/widgets/new.py. Cannot overwrite files using command `create`.\n"
    );
    assert_eq!(
        emulator.bash("ls src/widgets").as_deref(),
        Some("__init__.py\ncrlf.txt\nnew.py\nno_newline.py\nparser.py\nutil.py\n")
    );
    let missing_parent = EditorCall::Create {
        path: "/testbed/nowhere/new.py".into(),
        file_text: String::new(),
    };
    assert_eq!(
        emulator.editor(&missing_parent).output,
        "The parent directory /testbed/nowhere does not exist. Please create it first.\n"
    );
}

#[test]
fn the_windowed_tools_print_what_swe_agents_windowed_tools_print() {
    use corpus_synth::emulator::windowed::WindowState;
    // `search_dir` skips paths with a `/.` component: the checkout must not be under one.
    let dir = tempfile::Builder::new()
        .prefix("emulator")
        .tempdir()
        .expect("tmp");
    let (repo, commit) = fixture(dir.path());
    let tree = checkout(dir.path(), commit);
    let emulator = Emulator::new(
        Snapshot::at_commit(&repo, commit).expect("snapshot"),
        "/testbed",
    );
    let mut state = WindowState::default();
    let root = tree.display().to_string();
    // search_dir and find_file against the pipelines the tools run.
    for (call, pipeline) in [
        (
            "search_dir parse",
            format!(
                "find {root} -type f ! -path '*/.*' -exec grep -nIH -- parse {{}} + | cut -d: -f1 | sort | uniq -c"
            ),
        ),
        (
            "search_dir 'def \\(parse\\|helper\\)' src",
            format!(
                "find {root}/src -type f ! -path '*/.*' -exec grep -nIH -- 'def \\(parse\\|helper\\)' {{}} + | cut -d: -f1 | sort | uniq -c"
            ),
        ),
    ] {
        let ours = emulator
            .windowed(&mut state, call)
            .expect("a windowed tool");
        let counts = real(&tree, &pipeline).replace(&root, "/testbed");
        let rows: Vec<String> = counts
            .lines()
            .map(|l| {
                let (n, path) = l.trim_start().split_once(' ').expect("count and path");
                format!("{path} ({n} matches)")
            })
            .collect();
        let total: usize = counts
            .lines()
            .map(|l| {
                l.trim_start()
                    .split_once(' ')
                    .expect("count")
                    .0
                    .parse::<usize>()
                    .expect("n")
            })
            .sum();
        let body: Vec<&str> = ours.lines().collect();
        assert!(
            body[0].starts_with(&format!("Found {total} matches for ")),
            "{ours}"
        );
        assert_eq!(body[1..body.len() - 1].to_vec(), rows, "{call}");
        assert!(
            body[body.len() - 1].starts_with("End of matches for "),
            "{ours}"
        );
    }
    assert_eq!(
        emulator
            .windowed(&mut state, "search_dir nothing_matches_this")
            .as_deref(),
        Some("No matches found for \"nothing_matches_this\" in /testbed\n")
    );
    assert_eq!(
        emulator
            .windowed(&mut state, "search_dir x nowhere")
            .as_deref(),
        Some("Directory nowhere not found\n")
    );
    let ours = emulator
        .windowed(&mut state, "find_file '*.py' src")
        .expect("tool");
    let mut theirs: Vec<String> = real(&tree, &format!("find {root}/src -type f -name '*.py'"))
        .replace(&root, "/testbed")
        .lines()
        .map(str::to_string)
        .collect();
    theirs.sort();
    let mut expected = format!(
        "Found {} matches for \"*.py\" in /testbed/src:\n",
        theirs.len()
    );
    for t in theirs {
        expected.push_str(&t);
        expected.push('\n');
    }
    assert_eq!(ours, expected);

    // open / goto / scroll: a 100-line window; `goto N` puts N a sixth of the window down.
    assert_eq!(
        emulator.windowed(&mut state, "goto 5").as_deref(),
        Some("No file open. Use the open command first.\n")
    );
    let out = emulator
        .windowed(&mut state, "open src/long.txt")
        .expect("tool");
    assert!(
        out.starts_with("[File: src/long.txt (250 lines total)]\n1:line 1 of the long file\n"),
        "{out}"
    );
    assert!(
        out.ends_with("100:line 100 of the long file\n(150 more lines below)\n"),
        "{out}"
    );
    let out = emulator.windowed(&mut state, "goto 120").expect("tool");
    assert!(
        out.starts_with(
            "[File: /testbed/src/long.txt (250 lines total)]\n(102 more lines above)\n103:line 103"
        ),
        "{out}"
    );
    assert!(
        out.ends_with("202:line 202 of the long file\n(48 more lines below)\n"),
        "{out}"
    );
    let out = emulator.windowed(&mut state, "scroll_down").expect("tool");
    assert!(
        out.contains("(150 more lines above)\n151:line 151"),
        "{out}"
    );
    assert!(
        out.ends_with("250:line 250 of the long file\n"),
        "the window stops at the end: {out}"
    );
    let out = emulator.windowed(&mut state, "scroll_up").expect("tool");
    assert!(out.contains("(52 more lines above)\n53:line 53"), "{out}");
    assert_eq!(
        emulator.windowed(&mut state, "goto 900").as_deref(),
        Some("Error: <line> must be less than or equal to 250\n")
    );
    let out = emulator
        .windowed(&mut state, "open src/widgets/util.py 7")
        .expect("tool");
    assert_eq!(
        out,
        "Warning: <line_number> (7) is greater than the number of lines in the file (2)\nWarning: Setting <line_number> to 2\n[File: src/widgets/util.py (2 lines total)]\n1:def helper(x):\n2:    return x + 1  # parse later\n"
    );
    assert_eq!(
        emulator.windowed(&mut state, "open src").as_deref(),
        Some(
            "Error: src is a directory. You can only open files. Use cd or ls to navigate directories.\n"
        )
    );
    // search_file in the open file.
    assert_eq!(
        emulator
            .windowed(&mut state, "search_file return")
            .as_deref(),
        Some(
            "Found 1 matches for \"return\" in /testbed/src/widgets/util.py:\nLine 2:    return x + 1  # parse later\nEnd of matches for \"return\" in /testbed/src/widgets/util.py\n"
        )
    );
    assert_eq!(
        emulator
            .windowed(&mut state, "search_file parse src/widgets/parser.py")
            .map(|o| o.lines().count()),
        Some(2 + 2)
    );
}

/// A commit on `base` that writes `files` (top-level names) over its tree.
fn child_commit(repo: &git2::Repository, base: git2::Oid, files: &[(&str, &[u8])]) -> git2::Oid {
    let parent = repo.find_commit(base).expect("commit");
    let mut builder = repo
        .treebuilder(Some(&parent.tree().expect("tree")))
        .expect("builder");
    for (name, bytes) in files {
        let blob = repo.blob(bytes).expect("blob");
        builder.insert(name, blob, 0o100644).expect("insert");
    }
    let tree = repo
        .find_tree(builder.write().expect("write"))
        .expect("tree");
    let sig = git2::Signature::new("t", "t@example.com", &git2::Time::new(1, 0)).expect("sig");
    repo.commit(None, &sig, &sig, "change", &tree, &[&parent])
        .expect("commit")
}

#[test]
fn results_are_shared_by_blob_and_tree_and_never_after_an_edit() {
    use corpus_synth::emulator::ResultCache;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().expect("tmp");
    let (repo, base) = fixture(dir.path());
    // A second commit that changes one file only.
    let head = child_commit(&repo, base, &[("README.md", b"# Demo, changed\n")]);
    let cache = Arc::new(ResultCache::default());
    let first = Emulator::new(Snapshot::at_commit(&repo, base).expect("snap"), "/testbed")
        .with_cache(cache.clone());
    let second = Emulator::new(Snapshot::at_commit(&repo, head).expect("snap"), "/testbed")
        .with_cache(cache.clone());
    let util = first.run_shell("cat -n src/widgets/util.py").expect("cat");
    assert_eq!(
        second.run_shell("cat -n src/widgets/util.py").as_deref(),
        Some(util.as_str())
    );
    assert_eq!(
        cache.hits.load(Ordering::Relaxed),
        1,
        "same blob, other tree: a hit"
    );
    let before = first.run_shell("cat -n README.md").expect("cat");
    let after = second.run_shell("cat -n README.md").expect("cat");
    assert_ne!(before, after, "another blob: computed again");
    let grep_first = first.run_shell("grep -rn Demo .").expect("grep");
    let grep_second = second.run_shell("grep -rn Demo .").expect("grep");
    assert_ne!(grep_first, grep_second, "directory results are per tree");
    assert_eq!(cache.hits.load(Ordering::Relaxed), 1);
    // After an edit the snapshot is the trajectory's own: no cache.
    let mut edited = Emulator::new(Snapshot::at_commit(&repo, base).expect("snap"), "/testbed")
        .with_cache(cache.clone());
    edited.editor(&EditorCall::StrReplace {
        path: "/testbed/src/widgets/util.py".into(),
        old_str: "x + 1".into(),
        new_str: "x + 2".into(),
    });
    let changed = edited.run_shell("cat -n src/widgets/util.py").expect("cat");
    assert!(changed.contains("x + 2"), "{changed}");
    assert_eq!(cache.hits.load(Ordering::Relaxed), 1);
}

/// With a shared cache a search for a plain word reads only the files the trigram index lets
/// through: every search prints what a full scan prints, on the base tree, on a tree sharing
/// most of its blobs, and after an edit adds the word to a file.
#[test]
fn indexed_searches_print_what_a_full_scan_prints() {
    use corpus_synth::emulator::ResultCache;
    use corpus_synth::emulator::windowed::WindowState;
    use std::sync::Arc;
    let dir = tempfile::tempdir().expect("tmp");
    let (repo, base) = fixture(dir.path());
    // A second tree: one file gains `widgetry`, another is new.
    let head = child_commit(
        &repo,
        base,
        &[
            ("README.md", b"# Demo\n\nwidgetry for parsers\n"),
            ("NOTES", b"parse_later and helpers\n"),
        ],
    );
    let searches = [
        "grep -rn parse .",
        "grep -rl parse .",
        "grep -rn parse",
        "grep -rn parse src tests",
        "grep -rn parse src/widgets/parser.py src",
        "grep -rn parse src/widgets/parser.py",
        "grep -rnw parse src",
        "grep -rn --include=*.py parse .",
        "grep -rn widgetry .",
        "grep -rl helper .",
        "grep -rn elpe .",
        "grep -rn parse_later .",
        "grep -rn nowhere_at_all .",
        "grep -rn long src",
        "grep -rn file src/long.txt",
        "grep -rni PARSE .",
        "grep -rn 'par.e' .",
    ];
    // The kimi_dev family's search reads through the index too.
    let windowed_searches = [
        "search_dir parse",
        "search_dir parse src",
        "search_dir widgetry",
        "search_dir helper",
        "search_dir nowhere_at_all",
        "search_dir par.e",
    ];
    let cache = Arc::new(ResultCache::default());
    for commit in [base, head, base] {
        let plain = Emulator::new(
            Snapshot::at_commit(&repo, commit).expect("snap"),
            "/testbed",
        );
        let shared = Emulator::new(
            Snapshot::at_commit(&repo, commit).expect("snap"),
            "/testbed",
        )
        .with_cache(cache.clone());
        for search in searches {
            assert_eq!(shared.bash(search), plain.bash(search), "{search}");
        }
        for search in windowed_searches {
            let run = |e: &Emulator| e.windowed(&mut WindowState::default(), search);
            assert_eq!(run(&shared), run(&plain), "{search}");
        }
    }
    // An edited file has no blob: the index never leaves it out.
    let edit = EditorCall::StrReplace {
        path: "/testbed/src/widgets/util.py".into(),
        old_str: "x + 1".into(),
        new_str: "x + widgetry".into(),
    };
    let mut plain = Emulator::new(Snapshot::at_commit(&repo, base).expect("snap"), "/testbed");
    let mut shared = Emulator::new(Snapshot::at_commit(&repo, base).expect("snap"), "/testbed")
        .with_cache(cache.clone());
    plain.editor(&edit);
    shared.editor(&edit);
    let found = shared.bash("grep -rn widgetry .").expect("grep");
    assert!(found.contains("src/widgets/util.py"), "{found}");
    for search in searches {
        assert_eq!(shared.bash(search), plain.bash(search), "{search}");
    }
    for search in windowed_searches {
        let run = |e: &Emulator| e.windowed(&mut WindowState::default(), search);
        assert_eq!(run(&shared), run(&plain), "{search}");
    }
}
