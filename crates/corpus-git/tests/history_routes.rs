//! Every PR a history names: classic merges ("Merge pull request #N from …"), merges titled
//! like squash commits ("Title (#N)", two parents), squash commits, and the PRs of branches
//! merged into the default branch (a maintenance branch merged directly, and one merged
//! through a PR), each PR number once, keeping its earliest merge.

use std::collections::BTreeMap;
use std::process::Command;

use corpus_core::benchmark::BenchmarkRepos;
use corpus_core::recipe::ExtractOptions;
use corpus_core::rows::{CommitPackRow, DropRow, PatchRow};
use corpus_demo::{Person, RepoBuilder};
use corpus_git::extract::{Extracted, KnownPulls, extract_repo};
use corpus_git::open::RepoSpec;

const DEV: Person = Person {
    name: "Dev One",
    email: "dev@example.org",
};

struct Built {
    _dir: tempfile::TempDir,
    spec: RepoSpec,
}

fn file(n: u32) -> Vec<u8> {
    format!("def f{n}():\n    return {n}\n").into_bytes()
}

/// main: root, PR #1 (classic merge), PR #2 (titled merge), PR #3 (squash); `stable`, cut
/// after #1: squash #4, classic merge #5, a cherry-pick of #3 keeping its subject, merged
/// into main by "Merge branch 'stable'"; `2.x`: squash #6, merged into main by the titled PR
/// "Merge 2.x into main (#7)".
fn build() -> Built {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("acme+routes");
    let mut b = RepoBuilder::create(&path, false, 1_700_000_000).expect("repo");
    b.commit(
        "main",
        DEV,
        "Initial commit",
        &[("lib.py", Some(b"x = 0\n"))],
    )
    .expect("root");
    b.branch("one", "main").expect("branch");
    b.commit("one", DEV, "Add f1", &[("one.py", Some(&file(1)))])
        .expect("c1");
    b.commit("one", DEV, "Test f1", &[("test_one.py", Some(&file(11)))])
        .expect("c1b");
    b.merge_pr(1, "one", "dev", "Add f1", DEV).expect("#1");
    b.branch("stable", "main").expect("stable");
    b.branch("two", "main").expect("branch");
    b.commit("two", DEV, "Add f2", &[("two.py", Some(&file(2)))])
        .expect("c2");
    b.merge("main", "two", DEV, "Add f2 everywhere (#2)\n\nThe body.\n")
        .expect("#2");
    b.branch("three", "main").expect("branch");
    b.commit("three", DEV, "Add f3", &[("three.py", Some(&file(3)))])
        .expect("c3");
    b.squash_pr(3, "three", "Add f3", "squashed", DEV)
        .expect("#3");
    b.commit(
        "stable",
        DEV,
        "Fix four (#4)",
        &[("four.py", Some(&file(4)))],
    )
    .expect("#4");
    b.branch("five", "stable").expect("branch");
    b.commit("five", DEV, "Add f5", &[("five.py", Some(&file(5)))])
        .expect("c5");
    b.merge(
        "stable",
        "five",
        DEV,
        "Merge pull request #5 from dev/five\n\nAdd f5\n",
    )
    .expect("#5");
    b.commit(
        "stable",
        DEV,
        "Add f3 (#3)",
        &[("three.py", Some(&file(3)))],
    )
    .expect("cherry-pick of #3");
    b.merge("main", "stable", DEV, "Merge branch 'stable'")
        .expect("stable into main");
    b.branch("2.x", "main").expect("2.x");
    b.commit("2.x", DEV, "Fix six (#6)", &[("six.py", Some(&file(6)))])
        .expect("#6");
    b.commit(
        "main",
        DEV,
        "Direct commit",
        &[("lib.py", Some(b"x = 1\n"))],
    )
    .expect("main-line commit");
    b.merge("main", "2.x", DEV, "Merge 2.x into main (#7)")
        .expect("#7");
    Built {
        _dir: dir,
        spec: RepoSpec {
            path,
            name: None,
            branch: None,
        },
    }
}

struct Rows {
    extracted: Extracted,
    patches: BTreeMap<i64, PatchRow>,
    packs: BTreeMap<i64, CommitPackRow>,
    /// Main-line commits (no PR number).
    commits: Vec<PatchRow>,
    drops: Vec<DropRow>,
}

