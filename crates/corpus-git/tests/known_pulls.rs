//! PR boundaries from the crawl's `pulls` (docs/conventions.md): a squash merge whose subject has no
//! "(#N)" is still that PR when the crawl names its merge commit, and its commits are the
//! branch's own (reachable through `refs/pull/N/head`), not the squash commit.

use corpus_core::benchmark::BenchmarkRepos;
use corpus_core::recipe::ExtractOptions;
use corpus_core::rows::PatchRow;
use corpus_demo::{Person, RepoBuilder};
use corpus_git::extract::{KnownPull, KnownPulls, extract_repo};
use corpus_git::open::RepoSpec;

const DEV: Person = Person {
    name: "Dev One",
    email: "dev@example.org",
};

fn patches(
    spec: &RepoSpec,
    known: &KnownPulls,
) -> (Vec<PatchRow>, Vec<corpus_core::rows::CommitPackRow>) {
    let mut patches = Vec::new();
    let mut packs = Vec::new();
    extract_repo(
        spec,
        "acme/squashy",
        &ExtractOptions::default(),
        &BenchmarkRepos::from_options(&Default::default()),
        known,
        |chunk| {
            patches.extend(chunk.patches);
            packs.extend(chunk.packs);
            Ok(())
        },
    )
    .expect("extract");
    (patches, packs)
}

#[test]
fn the_crawl_names_a_squash_merge_and_its_branch_commits() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("acme+squashy");
    let mut b = RepoBuilder::create(&path, false, 1_700_000_000).expect("repo");
    b.commit(
        "main",
        DEV,
        "Initial commit",
        &[("lib.py", Some(b"def f():\n    return 1\n"))],
    )
    .expect("c0");
    b.branch("fix", "main").expect("branch");
    b.commit(
        "fix",
        DEV,
        "Return two",
        &[("lib.py", Some(b"def f():\n    return 2\n"))],
    )
    .expect("c1");
    let tip = b
        .commit(
            "fix",
            DEV,
            "Test it",
            &[("test_lib.py", Some(b"def test_f():\n    assert f() == 2\n"))],
        )
        .expect("c2");
    let base_tip = b.tip("main").expect("main");
    // Squash-merged with a title that carries no PR number; the branch is deleted, and only
    // GitHub's refs/pull/7/head keeps its commits.
    let squash = b
        .squash_pr(7, "fix", "Make f return two", "", DEV)
        .expect("squash");
    let unnumbered = {
        let tree = b.repo.find_commit(squash).expect("squash").tree_id();
        let parent = b.repo.find_commit(base_tip).expect("base");
        let time = git2::Time::new(1_700_000_900, 0);
        let sig = git2::Signature::new("Dev One", "dev@example.org", &time).expect("sig");
        let tree = b.repo.find_tree(tree).expect("tree");
        b.repo
            .commit(None, &sig, &sig, "Make f return two\n", &tree, &[&parent])
            .expect("commit")
    };
    b.repo
        .reference(
            "refs/heads/main",
            unnumbered,
            true,
            "squash without a number",
        )
        .expect("main");
    b.repo
        .reference("refs/pull/7/head", tip, true, "GitHub's PR ref")
        .expect("pull ref");
    b.delete_branch("fix").expect("delete");
    let spec = RepoSpec {
        path: path.clone(),
        name: Some("acme/squashy".into()),
        branch: None,
    };

    // History alone sees a plain commit.
    let (alone, packs) = patches(&spec, &KnownPulls::default());
    let last = alone.last().expect("a patch");
    assert_eq!((last.kind.as_str(), last.pr_number), ("commit", None));
    assert!(packs.is_empty());

    // With the crawl's row, it is PR #7, diffed from the merge base to the branch tip, with
    // the branch's two commits in its pack.
    let known = KnownPulls::new([KnownPull {
        number: 7,
        base_sha: base_tip.to_string(),
        head_sha: tip.to_string(),
        merge_sha: Some(unnumbered.to_string()),
    }]);
    let (with_pulls, packs) = patches(&spec, &known);
    let pr = with_pulls
        .iter()
        .find(|p| p.pr_number == Some(7))
        .expect("PR 7");
    assert_eq!(pr.kind, "squash_pr");
    assert_eq!(pr.head_sha, tip.to_string());
    assert_eq!(pr.base_sha, base_tip.to_string());
    assert_eq!(pr.merge_sha, unnumbered.to_string());
    assert!(
        pr.diff.contains("+    return 2") && pr.diff.contains("test_lib.py"),
        "{}",
        pr.diff
    );
    let pack = packs.iter().find(|p| p.pr_number == 7).expect("pack");
    let messages: Vec<&str> = pack.commits.iter().map(|c| c.message.trim()).collect();
    assert_eq!(messages, vec!["Return two", "Test it"]);
    // The crawl reads the same range's messages for closing keywords.
    let texts = corpus_git::history::pr_commit_messages(
        &path,
        &[
            (7, base_tip.to_string(), tip.to_string()),
            (8, "3".repeat(40), tip.to_string()),
        ],
    )
    .expect("messages");
    assert_eq!(
        texts.get(&7).map(String::as_str),
        Some("Return two\nTest it\n")
    );
    assert!(
        !texts.contains_key(&8),
        "a range the mirror lacks gives nothing"
    );

    // A PR whose shas the mirror lacks keeps history's boundaries.
    let unknown = KnownPulls::new([KnownPull {
        number: 7,
        base_sha: "1".repeat(40),
        head_sha: "2".repeat(40),
        merge_sha: Some(unnumbered.to_string()),
    }]);
    let (fallback, _) = patches(&spec, &unknown);
    let pr = fallback
        .iter()
        .find(|p| p.pr_number == Some(7))
        .expect("PR 7");
    assert_eq!(pr.head_sha, unnumbered.to_string());
}
