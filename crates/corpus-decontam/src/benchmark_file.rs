//! Benchmark files for content matching: JSONL or Parquet with SWE-bench's columns
//! (`instance_id`, `repo`, `problem_statement`, `patch`, `test_patch`). `instance_id`,
//! `problem_statement` and `patch` are required strings; the others are used when present.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use arrow::array::{Array, LargeStringArray, StringArray, StringViewArray};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// One benchmark task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub instance_id: String,
    pub repo: String,
    pub problem_statement: String,
    pub patch: String,
    pub test_patch: String,
}

#[derive(Debug, thiserror::Error)]
#[error("benchmark file {path}: {message}")]
pub struct BenchmarkFileError {
    pub path: String,
    pub message: String,
}

fn error(path: &Path, message: impl Into<String>) -> BenchmarkFileError {
    BenchmarkFileError {
        path: path.display().to_string(),
        message: message.into(),
    }
}

const REQUIRED: &[&str] = &["instance_id", "problem_statement", "patch"];

/// Read every instance of a `.jsonl` / `.json` or `.parquet` file. An empty file, a missing
/// column or a wrong type is an error naming the file, the column and the line or type.
pub fn read_instances(path: &Path) -> Result<Vec<Instance>, BenchmarkFileError> {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let instances = match extension.as_str() {
        "parquet" => read_parquet(path)?,
        "jsonl" | "json" | "ndjson" => read_jsonl(path)?,
        other => {
            return Err(error(
                path,
                format!("unknown format `.{other}`: use .jsonl or .parquet"),
            ));
        }
    };
    if instances.is_empty() {
        return Err(error(path, "holds no instances"));
    }
    Ok(instances)
}

fn read_jsonl(path: &Path) -> Result<Vec<Instance>, BenchmarkFileError> {
    let file = File::open(path).map_err(|e| error(path, e.to_string()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| error(path, format!("line {}: {e}", i + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| error(path, format!("line {}: not JSON: {e}", i + 1)))?;
        let field = |name: &str, required: bool| -> Result<String, BenchmarkFileError> {
            match value.get(name) {
                Some(serde_json::Value::String(s)) => Ok(s.clone()),
                Some(serde_json::Value::Null) | None if !required => Ok(String::new()),
                None => Err(error(
                    path,
                    format!("line {}: missing column `{name}`", i + 1),
                )),
                Some(other) => Err(error(
                    path,
                    format!(
                        "line {}: column `{name}` must be a string, found {}",
                        i + 1,
                        kind(other)
                    ),
                )),
            }
        };
        out.push(Instance {
            instance_id: field("instance_id", true)?,
            repo: field("repo", false)?,
            problem_statement: field("problem_statement", true)?,
            patch: field("patch", true)?,
            test_patch: field("test_patch", false)?,
        });
    }
    Ok(out)
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn read_parquet(path: &Path) -> Result<Vec<Instance>, BenchmarkFileError> {
    let file = File::open(path).map_err(|e| error(path, e.to_string()))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| error(path, e.to_string()))?;
    let schema = builder.schema().clone();
    for name in REQUIRED {
        let field = schema
            .field_with_name(name)
            .map_err(|_| error(path, format!("missing column `{name}`")))?;
        if !matches!(
            field.data_type(),
            arrow::datatypes::DataType::Utf8
                | arrow::datatypes::DataType::LargeUtf8
                | arrow::datatypes::DataType::Utf8View
        ) {
            return Err(error(
                path,
                format!(
                    "column `{name}` must be a string, found {}",
                    field.data_type()
                ),
            ));
        }
    }
    let reader = builder.build().map_err(|e| error(path, e.to_string()))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| error(path, e.to_string()))?;
        let get = |name: &str, row: usize| text_at(&batch, name, row);
        for row in 0..batch.num_rows() {
            out.push(Instance {
                instance_id: get("instance_id", row),
                repo: get("repo", row),
                problem_statement: get("problem_statement", row),
                patch: get("patch", row),
                test_patch: get("test_patch", row),
            });
        }
    }
    Ok(out)
}

