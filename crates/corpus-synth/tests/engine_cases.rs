//! The deterministic engine on the smallest repositories that showed its own inconsistencies
//! on real histories (pallets/click, psf/black, pypa/pip): each PR here must give a
//! trajectory that replays to the head, where it used to be dropped.
//!
//! - a search word that a binary file also holds (`grep -rn` says "binary file matches",
//!   `grep -rl` lists the file): was `search_mismatch`;
//! - a PR that adds a file in a directory the base lacks (the editor's `create` makes no
//!   directories): was `replay_mismatch`; now `mkdir -p` first, or `new_directory` for the
//!   `kimi_dev` tools, which cannot make one;
//! - an edit whose `old_str` takes a `=======` underline or a ``` fence as context: was
//!   `search_replace_mismatch`.

use corpus_demo::{Person, RepoBuilder};
use corpus_synth::engine::{PrInput, Replay, synthesize};
use corpus_synth::tools::ToolFamily;
use corpus_synth::trajectory::Trajectory;

const DEV: Person = Person {
    name: "Dev One",
    email: "dev@example.org",
};

struct Pr {
    _dir: tempfile::TempDir,
    repo: git2::Repository,
    base: String,
    head: String,
    commits: Vec<(String, String, String)>,
    diff: String,
}

/// A repository with `base` files, then one PR commit with `edits`, squash-merged.
fn build(base: &[(&str, &[u8])], edits: &[(&str, Option<&[u8]>)], message: &str) -> Pr {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("acme+cases");
    let mut b = RepoBuilder::create(&path, false, 1_700_000_000).expect("repo");
    let base_files: Vec<(&str, Option<&[u8]>)> = base.iter().map(|(p, c)| (*p, Some(*c))).collect();
    let base_oid = b
        .commit("main", DEV, "Initial commit", &base_files)
        .expect("base");
    let head_oid = b.commit("main", DEV, message, edits).expect("pr");
    let repo = git2::Repository::open_bare(&path).expect("open");
    let diff = {
        let old = repo
            .find_commit(base_oid)
            .and_then(|c| c.tree())
            .expect("tree");
        let new = repo
            .find_commit(head_oid)
            .and_then(|c| c.tree())
            .expect("tree");
        let diff = repo
            .diff_tree_to_tree(Some(&old), Some(&new), None)
            .expect("diff");
        let mut text = Vec::new();
        diff.print(git2::DiffFormat::Patch, |_, _, line| {
            if matches!(line.origin(), '+' | '-' | ' ') {
                text.push(line.origin() as u8);
            }
            text.extend_from_slice(line.content());
            true
        })
        .expect("print");
        String::from_utf8(text).expect("utf-8")
    };
    Pr {
        _dir: dir,
        repo,
        base: base_oid.to_string(),
        head: head_oid.to_string(),
        commits: vec![(head_oid.to_string(), message.to_string(), diff.clone())],
        diff,
    }
}

fn run(pr: &Pr, problem: &str, family: ToolFamily) -> Result<Trajectory, String> {
    let input = PrInput {
        repo: "acme/cases",
        pr_number: 1,
        base_sha: &pr.base,
        head_sha: &pr.head,
        problem,
        diff: &pr.diff,
        commits: pr.commits.clone(),
        has_merge_in_branch: false,
        max_file_bytes: 1 << 20,
    };
    let outcome = synthesize(&Replay {
        repo: &pr.repo,
        pr: &input,
        seed: 7,
        variant: 0,
        family,
        cache: None,
    });
    outcome
        .trajectory
        .map_err(|d| format!("{}: {}", d.reason, d.detail))
}

const PARSER: &[u8] =
    b"def parse_units(text):\n    return text.split()\n\n\ndef other():\n    return 1\n";
const PARSER_FIXED: &[u8] =
    b"def parse_units(text):\n    return text.strip().split()\n\n\ndef other():\n    return 1\n";

#[test]
fn a_binary_file_holding_the_search_word_is_a_hit_like_any_other() {
    let pr = build(
        &[
            ("src/parser.py", PARSER),
            ("docs/logo.png", b"\x89PNG\x00\x00parse_units\x00"),
        ],
        &[("src/parser.py", Some(PARSER_FIXED))],
        "Strip before splitting",
    );
    let trajectory = run(
        &pr,
        "`parse_units` keeps leading spaces",
        ToolFamily::SweAgent,
    )
    .expect("a trajectory");
    let search = &trajectory.steps[0];
    assert!(
        search
            .observation
            .contains("grep: ./docs/logo.png: binary file matches"),
        "{}",
        search.observation
    );
}

#[test]
fn a_file_in_a_new_directory_is_made_with_mkdir_first() {
    let pr = build(
        &[("src/parser.py", PARSER)],
        &[
            ("src/parser.py", Some(PARSER_FIXED)),
            (
                "tests/unit/test_parser.py",
                Some(b"from src.parser import parse_units\n\n\ndef test_strip():\n    assert parse_units(' a') == ['a']\n"),
            ),
        ],
        "Strip before splitting, with a test",
    );
    let problem = "`parse_units` keeps leading spaces";
    let trajectory = run(&pr, problem, ToolFamily::SweAgent).expect("a trajectory");
    let commands: Vec<String> = trajectory
        .steps
        .iter()
        .filter_map(|s| s.action.argument("command").map(str::to_string))
        .collect();
    let mkdir = commands
        .iter()
        .position(|c| c == "mkdir -p /testbed/tests/unit")
        .expect("mkdir step");
    let create = commands
        .iter()
        .position(|c| c == "create")
        .expect("create step");
    assert!(mkdir < create, "{commands:?}");
    // The kimi_dev tools have no shell: the PR is dropped with a reason that says why.
    let err = run(&pr, problem, ToolFamily::KimiDev).expect_err("no directory tool");
    assert!(err.starts_with("new_directory: "), "{err}");
}

#[test]
fn edits_next_to_marker_lookalike_lines_replay() {
    let before = b"Options\n=======\n\nUse `parse_units`:\n\n```\nparse_units('a b')\n```\n\nOptions\n-------\n";
    let after = b".. _options:\n\nOptions\n=======\n\nUse `parse_units`:\n\n```\nparse_units(' a b')\n```\n\nOptions\n-------\n";
    let pr = build(
        &[("src/parser.py", PARSER), ("docs/options.rst", before)],
        &[
            ("src/parser.py", Some(PARSER_FIXED)),
            ("docs/options.rst", Some(after)),
        ],
        "Strip before splitting; document it",
    );
    run(
        &pr,
        "`parse_units` keeps leading spaces",
        ToolFamily::SweAgent,
    )
    .expect("a trajectory");
}
