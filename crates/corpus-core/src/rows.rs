//! Row structs of the tables `extract` and later stages write, and their Arrow batches.
//! Column order and types come from [`crate::schema`]; building a batch against the schema
//! checks that the two agree.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Int64Array, ListArray, StringArray, StructArray, TimestampSecondArray,
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
}

// ---- column helpers -------------------------------------------------------------------------

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    // Collected first: flattened iterators have no exact size, which the builder needs.
    let values: Vec<&str> = values.collect();
    Arc::new(StringArray::from_iter_values(values))
}

fn opt_strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(values))
}

fn ints(values: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(values.collect::<Vec<_>>()))
}

fn opt_ints(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
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
fn list_column(
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

fn batch(table: &str, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
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

/// A string column of a batch by name.
pub fn string_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a StringArray> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| Error::Input(format!("column {name} missing or not utf8")))
}

/// An int64 column of a batch by name.
pub fn int_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a Int64Array> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        .ok_or_else(|| Error::Input(format!("column {name} missing or not int64")))
}

#[cfg(test)]
mod tests {
    use super::*;

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
