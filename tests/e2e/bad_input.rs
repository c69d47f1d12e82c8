//! Bad repositories: each gets one clear message naming it, a counted drop, and the other
//! repositories go on.

use std::path::Path;

use corpus_demo::{Person, RepoBuilder};

use crate::common::{Scratch, git, stderr, text};

const DEV: Person = Person {
    name: "Dev One",
    email: "dev@example.org",
};

/// A small repository with one merge PR, a squash PR and a plain commit (no licence file).
pub(crate) fn good_repo(path: &Path) -> RepoBuilder {
    let mut b = RepoBuilder::create(path, false, 1_700_000_000).expect("create");
    b.commit(
        "main",
        DEV,
        "Start\n",
        &[("pkg/a.py", Some(b"def f():\n    return 1\n"))],
    )
    .expect("root");
    b.branch("fix", "main").expect("branch");
    b.commit(
        "fix",
        DEV,
        "Return 2\n",
        &[("pkg/a.py", Some(b"def f():\n    return 2\n"))],
    )
    .expect("commit");
    b.merge_pr(1, "fix", "dev", "f returns the wrong number", DEV)
        .expect("merge");
    b.branch("more", "main").expect("branch");
    b.commit(
        "more",
        DEV,
        "Add g\n",
        &[(
            "pkg/a.py",
            Some(b"def f():\n    return 2\n\n\ndef g():\n    return 3\n"),
        )],
    )
    .expect("commit");
    b.squash_pr(2, "more", "Add g", "", DEV).expect("squash");
    b.commit("main", DEV, "Tidy\n", &[("README.md", Some(b"# a\n"))])
        .expect("plain");
    b
}

fn build_bad_set(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let good = good_repo(&dir.join("acme+good"));

    // Not a repository at all.
    std::fs::create_dir_all(dir.join("plain+folder")).expect("mkdir");
    std::fs::write(dir.join("plain+folder/notes.txt"), "just a folder\n").expect("write");

    // An empty repository.
    git2::Repository::init_bare(dir.join("acme+empty")).expect("init");

    // A shallow clone.
    let url = format!("file://{}", dir.join("acme+good").display());
    git(
        dir,
        &[
            "clone",
            "-q",
            "--bare",
            "--depth",
            "1",
            &url,
            "acme+shallow",
        ],
    );

    // A detached HEAD with no origin to name the default branch.
    let detached = good_repo(&dir.join("acme+detached"));
    let tip = detached.tip("main").expect("tip");
    detached.repo.set_head_detached(tip).expect("detach");

    // History without any pull request.
    let mut linear =
        RepoBuilder::create(&dir.join("acme+linear"), false, 1_700_000_000).expect("create");
    linear
        .commit("main", DEV, "One\n", &[("x.py", Some(b"x = 1\n"))])
        .expect("c1");
    linear
        .commit("main", DEV, "Two\n", &[("x.py", Some(b"x = 2\n"))])
        .expect("c2");

    // A corrupt repository: the blob one PR needs is gone.
    let corrupt = good_repo(&dir.join("acme+corrupt"));
    let merge = corrupt
        .repo
        .revparse_single("main~2")
        .expect("merge commit")
        .id();
    let head = corrupt
        .repo
        .find_commit(merge)
        .expect("commit")
        .parent_id(1)
        .expect("p2");
    let tree = corrupt
        .repo
        .find_commit(head)
        .expect("head")
        .tree()
        .expect("tree");
    let blob = tree.get_path(Path::new("pkg/a.py")).expect("entry").id();
    let hex = blob.to_string();
    let object = dir
        .join("acme+corrupt/objects")
        .join(&hex[..2])
        .join(&hex[2..]);
    std::fs::remove_file(&object).expect("remove object");

    // A folder whose name says nothing about the repository.
    good_repo(&dir.join("noname"));
    drop(good);
}

