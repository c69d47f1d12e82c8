//! Row structs of the tables `extract` and later stages write, and their Arrow batches.
//! Column order and types come from [`crate::schema`]; building a batch against the schema
//! checks that the two agree.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Int64Array, ListArray, StringArray, StructArray,
    TimestampSecondArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Fields};
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::schema::table_schema;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepoRow {
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

impl RepoRow {
    /// Fold in another row of the same repository (`crawl` and `extract` each write one):
    /// the local row's git facts (path, branch, head, roots) win, the API's metadata fills
    /// what the local row lacks, aliases are united, and a skip from either side stays.
    pub fn merge(&mut self, other: RepoRow) {
        let (mut local, api) = if other.origin == "local" && self.origin != "local" {
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

/// An issue a pull request closes, with its discussion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkedIssue {
    pub number: i64,
    pub title: String,
    pub body: String,
    pub comments: Vec<String>,
}

/// A merged pull request as the GitHub API describes it (table `pulls`, written by `crawl`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PullRow {
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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileChange {
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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatchRow {
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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackCommit {
    pub sha: String,
    pub author: String,
    pub author_email: String,
    pub authored_at: i64,
    pub message: String,
    pub diff: String,
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitPackRow {
    pub repo: String,
    pub pr_number: i64,
    pub kind: String,
    pub base_sha: String,
    pub head_sha: String,
    pub merged_at: i64,
    pub commits: Vec<PackCommit>,
    pub has_merge_in_branch: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlobRow {
    pub repo: String,
    pub blob_id: String,
    pub size: i64,
    pub content: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleRow {
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

impl SampleRow {
    /// A sample from its parts; `text` is their concatenation and `sample_id` its xxh3-128.
    pub fn new(
        kind: &str,
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
            sample_kind: kind.to_string(),
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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DropRow {
    pub stage: String,
    pub reason: String,
    pub repo: Option<String>,
    pub pr_number: Option<i64>,
    pub sample_id: Option<String>,
    pub path: Option<String>,
    pub detail: Option<String>,
    pub n_tokens: Option<i64>,
}

impl DropRow {
    pub fn new(stage: &str, reason: &str) -> Self {
        Self {
            stage: stage.to_string(),
            reason: reason.to_string(),
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

// ---- column helpers -------------------------------------------------------------------------

pub(crate) fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    // Collected first: flattened iterators have no exact size, which the builder needs.
    let values: Vec<&str> = values.collect();
    Arc::new(StringArray::from_iter_values(values))
}

pub(crate) fn opt_strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(values))
}

pub(crate) fn ints(values: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(values.collect::<Vec<_>>()))
}

pub(crate) fn opt_ints(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(Int64Array::from_iter(values))
}

fn bools(values: impl Iterator<Item = bool>) -> ArrayRef {
    Arc::new(BooleanArray::from_iter(values.map(Some)))
}

fn opt_bools(values: impl Iterator<Item = Option<bool>>) -> ArrayRef {
    Arc::new(BooleanArray::from_iter(values))
}

fn timestamps(values: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(
        TimestampSecondArray::from_iter_values(values.collect::<Vec<_>>()).with_timezone("UTC"),
    )
}

/// A `list<item>` column from per-row item arrays already flattened into `items`.
pub(crate) fn list_column(
    field: &Field,
    lengths: impl Iterator<Item = usize>,
    items: ArrayRef,
) -> Result<ArrayRef> {
    let DataType::List(item_field) = field.data_type() else {
        return Err(Error::Internal(format!("{} is not a list", field.name())));
    };
    let list = ListArray::try_new(
        item_field.clone(),
        OffsetBuffer::from_lengths(lengths),
        items,
        None,
    )
    .map_err(|e| Error::arrow(format!("build list column {}", field.name()), e))?;
    Ok(Arc::new(list))
}

fn string_list(field: &Field, rows: &[&Vec<String>]) -> Result<ArrayRef> {
    let items = strings(rows.iter().flat_map(|r| r.iter().map(String::as_str)));
    list_column(field, rows.iter().map(|r| r.len()), items)
}

fn struct_column(fields: &Fields, columns: Vec<ArrayRef>) -> Result<ArrayRef> {
    let array = StructArray::try_new(fields.clone(), columns, None)
        .map_err(|e| Error::arrow("build struct column", e))?;
    Ok(Arc::new(array))
}

fn item_fields(field: &Field) -> Result<Fields> {
    match field.data_type() {
        DataType::List(item) => match item.data_type() {
            DataType::Struct(fields) => Ok(fields.clone()),
            _ => Err(Error::Internal(format!(
                "{} is not a list of structs",
                field.name()
            ))),
        },
        _ => Err(Error::Internal(format!("{} is not a list", field.name()))),
    }
}

pub(crate) fn batch(table: &str, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    let schema = table_schema(table).ok_or_else(|| Error::Internal(format!("no table {table}")))?;
    RecordBatch::try_new(schema, columns)
        .map_err(|e| Error::arrow(format!("build {table} batch"), e))
}

fn field(table: &str, name: &str) -> Result<Field> {
    let schema = table_schema(table).ok_or_else(|| Error::Internal(format!("no table {table}")))?;
    schema
        .field_with_name(name)
        .cloned()
        .map_err(|e| Error::arrow(format!("{table}.{name}"), e))
}

// ---- batches ------------------------------------------------------------------------------

/// A row of `trajectories`: key columns plus the whole record as JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrajectoryRow {
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

pub fn trajectories_batch(rows: &[TrajectoryRow]) -> Result<RecordBatch> {
    let list = |f: fn(&TrajectoryRow) -> &Vec<String>| rows.iter().map(f).collect::<Vec<_>>();
    batch(
        "trajectories",
        vec![
            strings(rows.iter().map(|r| r.trajectory_id.as_str())),
            strings(rows.iter().map(|r| r.repo.as_str())),
            ints(rows.iter().map(|r| r.pr_number)),
            strings(rows.iter().map(|r| r.base_sha.as_str())),
            ints(rows.iter().map(|r| r.variant)),
            strings(rows.iter().map(|r| r.engine.as_str())),
            strings(rows.iter().map(|r| r.tool_family.as_str())),
            ints(rows.iter().map(|r| r.n_steps)),
            string_list(
                &field("trajectories", "named_files")?,
                &list(|r| &r.named_files),
            )?,
            string_list(
                &field("trajectories", "gold_files")?,
                &list(|r| &r.gold_files),
            )?,
            string_list(
                &field("trajectories", "distractor_files")?,
                &list(|r| &r.distractor_files),
            )?,
            strings(rows.iter().map(|r| r.record.as_str())),
        ],
    )
}

pub fn repos_batch(rows: &[RepoRow]) -> Result<RecordBatch> {
    let roots: Vec<&Vec<String>> = rows.iter().map(|r| &r.root_commits).collect();
    let aliases: Vec<&Vec<String>> = rows.iter().map(|r| &r.aliases).collect();
    batch(
        "repos",
        vec![
            strings(rows.iter().map(|r| r.repo.as_str())),
            opt_strings(rows.iter().map(|r| r.path.as_deref())),
            opt_strings(rows.iter().map(|r| r.default_branch.as_deref())),
            opt_strings(rows.iter().map(|r| r.head_sha.as_deref())),
            string_list(&field("repos", "root_commits")?, &roots)?,
            string_list(&field("repos", "aliases")?, &aliases)?,
            opt_strings(rows.iter().map(|r| r.fork_parent.as_deref())),
            opt_ints(rows.iter().map(|r| r.stars)),
            opt_strings(rows.iter().map(|r| r.license.as_deref())),
            opt_bools(rows.iter().map(|r| r.archived)),
            strings(rows.iter().map(|r| r.origin.as_str())),
            opt_strings(rows.iter().map(|r| r.skipped_reason.as_deref())),
        ],
    )
}

fn file_changes_column(rows: &[PatchRow]) -> Result<ArrayRef> {
    let list_field = field("patches", "files")?;
    let fields = item_fields(&list_field)?;
    let items: Vec<&FileChange> = rows.iter().flat_map(|r| r.files.iter()).collect();
    let columns = vec![
        strings(items.iter().map(|f| f.path.as_str())),
        opt_strings(items.iter().map(|f| f.old_path.as_deref())),
        strings(items.iter().map(|f| f.change.as_str())),
        strings(items.iter().map(|f| f.language.as_str())),
        bools(items.iter().map(|f| f.is_test)),
        ints(items.iter().map(|f| f.additions)),
        ints(items.iter().map(|f| f.deletions)),
        opt_strings(items.iter().map(|f| f.before_blob.as_deref())),
        opt_strings(items.iter().map(|f| f.after_blob.as_deref())),
    ];
    let structs = struct_column(&fields, columns)?;
    list_column(&list_field, rows.iter().map(|r| r.files.len()), structs)
}

pub fn pulls_batch(rows: &[PullRow]) -> Result<RecordBatch> {
    let list_field = field("pulls", "linked_issues")?;
    let fields = item_fields(&list_field)?;
    let items: Vec<&LinkedIssue> = rows.iter().flat_map(|r| r.linked_issues.iter()).collect();
    let comments_field = fields
        .find("comments")
        .map(|(_, f)| f.as_ref().clone())
        .ok_or_else(|| Error::Internal("linked_issues.comments missing".into()))?;
    let comments: Vec<&Vec<String>> = items.iter().map(|i| &i.comments).collect();
    let structs = struct_column(
        &fields,
        vec![
            ints(items.iter().map(|i| i.number)),
            strings(items.iter().map(|i| i.title.as_str())),
            strings(items.iter().map(|i| i.body.as_str())),
            string_list(&comments_field, &comments)?,
        ],
    )?;
    let labels: Vec<&Vec<String>> = rows.iter().map(|r| &r.labels).collect();
    let reviews: Vec<&Vec<String>> = rows.iter().map(|r| &r.review_comments).collect();
    batch(
        "pulls",
        vec![
            strings(rows.iter().map(|r| r.repo.as_str())),
            ints(rows.iter().map(|r| r.pr_number)),
            strings(rows.iter().map(|r| r.title.as_str())),
            strings(rows.iter().map(|r| r.body.as_str())),
            strings(rows.iter().map(|r| r.author.as_str())),
            strings(rows.iter().map(|r| r.author_type.as_str())),
            Arc::new(
                TimestampSecondArray::from_iter(
                    rows.iter().map(|r| r.merged_at).collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            strings(rows.iter().map(|r| r.base_ref.as_str())),
            strings(rows.iter().map(|r| r.base_sha.as_str())),
            strings(rows.iter().map(|r| r.head_sha.as_str())),
            opt_strings(rows.iter().map(|r| r.merge_sha.as_deref())),
            string_list(&field("pulls", "labels")?, &labels)?,
            opt_ints(rows.iter().map(|r| r.changed_files)),
            list_column(
                &list_field,
                rows.iter().map(|r| r.linked_issues.len()),
                structs,
            )?,
            string_list(&field("pulls", "review_comments")?, &reviews)?,
        ],
    )
}

pub fn patches_batch(rows: &[PatchRow]) -> Result<RecordBatch> {
    let base_files: Vec<&Vec<String>> = rows.iter().map(|r| &r.base_files).collect();
    batch(
        "patches",
        vec![
            strings(rows.iter().map(|r| r.repo.as_str())),
            opt_ints(rows.iter().map(|r| r.pr_number)),
            strings(rows.iter().map(|r| r.kind.as_str())),
            strings(rows.iter().map(|r| r.base_sha.as_str())),
            strings(rows.iter().map(|r| r.head_sha.as_str())),
            strings(rows.iter().map(|r| r.merge_sha.as_str())),
            timestamps(rows.iter().map(|r| r.merged_at)),
            strings(rows.iter().map(|r| r.title.as_str())),
            strings(rows.iter().map(|r| r.body.as_str())),
            strings(rows.iter().map(|r| r.author.as_str())),
            strings(rows.iter().map(|r| r.author_email.as_str())),
            strings(rows.iter().map(|r| r.diff.as_str())),
            strings(rows.iter().map(|r| r.code_diff.as_str())),
            strings(rows.iter().map(|r| r.test_diff.as_str())),
            file_changes_column(rows)?,
            strings(rows.iter().map(|r| r.base_tree.as_str())),
            string_list(&field("patches", "base_files")?, &base_files)?,
            opt_strings(rows.iter().map(|r| r.license.as_deref())),
            ints(rows.iter().map(|r| r.n_commits)),
            bools(rows.iter().map(|r| r.has_merge_in_branch)),
            ints(rows.iter().map(|r| r.skipped_files)),
        ],
    )
}

pub fn commit_packs_batch(rows: &[CommitPackRow]) -> Result<RecordBatch> {
    let list_field = field("commit_packs", "commits")?;
    let fields = item_fields(&list_field)?;
    let items: Vec<&PackCommit> = rows.iter().flat_map(|r| r.commits.iter()).collect();
    let paths_field = fields
        .find("paths")
        .map(|(_, f)| f.as_ref().clone())
        .ok_or_else(|| Error::Internal("commits.paths missing".into()))?;
    let paths: Vec<&Vec<String>> = items.iter().map(|c| &c.paths).collect();
    let columns = vec![
        strings(items.iter().map(|c| c.sha.as_str())),
        strings(items.iter().map(|c| c.author.as_str())),
        strings(items.iter().map(|c| c.author_email.as_str())),
        timestamps(items.iter().map(|c| c.authored_at)),
        strings(items.iter().map(|c| c.message.as_str())),
        strings(items.iter().map(|c| c.diff.as_str())),
        string_list(&paths_field, &paths)?,
    ];
    let structs = struct_column(&fields, columns)?;
    batch(
        "commit_packs",
        vec![
            strings(rows.iter().map(|r| r.repo.as_str())),
            ints(rows.iter().map(|r| r.pr_number)),
            strings(rows.iter().map(|r| r.kind.as_str())),
            strings(rows.iter().map(|r| r.base_sha.as_str())),
            strings(rows.iter().map(|r| r.head_sha.as_str())),
            timestamps(rows.iter().map(|r| r.merged_at)),
            list_column(&list_field, rows.iter().map(|r| r.commits.len()), structs)?,
            bools(rows.iter().map(|r| r.has_merge_in_branch)),
        ],
    )
}

pub fn blobs_batch(rows: &[BlobRow]) -> Result<RecordBatch> {
    batch(
        "blobs",
        vec![
            strings(rows.iter().map(|r| r.repo.as_str())),
            strings(rows.iter().map(|r| r.blob_id.as_str())),
            ints(rows.iter().map(|r| r.size)),
            strings(rows.iter().map(|r| r.content.as_str())),
        ],
    )
}

/// One line of the decontamination report: what one reason removed for one match in one
/// repository.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecontamReportRow {
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

pub fn decontam_report_batch(rows: &[DecontamReportRow]) -> Result<RecordBatch> {
    batch(
        "decontam_report",
        vec![
            strings(rows.iter().map(|r| r.stage.as_str())),
            strings(rows.iter().map(|r| r.reason.as_str())),
            strings(rows.iter().map(|r| r.matched.as_str())),
            strings(rows.iter().map(|r| r.repo.as_str())),
            ints(rows.iter().map(|r| r.prs)),
            ints(rows.iter().map(|r| r.samples)),
            ints(rows.iter().map(|r| r.bytes)),
            opt_ints(rows.iter().map(|r| r.tokens)),
            strings(rows.iter().map(|r| r.detail.as_str())),
        ],
    )
}

pub fn samples_from_batch(batch: &RecordBatch) -> Result<Vec<SampleRow>> {
    let c = Columns::of_batch(batch);
    (0..batch.num_rows())
        .map(|row| {
            Ok(SampleRow {
                sample_id: c.string("sample_id", row)?,
                sample_kind: c.string("sample_kind", row)?,
                source: c.string("source", row)?,
                repo: c.string("repo", row)?,
                pr_number: c.opt_int("pr_number", row)?,
                base_sha: c.string("base_sha", row)?,
                prompt: c.string("prompt", row)?,
                response: c.string("response", row)?,
                text: c.string("text", row)?,
            })
        })
        .collect()
}

/// Samples as a batch of `table` (`samples`, `decontaminated`, ...: they share the columns).
pub fn sample_table_batch(table: &str, rows: &[SampleRow]) -> Result<RecordBatch> {
    let columns = samples_batch(rows)?.columns().to_vec();
    batch(table, columns)
}

pub fn samples_batch(rows: &[SampleRow]) -> Result<RecordBatch> {
    batch(
        "samples",
        vec![
            strings(rows.iter().map(|r| r.sample_id.as_str())),
            strings(rows.iter().map(|r| r.sample_kind.as_str())),
            strings(rows.iter().map(|r| r.source.as_str())),
            strings(rows.iter().map(|r| r.repo.as_str())),
            opt_ints(rows.iter().map(|r| r.pr_number)),
            strings(rows.iter().map(|r| r.base_sha.as_str())),
            strings(rows.iter().map(|r| r.prompt.as_str())),
            strings(rows.iter().map(|r| r.response.as_str())),
            strings(rows.iter().map(|r| r.text.as_str())),
        ],
    )
}

pub fn drops_batch(rows: &[DropRow]) -> Result<RecordBatch> {
    batch(
        "drops",
        vec![
            strings(rows.iter().map(|r| r.stage.as_str())),
            strings(rows.iter().map(|r| r.reason.as_str())),
            opt_strings(rows.iter().map(|r| r.repo.as_deref())),
            opt_ints(rows.iter().map(|r| r.pr_number)),
            opt_strings(rows.iter().map(|r| r.sample_id.as_deref())),
            opt_strings(rows.iter().map(|r| r.path.as_deref())),
            opt_strings(rows.iter().map(|r| r.detail.as_deref())),
            opt_ints(rows.iter().map(|r| r.n_tokens)),
        ],
    )
}

// ---- reading back -------------------------------------------------------------------------

/// Typed access to the columns of one batch (or of a struct array's children).
pub(crate) struct Columns<'a> {
    names: Vec<String>,
    arrays: Vec<&'a ArrayRef>,
}

impl<'a> Columns<'a> {
    pub(crate) fn of_batch(batch: &'a RecordBatch) -> Self {
        Self {
            names: batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
            arrays: batch.columns().iter().collect(),
        }
    }

    fn of_struct(array: &'a StructArray) -> Self {
        Self {
            names: array.fields().iter().map(|f| f.name().clone()).collect(),
            arrays: array.columns().iter().collect(),
        }
    }

    pub(crate) fn get<T: 'static>(&self, name: &str) -> Result<&'a T> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.arrays[i].as_any().downcast_ref::<T>())
            .ok_or_else(|| Error::Input(format!("column {name} missing or of another type")))
    }

    pub(crate) fn string(&self, name: &str, row: usize) -> Result<String> {
        Ok(self.get::<StringArray>(name)?.value(row).to_string())
    }

    pub(crate) fn opt_string(&self, name: &str, row: usize) -> Result<Option<String>> {
        let a = self.get::<StringArray>(name)?;
        Ok((!a.is_null(row)).then(|| a.value(row).to_string()))
    }

    pub(crate) fn int(&self, name: &str, row: usize) -> Result<i64> {
        Ok(self.get::<Int64Array>(name)?.value(row))
    }

    pub(crate) fn opt_int(&self, name: &str, row: usize) -> Result<Option<i64>> {
        let a = self.get::<Int64Array>(name)?;
        Ok((!a.is_null(row)).then(|| a.value(row)))
    }

    fn timestamp(&self, name: &str, row: usize) -> Result<i64> {
        Ok(self.get::<TimestampSecondArray>(name)?.value(row))
    }

    fn boolean(&self, name: &str, row: usize) -> Result<bool> {
        Ok(self.get::<BooleanArray>(name)?.value(row))
    }

    fn strings(&self, name: &str, row: usize) -> Result<Vec<String>> {
        let list = self.get::<ListArray>(name)?;
        let items = list.value(row);
        let items = items
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| Error::Input(format!("column {name} is not a list of strings")))?;
        Ok(items
            .iter()
            .map(|s| s.unwrap_or_default().to_string())
            .collect())
    }

    /// The struct items of a list column at `row`.
    fn structs(&self, name: &str, row: usize) -> Result<StructArray> {
        let list = self.get::<ListArray>(name)?;
        let items = list.value(row);
        items
            .as_any()
            .downcast_ref::<StructArray>()
            .cloned()
            .ok_or_else(|| Error::Input(format!("column {name} is not a list of structs")))
    }
}

pub fn patches_from_batch(batch: &RecordBatch) -> Result<Vec<PatchRow>> {
    let c = Columns::of_batch(batch);
    let mut out = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let files_array = c.structs("files", row)?;
        let f = Columns::of_struct(&files_array);
        let mut files = Vec::with_capacity(files_array.len());
        for i in 0..files_array.len() {
            files.push(FileChange {
                path: f.string("path", i)?,
                old_path: f.opt_string("old_path", i)?,
                change: f.string("change", i)?,
                language: f.string("language", i)?,
                is_test: f.boolean("is_test", i)?,
                additions: f.int("additions", i)?,
                deletions: f.int("deletions", i)?,
                before_blob: f.opt_string("before_blob", i)?,
                after_blob: f.opt_string("after_blob", i)?,
            });
        }
        out.push(PatchRow {
            repo: c.string("repo", row)?,
            pr_number: c.opt_int("pr_number", row)?,
            kind: c.string("kind", row)?,
            base_sha: c.string("base_sha", row)?,
            head_sha: c.string("head_sha", row)?,
            merge_sha: c.string("merge_sha", row)?,
            merged_at: c.timestamp("merged_at", row)?,
            title: c.string("title", row)?,
            body: c.string("body", row)?,
            author: c.string("author", row)?,
            author_email: c.string("author_email", row)?,
            diff: c.string("diff", row)?,
            code_diff: c.string("code_diff", row)?,
            test_diff: c.string("test_diff", row)?,
            files,
            base_tree: c.string("base_tree", row)?,
            base_files: c.strings("base_files", row)?,
            license: c.opt_string("license", row)?,
            n_commits: c.int("n_commits", row)?,
            has_merge_in_branch: c.boolean("has_merge_in_branch", row)?,
            skipped_files: c.int("skipped_files", row)?,
        });
    }
    Ok(out)
}

pub fn pulls_from_batch(batch: &RecordBatch) -> Result<Vec<PullRow>> {
    let c = Columns::of_batch(batch);
    let mut out = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let issues_array = c.structs("linked_issues", row)?;
        let k = Columns::of_struct(&issues_array);
        let mut linked_issues = Vec::with_capacity(issues_array.len());
        for i in 0..issues_array.len() {
            linked_issues.push(LinkedIssue {
                number: k.int("number", i)?,
                title: k.string("title", i)?,
                body: k.string("body", i)?,
                comments: k.strings("comments", i)?,
            });
        }
        let merged = c.get::<TimestampSecondArray>("merged_at")?;
        out.push(PullRow {
            repo: c.string("repo", row)?,
            pr_number: c.int("pr_number", row)?,
            title: c.string("title", row)?,
            body: c.string("body", row)?,
            author: c.string("author", row)?,
            author_type: c.string("author_type", row)?,
            merged_at: (!merged.is_null(row)).then(|| merged.value(row)),
            base_ref: c.string("base_ref", row)?,
            base_sha: c.string("base_sha", row)?,
            head_sha: c.string("head_sha", row)?,
            merge_sha: c.opt_string("merge_sha", row)?,
            labels: c.strings("labels", row)?,
            changed_files: c.opt_int("changed_files", row)?,
            linked_issues,
            review_comments: c.strings("review_comments", row)?,
        });
    }
    Ok(out)
}

pub fn commit_packs_from_batch(batch: &RecordBatch) -> Result<Vec<CommitPackRow>> {
    let c = Columns::of_batch(batch);
    let mut out = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let commits_array = c.structs("commits", row)?;
        let k = Columns::of_struct(&commits_array);
        let mut commits = Vec::with_capacity(commits_array.len());
        for i in 0..commits_array.len() {
            commits.push(PackCommit {
                sha: k.string("sha", i)?,
                author: k.string("author", i)?,
                author_email: k.string("author_email", i)?,
                authored_at: k.timestamp("authored_at", i)?,
                message: k.string("message", i)?,
                diff: k.string("diff", i)?,
                paths: k.strings("paths", i)?,
            });
        }
        out.push(CommitPackRow {
            repo: c.string("repo", row)?,
            pr_number: c.int("pr_number", row)?,
            kind: c.string("kind", row)?,
            base_sha: c.string("base_sha", row)?,
            head_sha: c.string("head_sha", row)?,
            merged_at: c.timestamp("merged_at", row)?,
            commits,
            has_merge_in_branch: c.boolean("has_merge_in_branch", row)?,
        });
    }
    Ok(out)
}

pub fn blobs_from_batch(batch: &RecordBatch) -> Result<Vec<BlobRow>> {
    let c = Columns::of_batch(batch);
    (0..batch.num_rows())
        .map(|row| {
            Ok(BlobRow {
                repo: c.string("repo", row)?,
                blob_id: c.string("blob_id", row)?,
                size: c.int("size", row)?,
                content: c.string("content", row)?,
            })
        })
        .collect()
}

pub fn repos_from_batch(batch: &RecordBatch) -> Result<Vec<RepoRow>> {
    let c = Columns::of_batch(batch);
    (0..batch.num_rows())
        .map(|row| {
            Ok(RepoRow {
                repo: c.string("repo", row)?,
                path: c.opt_string("path", row)?,
                default_branch: c.opt_string("default_branch", row)?,
                head_sha: c.opt_string("head_sha", row)?,
                root_commits: c.strings("root_commits", row)?,
                aliases: c.strings("aliases", row)?,
                fork_parent: c.opt_string("fork_parent", row)?,
                stars: c.opt_int("stars", row)?,
                license: c.opt_string("license", row)?,
                archived: {
                    let a = c.get::<BooleanArray>("archived")?;
                    (!a.is_null(row)).then(|| a.value(row))
                },
                origin: c.string("origin", row)?,
                skipped_reason: c.opt_string("skipped_reason", row)?,
            })
        })
        .collect()
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
        let back = patches_from_batch(&patches_batch(std::slice::from_ref(&patch)).expect("batch"))
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
        let back = commit_packs_from_batch(
            &commit_packs_batch(std::slice::from_ref(&pack)).expect("batch"),
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
        let back = pulls_from_batch(&pulls_batch(std::slice::from_ref(&pull)).expect("batch"))
            .expect("read");
        assert_eq!(back, vec![pull]);
        let repo = RepoRow {
            repo: "a/b".into(),
            origin: "local".into(),
            stars: Some(3),
            ..Default::default()
        };
        let back = repos_from_batch(&repos_batch(std::slice::from_ref(&repo)).expect("batch"))
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
        let b = patches_batch(&[patch.clone(), patch]).expect("patches");
        assert_eq!(b.num_rows(), 2);
        let pack = CommitPackRow {
            repo: "a/b".into(),
            commits: vec![PackCommit {
                paths: vec!["x.py".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(commit_packs_batch(&[pack]).expect("packs").num_rows(), 1);
        let repo = RepoRow {
            repo: "a/b".into(),
            root_commits: vec!["r".into()],
            origin: "local".into(),
            ..Default::default()
        };
        assert_eq!(repos_batch(&[repo]).expect("repos").num_rows(), 1);
        assert_eq!(blobs_batch(&[]).expect("blobs").num_rows(), 0);
        let drop = DropRow::new("extract", "lockfile")
            .repo("a/b")
            .path("poetry.lock");
        assert_eq!(drops_batch(&[drop]).expect("drops").num_rows(), 1);
    }
}
