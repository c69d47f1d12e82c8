use std::sync::Arc;

use arrow::array::{Int64Array, StringArray, UInt64Array};
use arrow::compute::{concat_batches, take_record_batch};
use arrow::record_batch::RecordBatch;
use corpus_core::schema::table_schema;
use corpus_core::table::column;
use corpus_core::{Error, Result};

/// Mixture rows of one bucket → `shards` rows in shuffle order.
pub fn sort_bucket(batches: &[RecordBatch]) -> Result<RecordBatch> {
    let mixture = table_schema("mixture").ok_or_else(|| Error::Internal("no mixture".into()))?;
    let shards = table_schema("shards").ok_or_else(|| Error::Internal("no shards".into()))?;
    let all = concat_batches(&mixture, batches).map_err(|e| Error::arrow("concat bucket", e))?;
    let keys = column::<UInt64Array>(&all, "shuffle_key")?;
    let ids = column::<StringArray>(&all, "sample_id")?;
    let repeats = column::<Int64Array>(&all, "repeat_index")?;
    let mut order: Vec<u32> = (0..all.num_rows() as u32).collect();
    order.sort_by(|&a, &b| {
        let key = |i: u32| {
            let i = i as usize;
            (keys.value(i), ids.value(i), repeats.value(i))
        };
        key(a).cmp(&key(b))
    });
    let indices = arrow::array::UInt32Array::from(order);
    let sorted = take_record_batch(&all, &indices).map_err(|e| Error::arrow("sort bucket", e))?;
    let columns = shards
        .fields()
        .iter()
        .map(|f| {
            sorted
                .column_by_name(f.name())
                .cloned()
                .ok_or_else(|| Error::Input(format!("mixture has no column {}", f.name())))
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new(Arc::new(shards.as_ref().clone()), columns)
        .map_err(|e| Error::arrow("build shard batch", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use corpus_core::token_rows::{TokenRow, token_batch, token_rows_from_batch};

    fn row(id: &str, key: u64, repeat: i64) -> TokenRow {
        TokenRow {
            sample_id: id.into(),
            sample_kind: "commit".into(),
            source: "commits".into(),
            repo: "a/b".into(),
            pr_number: None,
            license: None,
            text: id.into(),
            input_ids: vec![1, 151643],
            n_tokens: 2,
            prompt_tokens: 0,
            repeat_index: repeat,
            split: "train".into(),
            shuffle_key: key,
        }
    }

    #[test]
    fn sorts_by_key_then_id_then_repeat_across_batches() {
        let a = token_batch("mixture", &[row("x", 9, 0), row("y", 3, 1)]).expect("a");
        let b = token_batch("mixture", &[row("y", 3, 0), row("w", 5, 0)]).expect("b");
        let sorted = sort_bucket(&[a, b]).expect("sort");
        assert!(sorted.column_by_name("shuffle_key").is_none());
        let rows = token_rows_from_batch(&sorted).expect("rows");
        let order: Vec<(&str, i64)> = rows
            .iter()
            .map(|r| (r.sample_id.as_str(), r.repeat_index))
            .collect();
        assert_eq!(order, vec![("y", 0), ("y", 1), ("w", 0), ("x", 0)]);
    }
}