#[test]
fn bad_repositories_are_reported_and_the_rest_goes_on() {
    let s = Scratch::new();
    let repos = s.path().join("repos");
    build_bad_set(&repos);
    std::fs::write(
        s.path().join("bad.toml"),
        "name = \"bad\"\n[inputs]\nrepo_dirs = [\"repos\"]\n",
    )
    .expect("recipe");
    let out = s.run(&["run", "--recipe", "bad.toml"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    for needle in [
        "plain+folder: not a git repository",
        "acme/empty: empty repository",
        "acme/shallow: shallow clone",
        "acme/detached: HEAD is detached",
        "acme/corrupt: commit",
        "acme/linear: no pull requests found",
        "noname: cannot tell the repository's name",
    ] {
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
    }
    let drops = s.query("runs/bad", "select reason, repo, path from drops");
    let reasons: Vec<String> = drops.iter().map(|d| text(d, "reason")).collect();
    for reason in [
        "not_a_repository",
        "empty_repository",
        "shallow_clone",
        "detached_head",
        "corrupt_object",
        "no_repository_name",
    ] {
        assert!(
            reasons.iter().any(|r| r == reason),
            "no drop `{reason}` in {reasons:?}"
        );
    }
    // The good repository, the linear one and what the corrupt one still had all made it.
    let kept = s.query(
        "runs/bad",
        "select repo, kind, count(*) as n from patches group by repo, kind order by repo, kind",
    );
    let count = |repo: &str, kind: &str| {
        kept.iter()
            .find(|r| text(r, "repo") == repo && text(r, "kind") == kind)
            .and_then(|r| r["n"].as_i64())
            .unwrap_or(0)
    };
    assert_eq!(count("acme/good", "merge_pr"), 1);
    assert_eq!(count("acme/good", "squash_pr"), 1);
    assert_eq!(count("acme/good", "commit"), 1);
    assert_eq!(count("acme/linear", "commit"), 1, "the root is not a diff");
    // The lost blob is needed by the merge PR and the squash PR after it; the last commit
    // does not touch that file and survives.
    assert_eq!(count("acme/corrupt", "merge_pr"), 0, "its blob is gone");
    assert_eq!(
        count("acme/corrupt", "squash_pr"),
        0,
        "its base holds the lost blob"
    );
    assert_eq!(count("acme/corrupt", "commit"), 1);
}

#[test]
fn a_named_branch_rescues_a_detached_head() {
    let s = Scratch::new();
    let dir = s.path().join("r");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let b = good_repo(&dir.join("acme+detached"));
    let tip = b.tip("main").expect("tip");
    b.repo.set_head_detached(tip).expect("detach");
    std::fs::write(
        s.path().join("named.toml"),
        "name = \"named\"\n[inputs]\nrepos = [{ path = \"r/acme+detached\", name = \"Acme/Detached\", branch = \"main\" }]\n",
    )
    .expect("recipe");
    s.ok(&["run", "--recipe", "named.toml"]);
    let rows = s.query("runs/named", "select distinct repo from patches");
    assert_eq!(text(&rows[0], "repo"), "acme/detached");
}

#[test]
fn adding_a_bad_repository_loses_nothing_already_extracted() {
    let s = Scratch::new();
    let repos = s.path().join("repos");
    std::fs::create_dir_all(&repos).expect("mkdir");
    good_repo(&repos.join("acme+good"));
    std::fs::write(
        s.path().join("r.toml"),
        "name = \"r\"\n[inputs]\nrepo_dirs = [\"repos\"]\n",
    )
    .expect("recipe");
    s.ok(&["run", "--recipe", "r.toml"]);
    let before = s.query(
        "runs/r",
        "select merge_sha, diff from patches order by merge_sha",
    );
    git2::Repository::init_bare(repos.join("acme+empty")).expect("init");
    s.ok(&["run", "--recipe", "r.toml"]);
    let after = s.query(
        "runs/r",
        "select merge_sha, diff from patches order by merge_sha",
    );
    assert_eq!(before, after);
}

#[test]
fn two_repositories_with_one_name_are_a_clear_error() {
    let s = Scratch::new();
    let repos = s.path().join("repos");
    std::fs::create_dir_all(&repos).expect("mkdir");
    good_repo(&repos.join("acme+good"));
    good_repo(&repos.join("acme__good"));
    std::fs::write(
        s.path().join("r.toml"),
        "name = \"r\"\n[inputs]\nrepo_dirs = [\"repos\"]\n",
    )
    .expect("recipe");
    let out = s.run(&["run", "--recipe", "r.toml"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a usage error: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("both named acme/good"),
        "{}",
        stderr(&out)
    );
}
