//! Row structs of the tables, grouped by the stages that write them, and their Arrow batches.
//! Each struct is declared once with [`table_rows!`](crate::table_rows): its fields are the
//! columns; the table's schema ([`crate::schema`]) gives their order and Arrow types, and
//! building a batch against it checks that the two agree.

use crate::identity::Origin;
use crate::schema::names;

pub mod codec;

// ---- `repos`: one row per repository, written by `crawl` and `extract`. --------------------

crate::table_rows! {
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct RepoRow (table names::REPOS) {
        pub repo: String,
        pub path: Option<String>,
        pub default_branch: Option<String>,
        pub head_sha: Option<String>,
        pub root_commits: Vec<String>,
        pub aliases: Vec<String>,
        pub fork_parent: Option<String>,
        pub stars: Option<i64>,
        pub license: Option<String>,
        pub archived: Option<bool>,
        /// `local` (extract found it on disk) or `crawl`.
        pub origin: String,
        /// Why the repository was not extracted (for example `swe_bench_repo`).
        pub skipped_reason: Option<String>,
    }
}

impl RepoRow {
    /// Fold in another row of the same repository (`crawl` and `extract` each write one):
    /// the local row's git facts (path, branch, head, roots) win, the API's metadata fills
    /// what the local row lacks, aliases are united, and a skip from either side stays.
    pub fn merge(&mut self, other: RepoRow) {
        let (mut local, api) =
            if other.origin == Origin::Local.code() && self.origin != Origin::Local.code() {
                (other, std::mem::take(self))
            } else {
                (std::mem::take(self), other)
            };
        local.path = local.path.or(api.path);
        local.default_branch = local.default_branch.or(api.default_branch);
        local.head_sha = local.head_sha.or(api.head_sha);
        if local.root_commits.is_empty() {
            local.root_commits = api.root_commits;
        }
        local.fork_parent = local.fork_parent.or(api.fork_parent);
        local.stars = local.stars.or(api.stars);
        local.license = local.license.or(api.license);
        local.archived = local.archived.or(api.archived);
        local.skipped_reason = local.skipped_reason.or(api.skipped_reason);
        for alias in api.aliases {
            if !local.aliases.contains(&alias) {
                local.aliases.push(alias);
            }
        }
        local.aliases.sort();
        *self = local;
    }
}

// ---- `pulls`: merged pull requests as the GitHub API describes them, written by `crawl`. ---

crate::table_rows! {
    /// An issue a pull request closes, with its discussion.
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct LinkedIssue (item) {
        pub number: i64,
        pub title: String,
        pub body: String,
        pub comments: Vec<String>,
    }
}

crate::table_rows! {
    /// A merged pull request as the GitHub API describes it.
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct PullRow (table names::PULLS) {
        pub repo: String,
        pub pr_number: i64,
        pub title: String,
        pub body: String,
        pub author: String,
        pub author_type: String,
        pub merged_at: Option<i64>,
        pub base_ref: String,
        pub base_sha: String,
        pub head_sha: String,
        pub merge_sha: Option<String>,
        pub labels: Vec<String>,
        pub changed_files: Option<i64>,
        pub linked_issues: Vec<LinkedIssue>,
        /// Bodies of the PR's review comments (empty unless the recipe asks for them).
        pub review_comments: Vec<String>,
    }
}

// ---- What `extract` reads from git: `patches`, `commit_packs` and `blobs`. -----------------

crate::table_rows! {
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct FileChange (item) {
        pub path: String,
        pub old_path: Option<String>,
        /// `added`, `deleted`, `modified` or `type_changed`.
        pub change: String,
        pub language: String,
        pub is_test: bool,
        pub additions: i64,
        pub deletions: i64,
        pub before_blob: Option<String>,
        pub after_blob: Option<String>,
    }
}

