//! Extraction of one repository: PRs and main-line commits from history, as rows of
//! `patches`, `commit_packs`, `blobs` and `drops`. Work is parallel across the commits of
//! the repository (rayon) and streamed in chunks, so memory does not grow with its size.

use corpus_core::drop_reason::DropReason;
use corpus_core::identity::Origin;
use corpus_core::identity::PatchKind;
use std::collections::HashSet;

use git2::{Commit, Oid, Repository};
use rayon::prelude::*;

use corpus_core::benchmark::BenchmarkRepos;
use corpus_core::recipe::ExtractOptions;
use corpus_core::rows::{BlobRow, CommitPackRow, DropRow, PackCommit, PatchRow, RepoRow};

use crate::diff::{TreeDiff, diff_trees, tree_files};
use crate::error::{GitError, Result};
use crate::history::{MainLineEntry, RangeWalker, WalkOptions, walk_history};
use crate::open::{OpenRepo, RepoSpec, open, root_commits};

const STAGE: &str = "extract";

/// Rows produced for a slice of a repository's history.
#[derive(Debug, Default)]
pub struct ExtractChunk {
    pub patches: Vec<PatchRow>,
    pub packs: Vec<CommitPackRow>,
    pub blobs: Vec<BlobRow>,
    pub drops: Vec<DropRow>,
}

/// A merged PR as the crawl saw it (table `pulls`). A PR known here takes its boundaries
/// from it (docs/conventions.md): base = merge-base(base sha, head sha), head = head sha, commits =
/// `base sha..head sha`; history supplies the PRs the crawl lacks, and a PR whose objects the
/// mirror lacks keeps history's boundaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownPull {
    pub number: i64,
    pub base_sha: String,
    pub head_sha: String,
    pub merge_sha: Option<String>,
}

/// Known PRs by number, and the numbers by the main-line commit that merged them (a rebase
/// or squash merge whose subject carries no "(#N)").
#[derive(Debug, Clone, Default)]
pub struct KnownPulls {
    by_number: std::collections::HashMap<i64, KnownPull>,
    by_merge: std::collections::HashMap<Oid, i64>,
}

impl KnownPulls {
    pub fn new(pulls: impl IntoIterator<Item = KnownPull>) -> Self {
        let mut known = Self::default();
        for pull in pulls {
            if let Some(merge) = pull
                .merge_sha
                .as_deref()
                .and_then(|m| Oid::from_str(m).ok())
            {
                known.by_merge.insert(merge, pull.number);
            }
            known.by_number.insert(pull.number, pull);
        }
        known
    }

    pub fn len(&self) -> usize {
        self.by_number.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_number.is_empty()
    }
}

/// How many main-line entries are diffed between two writes (bounds memory).
const CHUNK_ENTRIES: usize = 64;

/// PRs the history walk found, for the run report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrsFound {
    /// `prs_ROUTE_KIND` (route `first_parent` or `merged_branch`; kind `merge_pr`,
    /// `titled_merge_pr` or `squash_pr`) to the number of PRs.
    pub by_route: std::collections::BTreeMap<String, u64>,
    /// PR numbers met again after their earliest merge.
    pub repeated: u64,
}

/// A repository's `repos` row and what its history held.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub row: RepoRow,
    pub found: PrsFound,
}

