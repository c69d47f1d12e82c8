//! Rows of the token tables: `tokenized` (one per unique curated sample), `mixture` (one per
//! sample and repeat, with its shuffle key) and `shards` (the mixture in shuffled order).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, ListArray, UInt32Array, UInt64Array};
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::rows::{Columns, batch, ints, list_column, opt_ints, opt_strings, strings};
use crate::schema::table_schema;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
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

/// Rows as a batch of `table` (`tokenized`, `mixture` or `shards`).
pub fn token_batch(table: &str, rows: &[TokenRow]) -> Result<RecordBatch> {
    let schema = table_schema(table).ok_or_else(|| Error::Internal(format!("no table {table}")))?;
    let ids_field = schema
        .field_with_name("input_ids")
        .map_err(|e| Error::arrow("input_ids field", e))?
        .clone();
    let mut columns: Vec<ArrayRef> = vec![
        strings(rows.iter().map(|r| r.sample_id.as_str())),
        strings(rows.iter().map(|r| r.sample_kind.as_str())),
        strings(rows.iter().map(|r| r.source.as_str())),
        strings(rows.iter().map(|r| r.repo.as_str())),
        opt_ints(rows.iter().map(|r| r.pr_number)),
        opt_strings(rows.iter().map(|r| r.license.as_deref())),
        strings(rows.iter().map(|r| r.text.as_str())),
        list_column(
            &ids_field,
            rows.iter().map(|r| r.input_ids.len()),
            Arc::new(UInt32Array::from_iter_values(
                rows.iter().flat_map(|r| r.input_ids.iter().copied()),
            )),
        )?,
        ints(rows.iter().map(|r| r.n_tokens)),
        ints(rows.iter().map(|r| r.prompt_tokens)),
    ];
    if schema.field_with_name("repeat_index").is_ok() {
        columns.push(ints(rows.iter().map(|r| r.repeat_index)));
    }
    columns.push(strings(rows.iter().map(|r| r.split.as_str())));
    if schema.field_with_name("shuffle_key").is_ok() {
        columns.push(Arc::new(UInt64Array::from_iter_values(
            rows.iter().map(|r| r.shuffle_key),
        )));
    }
    batch(table, columns)
}

/// Rows of a `tokenized`, `mixture` or `shards` batch (absent columns read as 0).
pub fn token_rows_from_batch(batch: &RecordBatch) -> Result<Vec<TokenRow>> {
    let c = Columns::of_batch(batch);
    let ids = c.get::<ListArray>("input_ids")?;
    let has_repeat = batch.schema().field_with_name("repeat_index").is_ok();
    let shuffle = c.get::<UInt64Array>("shuffle_key").ok();
    (0..batch.num_rows())
        .map(|row| {
            let list = ids.value(row);
            let values = list
                .as_any()
                .downcast_ref::<UInt32Array>()
                .ok_or_else(|| Error::Input("input_ids is not a list of uint32".into()))?;
            Ok(TokenRow {
                sample_id: c.string("sample_id", row)?,
                sample_kind: c.string("sample_kind", row)?,
                source: c.string("source", row)?,
                repo: c.string("repo", row)?,
                pr_number: c.opt_int("pr_number", row)?,
                license: c.opt_string("license", row)?,
                text: c.string("text", row)?,
                input_ids: values.values().to_vec(),
                n_tokens: c.int("n_tokens", row)?,
                prompt_tokens: c.int("prompt_tokens", row)?,
                repeat_index: if has_repeat {
                    c.int("repeat_index", row)?
                } else {
                    0
                },
                split: c.string("split", row)?,
                shuffle_key: shuffle.map(|s| s.value(row)).unwrap_or(0),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let batch = token_batch(table, &rows).expect("batch");
            let back = token_rows_from_batch(&batch).expect("rows");
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