crate::table_rows! {
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct PatchRow (table names::PATCHES) {
        pub repo: String,
        pub pr_number: Option<i64>,
        /// `merge_pr`, `squash_pr` or `commit`.
        pub kind: String,
        pub base_sha: String,
        pub head_sha: String,
        /// The commit on the main line that brought the change (merge, squash or plain commit).
        pub merge_sha: String,
        pub merged_at: i64,
        pub title: String,
        pub body: String,
        pub author: String,
        pub author_email: String,
        pub diff: String,
        pub code_diff: String,
        pub test_diff: String,
        pub files: Vec<FileChange>,
        pub base_tree: String,
        pub base_files: Vec<String>,
        /// SPDX id of the licence file at base (`NOASSERTION` if unrecognised; None: no file).
        pub license: Option<String>,
        pub n_commits: i64,
        pub has_merge_in_branch: bool,
        pub skipped_files: i64,
    }
}

crate::table_rows! {
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct PackCommit (item) {
        pub sha: String,
        pub author: String,
        pub author_email: String,
        pub authored_at: i64,
        pub message: String,
        pub diff: String,
        pub paths: Vec<String>,
    }
}

crate::table_rows! {
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct CommitPackRow (table names::COMMIT_PACKS) {
        pub repo: String,
        pub pr_number: i64,
        pub kind: String,
        pub base_sha: String,
        pub head_sha: String,
        pub merged_at: i64,
        pub commits: Vec<PackCommit>,
        pub has_merge_in_branch: bool,
    }
}

crate::table_rows! {
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct BlobRow (table names::BLOBS) {
        pub repo: String,
        pub blob_id: String,
        pub size: i64,
        pub content: String,
    }
}

// ---- Samples and what removed them ------------------------------------------------------
// `samples` (and the tables that share its columns), `trajectories`, `drops`, `decontam_report`.

crate::table_rows! {
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct SampleRow (table names::SAMPLES) {
        pub sample_id: String,
        pub sample_kind: String,
        pub source: String,
        pub repo: String,
        pub pr_number: Option<i64>,
        pub base_sha: String,
        pub prompt: String,
        pub response: String,
        pub text: String,
    }
}

impl SampleRow {
    /// A sample from its parts; `text` is their concatenation and `sample_id` its xxh3-128.
    pub fn new(
        kind: crate::identity::SampleKind,
        source: &str,
        repo: &str,
        pr_number: Option<i64>,
        base_sha: &str,
        prompt: String,
        response: String,
    ) -> Self {
        let text = format!("{prompt}{response}");
        Self {
            sample_id: crate::hash::id128(text.as_bytes()),
            sample_kind: kind.code().to_string(),
            source: source.to_string(),
            repo: repo.to_string(),
            pr_number,
            base_sha: base_sha.to_string(),
            prompt,
            response,
            text,
        }
    }
}

crate::table_rows! {
    /// A row of `trajectories`: key columns plus the whole record as JSON.
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct TrajectoryRow (table names::TRAJECTORIES) {
        pub trajectory_id: String,
        pub repo: String,
        pub pr_number: i64,
        pub base_sha: String,
        pub variant: i64,
        pub engine: String,
        pub tool_family: String,
        pub n_steps: i64,
        pub named_files: Vec<String>,
        pub gold_files: Vec<String>,
        pub distractor_files: Vec<String>,
        pub record: String,
    }
}

crate::table_rows! {
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct DropRow (table names::DROPS) {
        pub stage: String,
        pub reason: String,
        pub repo: Option<String>,
        pub pr_number: Option<i64>,
        pub sample_id: Option<String>,
        pub path: Option<String>,
        pub detail: Option<String>,
        pub n_tokens: Option<i64>,
    }
}