fn extract(built: &Built, options: &ExtractOptions) -> Rows {
    let (mut patches, mut packs, mut drops) = (BTreeMap::new(), BTreeMap::new(), Vec::new());
    let mut commits = Vec::new();
    let extracted = extract_repo(
        &built.spec,
        "acme/routes",
        options,
        &BenchmarkRepos::from_options(&Default::default()),
        &KnownPulls::default(),
        |chunk| {
            for p in chunk.patches {
                match p.pr_number {
                    Some(n) => assert!(patches.insert(n, p).is_none(), "PR #{n} written twice"),
                    None => commits.push(p),
                }
            }
            for p in chunk.packs {
                packs.insert(p.pr_number, p);
            }
            drops.extend(chunk.drops);
            Ok(())
        },
    )
    .expect("extract");
    Rows {
        extracted,
        patches,
        packs,
        commits,
        drops,
    }
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn every_form_and_route_is_found_once() {
    let built = build();
    let rows = extract(&built, &ExtractOptions::default());
    let kinds: BTreeMap<i64, &str> = rows
        .patches
        .iter()
        .map(|(n, p)| (*n, p.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        BTreeMap::from([
            (1, "merge_pr"),
            (2, "titled_merge_pr"),
            (3, "squash_pr"),
            (4, "squash_pr"),
            (5, "merge_pr"),
            (6, "squash_pr"),
            (7, "titled_merge_pr"),
        ])
    );
    let found = &rows.extracted.found;
    assert_eq!(
        found.by_route,
        BTreeMap::from([
            ("prs_first_parent_merge_pr".to_string(), 1),
            ("prs_first_parent_titled_merge_pr".to_string(), 2),
            ("prs_first_parent_squash_pr".to_string(), 1),
            ("prs_merged_branch_merge_pr".to_string(), 1),
            ("prs_merged_branch_squash_pr".to_string(), 2),
        ])
    );
    // The cherry-pick of #3 onto stable came later: the squash on main is kept.
    assert_eq!(found.repeated, 1);
    let repeated: Vec<&DropRow> = rows
        .drops
        .iter()
        .filter(|d| d.reason == "repeated_pr_number")
        .collect();
    assert_eq!(repeated.len(), 1);
    assert_eq!(repeated[0].pr_number, Some(3));
    let main3 = git(
        &built.spec.path,
        &[
            "log",
            "-1",
            "--format=%H",
            "--grep=(#3)",
            "main",
            "--first-parent",
        ],
    );
    assert_eq!(rows.patches[&3].merge_sha, main3.trim());

    // A titled merge is a merge PR: base = merge-base(P1, P2), head = P2, its diff is git's.
    let titled = &rows.patches[&2];
    let p1 = git(
        &built.spec.path,
        &["rev-parse", &format!("{}^1", titled.merge_sha)],
    );
    let p2 = git(
        &built.spec.path,
        &["rev-parse", &format!("{}^2", titled.merge_sha)],
    );
    let base = git(&built.spec.path, &["merge-base", p1.trim(), p2.trim()]);
    assert_eq!(titled.base_sha, base.trim());
    assert_eq!(titled.head_sha, p2.trim());
    assert_eq!(titled.title, "Add f2 everywhere");
    assert_eq!(titled.body, "The body.");
    let diff = git(
        &built.spec.path,
        &["diff", "--no-renames", base.trim(), p2.trim()],
    );
    assert_eq!(titled.diff, diff);
    let pack: Vec<&str> = rows.packs[&2]
        .commits
        .iter()
        .map(|c| c.message.as_str())
        .collect();
    assert_eq!(pack, ["Add f2"]);

    // The PR that merged 2.x: its commits are the branch's.
    let seven: Vec<&str> = rows.packs[&7]
        .commits
        .iter()
        .map(|c| c.message.as_str())
        .collect();
    assert_eq!(seven, ["Fix six (#6)"]);
    // Plain commits of merged-in branches are not main-line commits; the main line's are.
    let titles: Vec<&str> = rows.commits.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["Direct commit"]);
    let non_pr: Vec<&DropRow> = rows
        .drops
        .iter()
        .filter(|d| d.reason == "non_pr_merge")
        .collect();
    assert_eq!(non_pr.len(), 1, "Merge branch 'stable' is reported once");
}

#[test]
fn first_parent_only_limits_the_walk() {
    let built = build();
    let options = ExtractOptions {
        first_parent_only: true,
        ..Default::default()
    };
    let rows = extract(&built, &options);
    let numbers: Vec<i64> = rows.patches.keys().copied().collect();
    assert_eq!(numbers, [1, 2, 3, 7]);
    assert_eq!(rows.extracted.found.repeated, 0);
}
