//! `swe-corpus decontam check FILE`: any file (someone else's corpus too) checked against the
//! registry. A text file is checked line by line (a JSONL record is a line); a Parquet file
//! row by row, over its string columns. A row is a match when it names a benchmark instance
//! id, when its `repo` column names a benchmark repository, or (with benchmark files) when
//! it holds most of an instance's text.

use corpus_core::drop_reason::DropReason;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use corpus_core::benchmark::{BenchmarkRepos, family_of_instance};
use corpus_core::recipe::DecontamOptions;

use crate::benchmark_file::{BenchmarkFileError, Instance, string_cell};
use crate::instance_ids::InstanceIds;
use crate::ngram::{Field, NgramIndex};
use crate::patch_lines::code_part;

/// One matched row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based line (text) or row (Parquet) number.
    pub row: u64,
    pub reason: DropReason,
    pub matched: String,
    /// The benchmark family the match belongs to (`benchmark_files` for the user's own).
    pub family: String,
    pub detail: String,
}

/// The registry's checks for one recipe's `[decontam]` options.
pub struct Checker {
    ids: InstanceIds,
    repos: BenchmarkRepos,
    index: NgramIndex,
    threshold: f64,
}

impl Checker {
    /// The checks of `options`, plus content matching against `instances` (its benchmark files).
    pub fn new(options: &DecontamOptions, instances: &[Instance]) -> Self {
        let mut ids = InstanceIds::from_options(options);
        let mut index = NgramIndex::new(options.ngram);
        for i in instances {
            ids.add(&i.instance_id);
            index.add(
                &i.instance_id,
                &[
                    (Field::ProblemStatement, &i.problem_statement),
                    (Field::Patch, &code_part(&i.patch)),
                    (Field::TestPatch, &i.test_patch),
                ],
            );
        }
        Self {
            ids,
            repos: BenchmarkRepos::from_options(options),
            index,
            threshold: options.threshold,
        }
    }

    fn family(id: &str) -> String {
        family_of_instance(id)
            .unwrap_or("benchmark_files")
            .to_string()
    }

    /// The match of one text, if any: an instance id first, then content.
    pub fn check_text(&self, row: u64, text: &str) -> Option<Finding> {
        if let Some(id) = self.ids.find_in(text) {
            return Some(Finding {
                row,
                reason: DropReason::BenchmarkInstanceId,
                matched: id.to_string(),
                family: Self::family(id),
                detail: format!("names benchmark instance {id}"),
            });
        }
        if self.index.is_empty() {
            return None;
        }
        self.index
            .best_match(text, self.threshold)
            .map(|m| Finding {
                row,
                reason: DropReason::BenchmarkContent,
                family: Self::family(&m.instance_id),
                detail: format!(
                    "holds {:.0}% of the {} n-grams of {}",
                    m.share * 100.0,
                    m.field.name(),
                    m.instance_id
                ),
                matched: m.instance_id,
            })
    }

    /// The match of a `repo` cell, if it names a benchmark repository.
    pub fn check_repo(&self, row: u64, repo: &str) -> Option<Finding> {
        let matched = self.repos.matches(repo, [])?;
        Some(Finding {
            row,
            reason: DropReason::BenchmarkRepo,
            family: self
                .repos
                .family_of(&matched)
                .unwrap_or("extra")
                .to_string(),
            detail: format!("{repo} is benchmark repository {matched}"),
            matched,
        })
    }
}

/// Check every line or row of `path`; `found` sees each match. Returns the rows checked.
pub fn check_file(
    path: &Path,
    checker: &Checker,
    mut found: impl FnMut(Finding),
) -> Result<u64, BenchmarkFileError> {
    let error = |message: String| BenchmarkFileError {
        path: path.display().to_string(),
        message,
    };
    let is_parquet = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let file = File::open(path).map_err(|e| error(e.to_string()))?;
    if !is_parquet {
        let mut rows = 0;
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| error(format!("line {}: {e}", i + 1)))?;
            rows += 1;
            if let Some(f) = checker.check_text(rows, &line) {
                found(f);
            }
        }
        return Ok(rows);
    }
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| error(e.to_string()))?;
    let text_columns: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .filter(|f| {
            matches!(
                f.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        })
        .map(|f| f.name().clone())
        .collect();
    if text_columns.is_empty() {
        return Err(error("has no string column to check".to_string()));
    }
    let reader = builder.build().map_err(|e| error(e.to_string()))?;
    let mut rows = 0;
    for batch in reader {
        let batch = batch.map_err(|e| error(e.to_string()))?;
        for r in 0..batch.num_rows() {
            rows += 1;
            let mut finding = None;
            for name in &text_columns {
                let Some(cell) = batch.column_by_name(name).and_then(|c| string_cell(c, r)) else {
                    continue;
                };
                finding = if name == "repo" {
                    checker.check_repo(rows, cell)
                } else {
                    checker.check_text(rows, cell)
                };
                if finding.is_some() {
                    break;
                }
            }
            if let Some(f) = finding {
                found(f);
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;
    use std::sync::Arc;

    #[test]
    fn text_and_parquet_files_are_checked_row_by_row() {
        let dir = tempfile::tempdir().expect("tempdir");
        let checker = Checker::new(&DecontamOptions::default(), &[]);
        let text = dir.path().join("corpus.jsonl");
        std::fs::write(
            &text,
            "{\"text\": \"a clean line\"}\n{\"text\": \"fixes sympy__sympy-20590 at last\"}\n",
        )
        .expect("write");
        let mut found = Vec::new();
        let rows = check_file(&text, &checker, |f| found.push(f)).expect("check");
        assert_eq!(rows, 2);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].row, found[0].family.as_str()), (2, "swe-bench"));

        let parquet = dir.path().join("corpus.parquet");
        let batch = arrow::record_batch::RecordBatch::try_from_iter([
            (
                "repo",
                Arc::new(StringArray::from(vec![
                    "acme/x",
                    "Ansible/Ansible",
                    "acme/y",
                ])) as arrow::array::ArrayRef,
            ),
            (
                "text",
                Arc::new(StringArray::from(vec!["clean", "clean", "clean too"])),
            ),
        ])
        .expect("batch");
        let file = File::create(&parquet).expect("create");
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        let mut found = Vec::new();
        let rows = check_file(&parquet, &checker, |f| found.push(f)).expect("check");
        assert_eq!(rows, 3);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].row, found[0].reason, found[0].family.as_str()),
            (2, DropReason::BenchmarkRepo, "swe-bench-pro")
        );
        let missing = check_file(&dir.path().join("none.txt"), &checker, |_| {});
        assert!(
            missing
                .expect_err("missing")
                .to_string()
                .contains("none.txt")
        );
    }
}