/// Extract one repository named `name`. Benchmark repositories are skipped before any work
/// except computing their root commits (cheap; decontamination uses them).
pub fn extract_repo(
    spec: &RepoSpec,
    name: &str,
    options: &ExtractOptions,
    benchmark: &BenchmarkRepos,
    known: &KnownPulls,
    mut emit: impl FnMut(ExtractChunk) -> Result<()>,
) -> Result<Extracted> {
    // Like `git log`, read objects without re-hashing each one (a third of the time otherwise);
    // a damaged object still fails to inflate or parse and is reported.
    git2::opts::strict_hash_verification(false);
    let (opened, roots) = fingerprint(spec, name)?;
    let mut row = RepoRow {
        repo: name.to_string(),
        path: Some(spec.path.display().to_string()),
        default_branch: Some(opened.branch.clone()),
        head_sha: Some(opened.head.to_string()),
        root_commits: roots,
        origin: Origin::Local.code().into(),
        ..Default::default()
    };
    if let Some(matched) = benchmark.matches(name, []) {
        row.skipped_reason = Some("swe_bench_repo".into());
        emit(ExtractChunk {
            drops: vec![
                DropRow::new(STAGE, DropReason::SweBenchRepo)
                    .repo(name)
                    .detail(format!("benchmark repository {matched}, skipped by name")),
            ],
            ..Default::default()
        })?;
        return Ok(Extracted {
            row,
            found: PrsFound::default(),
        });
    }

    let walk = WalkOptions {
        limit: options.max_history,
        first_parent_only: options.first_parent_only,
        known_merges: known.by_merge.clone(),
    };
    let history = walk_history(&opened.repo, opened.head, &walk, name)?;
    let mut found = PrsFound::default();
    for e in &history.entries {
        if let (Some(_), Some(kind)) = (e.entry.pr_number(), e.entry.kind()) {
            *found
                .by_route
                .entry(format!("prs_{}_{kind}", e.route.as_str()))
                .or_default() += 1;
        }
    }
    found.repeated = history.repeated.len() as u64;
    if found.by_route.is_empty() {
        tracing::warn!(
            "{name}: no pull requests found in history (no \"Merge pull request #N\" merges or \"(#N)\" merges or squash commits reachable from {}); only main-line commits are extracted",
            opened.branch
        );
    }
    emit(ExtractChunk {
        drops: history
            .repeated
            .iter()
            .map(|r| {
                DropRow::new(STAGE, DropReason::RepeatedPrNumber)
                    .repo(name)
                    .pr(Some(r.number))
                    .detail(format!(
                        "commit {}: PR #{} again; its earliest merge {} is kept",
                        r.commit, r.number, r.kept
                    ))
            })
            .collect(),
        ..Default::default()
    })?;
    let mut entries: Vec<MainLineEntry> = history.entries.into_iter().map(|e| e.entry).collect();
    entries.reverse(); // oldest first on each chain, merged-in branches first
    let mut seen_blobs: HashSet<Oid> = HashSet::new();
    let path = opened.path.clone();
    let mut ranges = RangeWalker::new(&opened.repo, name)?;
    for chunk in entries.chunks(CHUNK_ENTRIES) {
        let bounds: Vec<Result<Option<Boundaries>>> = chunk
            .iter()
            .map(|entry| match entry {
                MainLineEntry::Commit { .. } if !options.main_line_commits => Ok(None),
                _ => boundaries(&mut ranges, &opened.repo, entry, name, known),
            })
            .collect();
        let outputs: Vec<Result<ExtractChunk>> = chunk
            .par_iter()
            .zip(bounds)
            .map(|(entry, bounds)| {
                with_thread_repo(&path, name, |repo| {
                    extract_entry(repo, entry, bounds, name, options)
                })
            })
            .collect();
        let mut merged = ExtractChunk::default();
        for (entry, output) in chunk.iter().zip(outputs) {
            let output = match output {
                Ok(output) => output,
                // A corrupt object costs the PR that needs it, not the repository.
                Err(GitError::Corrupt { message, .. }) => {
                    tracing::error!(
                        "{name}: commit {}: corrupt or missing object: {message}",
                        entry.commit()
                    );
                    let mut skipped = ExtractChunk::default();
                    skipped.drops.push(
                        DropRow::new(STAGE, DropReason::CorruptObject)
                            .repo(name)
                            .pr(entry.pr_number())
                            .detail(format!("commit {}: {message}", entry.commit())),
                    );
                    skipped
                }
                Err(e) => return Err(e),
            };
            merged.patches.extend(output.patches);
            merged.packs.extend(output.packs);
            merged.drops.extend(output.drops);
            for blob in output.blobs {
                let id = Oid::from_str(&blob.blob_id).map_err(|e| GitError::from_git(name, e))?;
                if seen_blobs.insert(id) {
                    merged.blobs.push(blob);
                }
            }
        }
        emit(merged)?;
    }
    drop(ranges);
    drop(opened);
    Ok(Extracted { row, found })
}

thread_local! {
    /// Each worker thread keeps its repository open between entries: opening one costs file
    /// system lookups that would otherwise be paid per PR.
    static THREAD_REPO: std::cell::RefCell<Option<(std::path::PathBuf, Repository)>> =
        const { std::cell::RefCell::new(None) };
}

