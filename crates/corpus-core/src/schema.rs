//! Arrow schemas of every table. `schemas/*.schema` at the repository root mirrors these; a
//! test fails when the two disagree, so a column change is always a visible, reviewed change.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// Bumped whenever any table's columns change; a run directory written with another version is
/// refused rather than mixed.
pub const SCHEMA_VERSION: u32 = 3;

/// The name of every table, one constant each: code names a table through these, so a
/// misspelt table is a compile error rather than a missing folder.
pub mod names {
    pub const REPOS: &str = "repos";
    pub const PULLS: &str = "pulls";
    pub const PATCHES: &str = "patches";
    pub const COMMIT_PACKS: &str = "commit_packs";
    pub const BLOBS: &str = "blobs";
    pub const SAMPLES: &str = "samples";
    pub const TRAJECTORIES: &str = "trajectories";
    pub const SYNTHETIC_SAMPLES: &str = "synthetic_samples";
    pub const EXTERNAL_SAMPLES: &str = "external_samples";
    pub const DECONTAMINATED: &str = "decontaminated";
    pub const DECONTAM_REPORT: &str = "decontam_report";
    pub const CURATED: &str = "curated";
    pub const TOKENIZED: &str = "tokenized";
    pub const MIXTURE: &str = "mixture";
    pub const SHARDS: &str = "shards";
    pub const DROPS: &str = "drops";
}

/// Every table the pipeline writes, in stage order.
pub const TABLES: &[&str] = &[
    names::REPOS,
    names::PULLS,
    names::PATCHES,
    names::COMMIT_PACKS,
    names::BLOBS,
    names::SAMPLES,
    names::TRAJECTORIES,
    names::SYNTHETIC_SAMPLES,
    names::EXTERNAL_SAMPLES,
    names::DECONTAMINATED,
    names::DECONTAM_REPORT,
    names::CURATED,
    names::TOKENIZED,
    names::MIXTURE,
    names::SHARDS,
    names::DROPS,
];

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, false)
}

fn utf8_null(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn list_of(name: &str, item: Field, nullable: bool) -> Field {
    Field::new(name, DataType::List(Arc::new(item)), nullable)
}

fn utf8_list(name: &str) -> Field {
    list_of(name, Field::new("item", DataType::Utf8, false), false)
}

pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Second, Some("UTC".into()))
}

/// The schema of a table by name.
pub fn table_schema(name: &str) -> Option<SchemaRef> {
    let fields = match name {
        "repos" => repos_fields(),
        "pulls" => pulls_fields(),
        "patches" => patches_fields(),
        "commit_packs" => commit_packs_fields(),
        "blobs" => vec![
            utf8("repo"),
            utf8("blob_id"),
            Field::new("size", DataType::Int64, false),
            utf8("content"),
        ],
        "samples" | "synthetic_samples" | "external_samples" | "decontaminated" | "curated" => {
            samples_fields()
        }
        "trajectories" => vec![
            utf8("trajectory_id"),
            utf8("repo"),
            Field::new("pr_number", DataType::Int64, false),
            utf8("base_sha"),
            Field::new("variant", DataType::Int64, false),
            utf8("engine"),
            utf8("tool_family"),
            Field::new("n_steps", DataType::Int64, false),
            utf8_list("named_files"),
            utf8_list("gold_files"),
            utf8_list("distractor_files"),
            // The whole record (task, steps with thoughts, actions and observations) as JSON.
            utf8("record"),
        ],
        "decontam_report" => vec![
            utf8("stage"),
            utf8("reason"),
            utf8("matched"),
            utf8("repo"),
            Field::new("prs", DataType::Int64, false),
            Field::new("samples", DataType::Int64, false),
            Field::new("bytes", DataType::Int64, false),
            // Tokens of the removed samples under the recipe's tokenizer (null without one).
            Field::new("tokens", DataType::Int64, true),
            utf8("detail"),
        ],
        "drops" => drops_fields(),
        "tokenized" => token_fields(false, false),
        "shards" => token_fields(true, false),
        "mixture" => token_fields(true, true),
        _ => return None,
    };
    Some(Arc::new(Schema::new(fields)))
}

/// `tokenized` rows; `shards` add the repeat index, `mixture` the shuffle key too.
fn token_fields(repeat: bool, shuffle: bool) -> Vec<Field> {
    let mut fields = vec![
        utf8("sample_id"),
        utf8("sample_kind"),
        utf8("source"),
        utf8("repo"),
        Field::new("pr_number", DataType::Int64, true),
        utf8_null("license"),
        utf8("text"),
        list_of(
            "input_ids",
            Field::new("item", DataType::UInt32, false),
            false,
        ),
        Field::new("n_tokens", DataType::Int64, false),
        Field::new("prompt_tokens", DataType::Int64, false),
    ];
    if repeat {
        fields.push(Field::new("repeat_index", DataType::Int64, false));
    }
    fields.push(utf8("split"));
    if shuffle {
        fields.push(Field::new("shuffle_key", DataType::UInt64, false));
    }
    fields
}

fn repos_fields() -> Vec<Field> {
    vec![
        utf8("repo"),
        utf8_null("path"),
        utf8_null("default_branch"),
        utf8_null("head_sha"),
        utf8_list("root_commits"),
        utf8_list("aliases"),
        utf8_null("fork_parent"),
        Field::new("stars", DataType::Int64, true),
        utf8_null("license"),
        Field::new("archived", DataType::Boolean, true),
        utf8("origin"),
        utf8_null("skipped_reason"),
    ]
}