/// A string cell of any string layout; empty for a missing column or a null.
fn text_at(batch: &RecordBatch, name: &str, row: usize) -> String {
    batch
        .column_by_name(name)
        .and_then(|column| string_cell(column, row))
        .unwrap_or_default()
        .to_string()
}

/// A string cell of any string layout (Utf8, LargeUtf8, Utf8View); None for a null or a
/// column of another type.
pub(crate) fn string_cell(column: &dyn Array, row: usize) -> Option<&str> {
    if column.is_null(row) {
        return None;
    }
    let any = column.as_any();
    if let Some(a) = any.downcast_ref::<StringArray>() {
        return Some(a.value(row));
    }
    if let Some(a) = any.downcast_ref::<LargeStringArray>() {
        return Some(a.value(row));
    }
    any.downcast_ref::<StringViewArray>().map(|a| a.value(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn reads_jsonl_and_reports_problems() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = write(
            dir.path(),
            "b.jsonl",
            "{\"instance_id\": \"a__b-1\", \"repo\": \"a/b\", \"problem_statement\": \"p\", \"patch\": \"d\"}\n",
        );
        let instances = read_instances(&good).expect("reads");
        assert_eq!(instances[0].instance_id, "a__b-1");
        assert_eq!(instances[0].test_patch, "");

        // Each bad file and the words of its error.
        for (name, text, expected) in [
            (
                "m.jsonl",
                "{\"instance_id\": \"x\", \"patch\": \"d\"}\n",
                "line 1: missing column `problem_statement`",
            ),
            (
                "w.jsonl",
                "{\"instance_id\": 3, \"problem_statement\": \"p\", \"patch\": \"d\"}\n",
                "`instance_id` must be a string, found a number",
            ),
            ("e.jsonl", "\n", "holds no instances"),
            ("b.csv", "x", "unknown format"),
        ] {
            let path = write(dir.path(), name, text);
            let err = read_instances(&path).expect_err(name).to_string();
            assert!(err.contains(expected), "{name}: {err}");
        }
    }

    fn write_parquet(path: &Path, columns: Vec<(&str, arrow::array::ArrayRef)>) {
        let batch = RecordBatch::try_from_iter(columns).expect("batch");
        let file = File::create(path).expect("create");
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
    }

    #[test]
    fn reads_parquet_and_checks_types() {
        use std::sync::Arc;
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("b.parquet");
        write_parquet(
            &good,
            vec![
                (
                    "instance_id",
                    Arc::new(StringArray::from(vec!["a__b-1"])) as arrow::array::ArrayRef,
                ),
                (
                    "problem_statement",
                    Arc::new(LargeStringArray::from(vec!["p"])),
                ),
                ("patch", Arc::new(StringArray::from(vec!["d"]))),
                (
                    "test_patch",
                    Arc::new(StringArray::from(vec![None::<&str>])),
                ),
            ],
        );
        let instances = read_instances(&good).expect("reads");
        assert_eq!(instances[0].problem_statement, "p");
        assert_eq!(instances[0].test_patch, "");
        let bad = dir.path().join("bad.parquet");
        write_parquet(
            &bad,
            vec![
                (
                    "instance_id",
                    Arc::new(arrow::array::Int64Array::from(vec![1])) as arrow::array::ArrayRef,
                ),
                ("problem_statement", Arc::new(StringArray::from(vec!["p"]))),
                ("patch", Arc::new(StringArray::from(vec!["d"]))),
            ],
        );
        let err = read_instances(&bad).expect_err("wrong type").to_string();
        assert!(err.contains("`instance_id` must be a string"), "{err}");
    }

    #[test]
    fn csv_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let csv = write(dir.path(), "b.csv", "x");
        assert!(
            read_instances(&csv)
                .expect_err("csv")
                .to_string()
                .contains("unknown format")
        );
    }
}