fn with_thread_repo<T>(
    path: &std::path::Path,
    name: &str,
    f: impl FnOnce(&Repository) -> Result<T>,
) -> Result<T> {
    THREAD_REPO.with(|cell| {
        let mut slot = cell.borrow_mut();
        let stale = slot.as_ref().is_none_or(|(p, _)| p != path);
        if stale {
            let repo = Repository::open(path).map_err(|e| GitError::Other {
                repo: name.to_string(),
                message: e.message().to_string(),
            })?;
            *slot = Some((path.to_path_buf(), repo));
        }
        match slot.as_ref() {
            Some((_, repo)) => f(repo),
            None => Err(GitError::Other {
                repo: name.to_string(),
                message: "repository slot empty".into(),
            }),
        }
    })
}

fn git_err(name: &str) -> impl Fn(git2::Error) -> GitError + '_ {
    move |e| GitError::from_git(name, e)
}

/// Title and body of a commit message for a patch of `kind`.
pub fn title_and_body(kind: PatchKind, message: &str) -> (String, String) {
    let message = message.trim_end();
    let (subject, rest) = message.split_once('\n').unwrap_or((message, ""));
    let rest = rest.trim_start_matches(['\n', '\r']);
    match kind {
        PatchKind::MergePr => {
            // GitHub writes the PR title as the first line after the subject.
            let (title, body) = rest.split_once('\n').unwrap_or((rest, ""));
            (title.trim().to_string(), body.trim().to_string())
        }
        PatchKind::SquashPr | PatchKind::TitledMergePr => {
            let title = match subject.rfind("(#") {
                Some(i) => subject[..i].trim_end(),
                None => subject,
            };
            (title.to_string(), rest.trim().to_string())
        }
        _ => (subject.trim().to_string(), rest.trim().to_string()),
    }
}

fn is_bot(options: &ExtractOptions, texts: &[&str]) -> Option<String> {
    texts.iter().find_map(|t| {
        let lower = t.to_ascii_lowercase();
        options
            .bot_authors
            .iter()
            .find(|b| lower.contains(&b.to_ascii_lowercase()))
            .map(|b| format!("{t} matches bot pattern {b}"))
    })
}

struct Boundaries {
    kind: PatchKind,
    number: Option<i64>,
    main: Oid,
    base: Oid,
    head: Oid,
    /// The branch's commits (merge PRs) or the single commit.
    commits: Vec<Oid>,
    from: Option<String>,
}

/// Boundaries from the crawl's view of PR `number`, when the mirror has its objects.
fn known_boundaries(
    ranges: &mut RangeWalker,
    repo: &Repository,
    known: &KnownPulls,
    number: i64,
    kind: PatchKind,
    main: Oid,
    name: &str,
) -> Result<Option<Boundaries>> {
    let Some(pull) = known.by_number.get(&number) else {
        return Ok(None);
    };
    let (Ok(base_tip), Ok(head)) = (Oid::from_str(&pull.base_sha), Oid::from_str(&pull.head_sha))
    else {
        return Ok(None);
    };
    if repo.find_commit(base_tip).is_err() || repo.find_commit(head).is_err() {
        tracing::debug!(
            "{name}: PR #{number}: the mirror lacks its crawl shas; history's boundaries kept"
        );
        return Ok(None);
    }
    let Ok(range) = ranges.range(base_tip, head) else {
        return Ok(None);
    };
    Ok(Some(Boundaries {
        kind,
        number: Some(number),
        main,
        base: range.base,
        head,
        commits: range.commits,
        from: None,
    }))
}

/// Where an entry's PR (or commit) starts and ends, and its commits. Computed on one thread
/// through one [`RangeWalker`], ahead of the parallel diffs.
fn boundaries(
    ranges: &mut RangeWalker,
    repo: &Repository,
    entry: &MainLineEntry,
    name: &str,
    known: &KnownPulls,
) -> Result<Option<Boundaries>> {
    let Some(kind) = entry.kind() else {
        return Ok(None);
    };
    if let Some(number) = entry.pr_number()
        && let Some(mut b) =
            known_boundaries(ranges, repo, known, number, kind, entry.commit(), name)?
    {
        if let MainLineEntry::MergePr { from, .. } = entry {
            b.from = from.clone();
        }
        return Ok(Some(b));
    }
    Ok(match entry {
        MainLineEntry::MergePr {
            number,
            merge,
            first_parent,
            head,
            from,
            ..
        } => {
            let range = ranges.range(*first_parent, *head)?;
            Some(Boundaries {
                kind,
                number: Some(*number),
                main: *merge,
                base: range.base,
                head: *head,
                commits: range.commits,
                from: from.clone(),
            })
        }
        MainLineEntry::SquashPr {
            number,
            commit,
            parent,
        } => Some(Boundaries {
            kind,
            number: Some(*number),
            main: *commit,
            base: *parent,
            head: *commit,
            commits: vec![*commit],
            from: None,
        }),
        MainLineEntry::Commit { commit, parent } => Some(Boundaries {
            kind,
            number: None,
            main: *commit,
            base: *parent,
            head: *commit,
            commits: vec![*commit],
            from: None,
        }),
        _ => None,
    })
}