fn linked_issue_fields() -> Fields {
    Fields::from(vec![
        Field::new("number", DataType::Int64, false),
        utf8("title"),
        utf8("body"),
        utf8_list("comments"),
    ])
}

fn pulls_fields() -> Vec<Field> {
    vec![
        utf8("repo"),
        Field::new("pr_number", DataType::Int64, false),
        utf8("title"),
        utf8("body"),
        utf8("author"),
        utf8("author_type"),
        Field::new("merged_at", timestamp_type(), true),
        utf8("base_ref"),
        utf8("base_sha"),
        utf8("head_sha"),
        utf8_null("merge_sha"),
        utf8_list("labels"),
        Field::new("changed_files", DataType::Int64, true),
        list_of(
            "linked_issues",
            Field::new("item", DataType::Struct(linked_issue_fields()), false),
            false,
        ),
        // Review comments' bodies, when the recipe asks for them (`[crawl] review_comments`).
        utf8_list("review_comments"),
    ]
}

/// One changed file of a patch.
pub fn file_change_fields() -> Fields {
    Fields::from(vec![
        utf8("path"),
        utf8_null("old_path"),
        utf8("change"),
        utf8("language"),
        Field::new("is_test", DataType::Boolean, false),
        Field::new("additions", DataType::Int64, false),
        Field::new("deletions", DataType::Int64, false),
        utf8_null("before_blob"),
        utf8_null("after_blob"),
    ])
}

fn patches_fields() -> Vec<Field> {
    vec![
        utf8("repo"),
        Field::new("pr_number", DataType::Int64, true),
        utf8("kind"),
        utf8("base_sha"),
        utf8("head_sha"),
        utf8("merge_sha"),
        Field::new("merged_at", timestamp_type(), false),
        utf8("title"),
        utf8("body"),
        utf8("author"),
        utf8("author_email"),
        utf8("diff"),
        utf8("code_diff"),
        utf8("test_diff"),
        list_of(
            "files",
            Field::new("item", DataType::Struct(file_change_fields()), false),
            false,
        ),
        utf8("base_tree"),
        utf8_list("base_files"),
        utf8_null("license"),
        Field::new("n_commits", DataType::Int64, false),
        Field::new("has_merge_in_branch", DataType::Boolean, false),
        Field::new("skipped_files", DataType::Int64, false),
    ]
}

/// One commit of a pull request's commit pack.
pub fn pack_commit_fields() -> Fields {
    Fields::from(vec![
        utf8("sha"),
        utf8("author"),
        utf8("author_email"),
        Field::new("authored_at", timestamp_type(), false),
        utf8("message"),
        utf8("diff"),
        utf8_list("paths"),
    ])
}

fn commit_packs_fields() -> Vec<Field> {
    vec![
        utf8("repo"),
        Field::new("pr_number", DataType::Int64, false),
        utf8("kind"),
        utf8("base_sha"),
        utf8("head_sha"),
        Field::new("merged_at", timestamp_type(), false),
        list_of(
            "commits",
            Field::new("item", DataType::Struct(pack_commit_fields()), false),
            false,
        ),
        Field::new("has_merge_in_branch", DataType::Boolean, false),
    ]
}

fn samples_fields() -> Vec<Field> {
    vec![
        utf8("sample_id"),
        utf8("sample_kind"),
        utf8("source"),
        utf8("repo"),
        Field::new("pr_number", DataType::Int64, true),
        utf8("base_sha"),
        utf8("prompt"),
        utf8("response"),
        utf8("text"),
    ]
}

fn drops_fields() -> Vec<Field> {
    vec![
        utf8("stage"),
        utf8("reason"),
        utf8_null("repo"),
        Field::new("pr_number", DataType::Int64, true),
        utf8_null("sample_id"),
        utf8_null("path"),
        utf8_null("detail"),
        Field::new("n_tokens", DataType::Int64, true),
    ]
}

/// A stable, human-readable rendering of a schema: one line per column, nested types spelled
/// out. This is what `schemas/NAME.schema` holds.
pub fn render_schema(name: &str, schema: &Schema) -> String {
    let mut out = format!("# table {name}, schema version {SCHEMA_VERSION}\n");
    for field in schema.fields() {
        render_field(&mut out, field, 0);
    }
    out
}

fn render_field(out: &mut String, field: &Field, depth: usize) {
    let null = if field.is_nullable() {
        "null"
    } else {
        "not null"
    };
    let indent = "  ".repeat(depth);
    let line = format!("{indent}{}", field.name());
    out.push_str(&format!(
        "{line:<28} {:<24} {null}\n",
        type_name(field.data_type())
    ));
    match field.data_type() {
        DataType::List(item) => render_field(out, item, depth + 1),
        DataType::Struct(children) => {
            for child in children {
                render_field(out, child, depth + 1);
            }
        }
        _ => {}
    }
}

fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Utf8 => "utf8".into(),
        DataType::Int64 => "int64".into(),
        DataType::Int32 => "int32".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::Boolean => "bool".into(),
        DataType::Timestamp(_, _) => "timestamp[s, UTC]".into(),
        DataType::List(_) => "list".into(),
        DataType::Struct(_) => "struct".into(),
        other => format!("{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_a_schema() {
        for name in TABLES {
            assert!(table_schema(name).is_some(), "{name}");
        }
        assert!(table_schema("nope").is_none());
    }
}