impl DropRow {
    pub fn new(stage: &str, reason: crate::drop_reason::DropReason) -> Self {
        Self {
            stage: stage.to_string(),
            reason: reason.code().to_string(),
            ..Default::default()
        }
    }
    pub fn repo(mut self, repo: &str) -> Self {
        self.repo = Some(repo.to_string());
        self
    }
    pub fn pr(mut self, pr_number: Option<i64>) -> Self {
        self.pr_number = pr_number;
        self
    }
    pub fn path(mut self, path: &str) -> Self {
        self.path = Some(path.to_string());
        self
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    pub fn sample(mut self, sample_id: &str) -> Self {
        self.sample_id = Some(sample_id.to_string());
        self
    }
}

crate::table_rows! {
    /// One line of the decontamination report: what one reason removed for one match in one
    /// repository.
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct DecontamReportRow (table names::DECONTAM_REPORT) {
        /// The stage that removed it (`extract` skips by name before any work).
        pub stage: String,
        pub reason: String,
        /// The benchmark repository or instance id.
        pub matched: String,
        pub repo: String,
        pub prs: i64,
        pub samples: i64,
        pub bytes: i64,
        /// Tokens of the removed samples (None when no tokenizer was available).
        pub tokens: Option<i64>,
        pub detail: String,
    }
}

// ---- The token tables ----------------------------------------------------------------------
// `tokenized` (one row per unique curated sample), `mixture` (one per sample and repeat, with
// its shuffle key) and `shards` (the mixture in shuffled order). `tokenized` has no
// `repeat_index` or `shuffle_key`, `shards` no `shuffle_key`: absent, they read as 0.

crate::table_rows! {
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct TokenRow (table names::TOKENIZED) optional [repeat_index, shuffle_key] {
        pub sample_id: String,
        pub sample_kind: String,
        pub source: String,
        pub repo: String,
        pub pr_number: Option<i64>,
        pub license: Option<String>,
        pub text: String,
        pub input_ids: Vec<u32>,
        /// `input_ids.len()`, the closing `<|endoftext|>` included.
        pub n_tokens: i64,
        /// Tokens of the prompt: the loss mask is 0 on them, 1 after.
        pub prompt_tokens: i64,
        /// 0 for the first copy of a sample in the mixture; unused in `tokenized`.
        pub repeat_index: i64,
        /// `train` or `validation`.
        pub split: String,
        /// Position in the global shuffle (mixture only).
        pub shuffle_key: u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_batches() {
        let patch = PatchRow {
            repo: "a/b".into(),
            pr_number: Some(3),
            kind: "merge_pr".into(),
            merged_at: 1_700_000_000,
            files: vec![FileChange {
                path: "x.py".into(),
                change: "modified".into(),
                language: "python".into(),
                before_blob: Some("b1".into()),
                ..Default::default()
            }],
            base_files: vec!["x.py".into()],
            ..Default::default()
        };
        let back =
            PatchRow::from_batch(&PatchRow::batch(std::slice::from_ref(&patch)).expect("batch"))
                .expect("read");
        assert_eq!(back, vec![patch]);
        let pack = CommitPackRow {
            repo: "a/b".into(),
            pr_number: 3,
            commits: vec![PackCommit {
                sha: "s".into(),
                paths: vec!["x.py".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let back = CommitPackRow::from_batch(
            &CommitPackRow::batch(std::slice::from_ref(&pack)).expect("batch"),
        )
        .expect("read");
        assert_eq!(back, vec![pack]);
        let pull = PullRow {
            repo: "a/b".into(),
            pr_number: 7,
            merged_at: Some(1),
            labels: vec!["bug".into()],
            linked_issues: vec![LinkedIssue {
                number: 5,
                title: "t".into(),
                body: "b".into(),
                comments: vec!["c1".into(), "c2".into()],
            }],
            ..Default::default()
        };
        let back =
            PullRow::from_batch(&PullRow::batch(std::slice::from_ref(&pull)).expect("batch"))
                .expect("read");
        assert_eq!(back, vec![pull]);
        let repo = RepoRow {
            repo: "a/b".into(),
            origin: "local".into(),
            stars: Some(3),
            ..Default::default()
        };
        let back =
            RepoRow::from_batch(&RepoRow::batch(std::slice::from_ref(&repo)).expect("batch"))
                .expect("read");
        assert_eq!(back, vec![repo]);
    }

    #[test]
    fn batches_match_their_schemas() {
        let patch = PatchRow {
            repo: "a/b".into(),
            pr_number: Some(3),
            kind: "merge_pr".into(),
            files: vec![FileChange {
                path: "x.py".into(),
                change: "modified".into(),
                language: "python".into(),
                ..Default::default()
            }],
            base_files: vec!["x.py".into(), "y.py".into()],
            ..Default::default()
        };
        let b = PatchRow::batch(&[patch.clone(), patch]).expect("patches");
        assert_eq!(b.num_rows(), 2);
        let pack = CommitPackRow {
            repo: "a/b".into(),
            commits: vec![PackCommit {
                paths: vec!["x.py".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(CommitPackRow::batch(&[pack]).expect("packs").num_rows(), 1);
        let repo = RepoRow {
            repo: "a/b".into(),
            root_commits: vec!["r".into()],
            origin: "local".into(),
            ..Default::default()
        };
        assert_eq!(RepoRow::batch(&[repo]).expect("repos").num_rows(), 1);
        assert_eq!(BlobRow::batch(&[]).expect("blobs").num_rows(), 0);
        let drop = DropRow::new("extract", crate::drop_reason::DropReason::Lockfile)
            .repo("a/b")
            .path("poetry.lock");
        assert_eq!(DropRow::batch(&[drop]).expect("drops").num_rows(), 1);
    }
    #[test]
    fn every_row_struct_builds_its_tables() {
        assert!(TrajectoryRow::batch(&[]).is_ok());
        assert!(DecontamReportRow::batch(&[]).is_ok());
        for table in ["samples", "decontaminated", "curated"] {
            let rows = [SampleRow::new(
                crate::identity::SampleKind::BugfixerEdit,
                "s",
                "a/b",
                Some(1),
                "c",
                "p".into(),
                "r".into(),
            )];
            let back = SampleRow::from_batch(&SampleRow::table_batch(table, &rows).expect("batch"));
            assert_eq!(back.expect("read").as_slice(), rows.as_slice());
        }
    }

    #[test]
    fn a_missing_column_is_an_input_error() {
        let blobs = BlobRow::batch(&[BlobRow::default()]).expect("batch");
        let repos = RepoRow::from_batch(&blobs);
        assert!(matches!(repos, Err(crate::Error::Input(m)) if m.contains("missing")));
    }

    fn row(id: &str, ids: Vec<u32>) -> TokenRow {
        TokenRow {
            sample_id: id.into(),
            sample_kind: "commit".into(),
            source: "commits".into(),
            repo: "a/b".into(),
            pr_number: None,
            license: Some("MIT".into()),
            text: "x".into(),
            n_tokens: ids.len() as i64,
            input_ids: ids,
            prompt_tokens: 0,
            repeat_index: 2,
            split: "train".into(),
            shuffle_key: 7,
        }
    }

    #[test]
    fn round_trips_through_each_table() {
        let rows = vec![row("a", vec![1, 2, 151643]), row("b", vec![151643])];
        for table in ["tokenized", "mixture", "shards"] {
            let batch = TokenRow::table_batch(table, &rows).expect("batch");
            let back = TokenRow::from_batch(&batch).expect("rows");
            assert_eq!(back.len(), 2);
            assert_eq!(back[0].input_ids, vec![1, 2, 151643]);
            assert_eq!(back[1].input_ids, vec![151643]);
            assert_eq!(
                back[0].repeat_index,
                if table == "tokenized" { 0 } else { 2 }
            );
            assert_eq!(back[0].shuffle_key, if table == "mixture" { 7 } else { 0 });
        }
    }
}