fn extract_entry(
    repo: &Repository,
    entry: &MainLineEntry,
    bounds: Result<Option<Boundaries>>,
    name: &str,
    options: &ExtractOptions,
) -> Result<ExtractChunk> {
    let git = git_err(name);
    let mut out = ExtractChunk::default();
    let sha = entry.commit().to_string();
    match entry {
        MainLineEntry::Root { .. } => {
            out.drops.push(
                DropRow::new(STAGE, DropReason::RootCommit)
                    .repo(name)
                    .detail(format!(
                        "commit {sha}: the first commit has no diff to learn from"
                    )),
            );
            return Ok(out);
        }
        MainLineEntry::OtherMerge { .. } => {
            out.drops.push(
                DropRow::new(STAGE, DropReason::NonPrMerge)
                    .repo(name)
                    .detail(format!(
                        "commit {sha}: a merge that is not a pull request merge"
                    )),
            );
            return Ok(out);
        }
        MainLineEntry::Commit { .. } if !options.main_line_commits => return Ok(out),
        _ => {}
    }
    let Some(b) = bounds? else {
        return Ok(out);
    };
    let main = repo.find_commit(b.main).map_err(&git)?;
    let head = repo.find_commit(b.head).map_err(&git)?;
    let author = head.author();
    let author_name = String::from_utf8_lossy(author.name_bytes()).into_owned();
    let author_email = String::from_utf8_lossy(author.email_bytes()).into_owned();
    let drop = |reason: DropReason| DropRow::new(STAGE, reason).repo(name).pr(b.number);
    let who = format!("{} commit {sha}", b.kind);

    let bot_texts: Vec<&str> = [author_name.as_str(), author_email.as_str()]
        .into_iter()
        .chain(b.from.as_deref())
        .collect();
    if let Some(why) = is_bot(options, &bot_texts) {
        out.drops
            .push(drop(DropReason::BotAuthor).detail(format!("{who}: {why}")));
        return Ok(out);
    }

    let base_tree = repo
        .find_commit(b.base)
        .map_err(&git)?
        .tree()
        .map_err(&git)?;
    let head_tree = head.tree().map_err(&git)?;
    let diff = diff_trees(repo, Some(&base_tree), &head_tree, options, name)?;
    for skipped in &diff.skipped {
        let detail = if skipped.detail.is_empty() {
            who.clone()
        } else {
            format!("{who}: {}", skipped.detail)
        };
        out.drops
            .push(drop(skipped.reason).path(&skipped.path).detail(detail));
    }
    if diff.kept.is_empty() {
        out.drops.push(drop(DropReason::EmptyDiff).detail(format!(
            "{who}: no file left after {} skipped",
            diff.skipped.len()
        )));
        return Ok(out);
    }
    let full = diff.patch();
    if full.len() as u64 > options.max_diff_bytes {
        out.drops
            .push(drop(DropReason::DiffTooLarge).detail(format!(
                "{who}: {} bytes > max_diff_bytes {}",
                full.len(),
                options.max_diff_bytes
            )));
        return Ok(out);
    }

    let message = String::from_utf8_lossy(main.message_bytes()).into_owned();
    let (title, body) = title_and_body(b.kind, &message);
    let merged_at = main.committer().when().seconds();
    let (pack_commits, merges_inside) = if b.kind == PatchKind::Commit {
        (Vec::new(), false)
    } else {
        pack_commits(repo, &b.commits, b.base, &diff, options, name)?
    };
    let n_commits = if b.kind == PatchKind::Commit {
        1
    } else {
        pack_commits.len() as i64
    };

    for file in &diff.kept {
        for (id, text) in [&file.before, &file.after].into_iter().flatten() {
            out.blobs.push(BlobRow {
                repo: name.to_string(),
                blob_id: id.to_string(),
                size: text.len() as i64,
                content: text.clone(),
            });
        }
    }
    out.patches.push(PatchRow {
        repo: name.to_string(),
        pr_number: b.number,
        kind: b.kind.code().to_string(),
        base_sha: b.base.to_string(),
        head_sha: b.head.to_string(),
        merge_sha: sha,
        merged_at,
        title,
        body,
        author: author_name,
        author_email,
        code_diff: diff.patch_where(false),
        test_diff: diff.patch_where(true),
        diff: full,
        files: diff.kept.iter().map(|f| f.change.clone()).collect(),
        base_tree: base_tree.id().to_string(),
        base_files: tree_files(repo, &base_tree, name)?,
        license: license_at(repo, &base_tree),
        n_commits,
        has_merge_in_branch: merges_inside,
        skipped_files: diff.skipped.len() as i64,
    });
    if let Some(number) = b.number {
        out.packs.push(CommitPackRow {
            repo: name.to_string(),
            pr_number: number,
            kind: b.kind.code().to_string(),
            base_sha: b.base.to_string(),
            head_sha: b.head.to_string(),
            merged_at,
            commits: pack_commits,
            has_merge_in_branch: merges_inside,
        });
    }
    Ok(out)
}

