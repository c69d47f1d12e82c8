//! Symbolic links (blobs of mode 120000) as the real tools treat them, checked against GNU
//! tools on a `git archive` checkout (which makes real links): operands are followed,
//! `grep -r` skips links met while recursing, `find` lists links and never follows them,
//! a dangling link reads as missing, a link to a directory leads into it. The editor and
//! the windowed tools follow what their shell commands do.

mod support;

use std::path::Path;

use corpus_synth::emulator::editor::EditorCall;
use corpus_synth::emulator::windowed::WindowState;
use corpus_synth::{Emulator, Snapshot};
use support::{FILE, assert_like_the_real_tools, checkout, repository};

/// Git's mode of a symbolic link.
const LINK: u32 = 0o120000;

const ENTRIES: &[(&str, u32, &[u8])] = &[
    (
        "src/widgets/parser.py",
        FILE,
        b"def parse(text):\n    return text.split()\n",
    ),
    (
        "src/widgets/util.py",
        FILE,
        b"def helper():\n    return parse\n",
    ),
    // A link to a file beside it, one to a directory, one up the tree (a loop for -R).
    ("src/link.py", LINK, b"widgets/parser.py"),
    ("src/pkg", LINK, b"widgets"),
    ("src/widgets/up", LINK, b".."),
    ("docs/Deep/nested/file.txt", FILE, b"deep parse text\n"),
    ("docs/latest", LINK, b"Deep"),
    ("dangling", LINK, b"nowhere.txt"),
    ("self", LINK, b"self"),
];

fn fixture(dir: &Path) -> (git2::Repository, git2::Oid) {
    repository(dir, ENTRIES)
}

fn links_checkout(dir: &Path, commit: git2::Oid) -> std::path::PathBuf {
    let out = checkout(dir, commit);
    assert!(
        out.join("src/link.py").is_symlink(),
        "the checkout holds real links"
    );
    out
}

#[test]
fn the_shell_subset_treats_links_as_gnu_tools_do() {
    let dir = tempfile::tempdir().expect("tmp");
    let (repo, commit) = fixture(dir.path());
    let tree = links_checkout(dir.path(), commit);
    let emulator = Emulator::new(
        Snapshot::at_commit(&repo, commit).expect("snapshot"),
        "/testbed",
    );
    let exact = [
        "cat src/link.py",
        "cat -n src/link.py src/widgets/util.py",
        "cat dangling",
        "cat self",
        "cat docs/latest",
        "cat docs/latest/nested/file.txt",
        "cat src/pkg/util.py",
        "cat src/widgets/up/link.py",
        "sed -n '1,1p' src/link.py",
        "head -1 src/pkg/parser.py",
        "head dangling",
        "wc -l src/link.py docs/latest/nested/file.txt",
        "ls src",
        "ls -a src/widgets",
        "ls docs/latest",
        "ls src/pkg",
        "ls dangling",
        "ls src/link.py",
        "grep -n parse src/link.py",
        "grep -n parse src/link.py src/widgets/util.py",
    ];
    let any_order = [
        "grep -rn parse .",
        "grep -rn parse",
        "grep -rn parse docs/latest",
        "grep -rn parse src/pkg",
        "grep -rl parse src",
        "find .",
        "find . -type l",
        "find . -type f",
        "find . -type d",
        "find src -name 'link*'",
        "find docs/latest",
        "find src/pkg -name '*.py'",
    ];
    assert_like_the_real_tools(&emulator, &tree, &exact, &any_order);
    // -R follows every link met while recursing (a loop here): not in the subset.
    assert!(emulator.bash("grep -Rn parse .").is_none());
}

#[test]
fn the_editor_and_the_windowed_tools_follow_their_commands() {
    let dir = tempfile::tempdir().expect("tmp");
    let (repo, commit) = fixture(dir.path());
    let mut emulator = Emulator::new(
        Snapshot::at_commit(&repo, commit).expect("snapshot"),
        "/testbed",
    );
    let view = |path: &str| EditorCall::View {
        path: path.into(),
        view_range: None,
    };
    // Python opens through the link.
    let through = emulator.editor(&view("/testbed/src/link.py"));
    let direct = emulator.editor(&view("/testbed/src/widgets/parser.py"));
    assert_eq!(
        through.output.replace("/testbed/src/link.py", "P"),
        direct.output.replace("/testbed/src/widgets/parser.py", "P")
    );
    // A directory view runs `find PATH -maxdepth 2`, which prints a link given as PATH alone
    // and lists links inside without following them.
    let out = emulator.editor(&view("/testbed/docs/latest"));
    assert_eq!(
        out.output,
        "Here's the files and directories up to 2 levels deep in /testbed/docs/latest, excluding hidden items:\n/testbed/docs/latest\n\n\n"
    );
    let out = emulator.editor(&view("/testbed/src"));
    assert!(
        out.output.contains("/testbed/src/link.py\n"),
        "{}",
        out.output
    );
    assert!(out.output.contains("/testbed/src/pkg\n"), "{}", out.output);
    assert!(!out.output.contains("/testbed/src/pkg/"), "{}", out.output);
    // A dangling link does not exist for Python.
    let out = emulator.editor(&view("/testbed/dangling"));
    assert!(!out.ok);
    assert!(out.output.contains("does not exist"), "{}", out.output);
    // An edit through a link changes the file it leads to.
    let out = emulator.editor(&EditorCall::StrReplace {
        path: "/testbed/src/link.py".into(),
        old_str: "text.split()".into(),
        new_str: "text.split(\",\")".into(),
    });
    assert!(out.ok, "{}", out.output);
    let out = emulator.editor(&view("/testbed/src/widgets/parser.py"));
    assert!(out.output.contains("text.split(\",\")"), "{}", out.output);

    // The windowed tools: `find -type f` leaves links out of find_file and search_dir; open
    // follows a link.
    let emulator = Emulator::new(
        Snapshot::at_commit(&repo, commit).expect("snapshot"),
        "/testbed",
    );
    let mut state = WindowState::default();
    let out = emulator
        .windowed(&mut state, "find_file link.py")
        .expect("tool");
    assert_eq!(out, "No matches found for \"link.py\" in /testbed\n");
    let out = emulator
        .windowed(&mut state, "search_dir parse src")
        .expect("tool");
    assert!(
        out.contains("/testbed/src/widgets/parser.py (1 matches)"),
        "{out}"
    );
    assert!(!out.contains("link.py"), "{out}");
    let out = emulator
        .windowed(&mut state, "open src/link.py")
        .expect("tool");
    assert!(out.contains("return text.split()"), "{out}");
}