/// The PR's commits with their own diffs (against their first parent); merge commits inside
/// the branch are left out and reported by the flag. A commit whose parent is the PR's base
/// and whose tree is the PR's head tree (a squash merge's one commit) has the PR's diff,
/// which is reused rather than computed again.
fn pack_commits(
    repo: &Repository,
    commits: &[Oid],
    base: Oid,
    pr_diff: &TreeDiff,
    options: &ExtractOptions,
    name: &str,
) -> Result<(Vec<PackCommit>, bool)> {
    let git = git_err(name);
    let mut out = Vec::with_capacity(commits.len());
    let mut merges_inside = false;
    let single = commits.len() == 1;
    for oid in commits {
        let commit = repo.find_commit(*oid).map_err(&git)?;
        if commit.parent_count() > 1 {
            merges_inside = true;
            continue;
        }
        let computed;
        let diff = if single && commit.parent_id(0).ok() == Some(base) {
            pr_diff
        } else {
            computed = commit_diff(repo, &commit, options, name)?;
            &computed
        };
        let author = commit.author();
        out.push(PackCommit {
            sha: oid.to_string(),
            author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            authored_at: author.when().seconds(),
            message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
            diff: diff.patch(),
            paths: diff.kept.iter().map(|f| f.change.path.clone()).collect(),
        });
    }
    Ok((out, merges_inside))
}

/// The SPDX id of the licence file at the root of a tree (None: there is none).
fn license_at(repo: &Repository, tree: &git2::Tree) -> Option<String> {
    let entry = crate::license::LICENSE_FILES.iter().find_map(|wanted| {
        tree.iter()
            .find(|e| e.name().is_ok_and(|n| n.eq_ignore_ascii_case(wanted)))
    })?;
    let blob = repo.find_blob(entry.id()).ok()?;
    Some(crate::license::spdx_of(&String::from_utf8_lossy(blob.content())).to_string())
}

fn commit_diff(
    repo: &Repository,
    commit: &Commit,
    options: &ExtractOptions,
    name: &str,
) -> Result<TreeDiff> {
    let git = git_err(name);
    let tree = commit.tree().map_err(&git)?;
    let parent_tree = match commit.parent(0) {
        Ok(parent) => Some(parent.tree().map_err(&git)?),
        Err(_) => None,
    };
    diff_trees(repo, parent_tree.as_ref(), &tree, options, name)
}

/// Opened repository facts without extracting (for `decontam fingerprint`).
pub fn fingerprint(spec: &RepoSpec, name: &str) -> Result<(OpenRepo, Vec<String>)> {
    let opened = open(spec, name)?;
    let roots = root_commits(&opened.repo, opened.head, name)?;
    Ok((opened, roots))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        assert_eq!(
            title_and_body(
                PatchKind::MergePr,
                "Merge pull request #1 from a/b\n\nFix it\n\nMore words\n"
            ),
            ("Fix it".into(), "More words".into())
        );
        assert_eq!(
            title_and_body(PatchKind::SquashPr, "Add clamp (#2)\n\n* one\n* two\n"),
            ("Add clamp".into(), "* one\n* two".into())
        );
        assert_eq!(
            title_and_body(PatchKind::Commit, "Just this"),
            ("Just this".into(), String::new())
        );
    }
}
