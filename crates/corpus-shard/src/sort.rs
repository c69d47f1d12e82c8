use corpus_core::schema::names;
use std::sync::Arc;

use arrow::array::{Int64Array, StringArray, UInt64Array};
use arrow::compute::interleave_record_batch;
use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;
use corpus_core::schema::table_schema;
use corpus_core::table::column;
use corpus_core::{Error, Result};

/// A bucket's mixture rows in shuffle order, without a sorted copy of the bucket: the order is
/// computed from the keys, and the rows are gathered a slice at a time (so a shard costs the
/// bucket's own memory once, not three times).
pub struct SortedBucket<'a> {
    batches: &'a [RecordBatch],
    /// (batch, row) of each output row, in order.
    order: Vec<(usize, usize)>,
    /// The `shards` columns' positions in the mixture schema.
    projection: Vec<usize>,
    shards: Arc<Schema>,
}

impl SortedBucket<'_> {
    pub fn num_rows(&self) -> usize {
        self.order.len()
    }

    /// Rows `offset..offset + len` of the shard, as `shards` rows.
    pub fn slice(&self, offset: usize, len: usize) -> Result<RecordBatch> {
        let end = (offset + len).min(self.order.len());
        let refs: Vec<&RecordBatch> = self.batches.iter().collect();
        let rows = interleave_record_batch(&refs, &self.order[offset.min(end)..end])
            .map_err(|e| Error::arrow("gather shard rows", e))?;
        let columns = self
            .projection
            .iter()
            .map(|i| rows.column(*i).clone())
            .collect();
        RecordBatch::try_new(self.shards.clone(), columns)
            .map_err(|e| Error::arrow("build shard batch", e))
    }
}

/// Mixture rows of one bucket → `shards` rows in shuffle order (by key, then sample id, then
/// repeat).
pub fn sort_bucket(batches: &[RecordBatch]) -> Result<SortedBucket<'_>> {
    let mixture =
        table_schema(names::MIXTURE).ok_or_else(|| Error::Internal("no mixture".into()))?;
    let shards = table_schema(names::SHARDS).ok_or_else(|| Error::Internal("no shards".into()))?;
    let projection = shards
        .fields()
        .iter()
        .map(|f| {
            mixture
                .index_of(f.name())
                .map_err(|_| Error::Input(format!("mixture has no column {}", f.name())))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut keyed = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for (b, batch) in batches.iter().enumerate() {
        let keys = column::<UInt64Array>(batch, "shuffle_key")?;
        let ids = column::<StringArray>(batch, "sample_id")?;
        let repeats = column::<Int64Array>(batch, "repeat_index")?;
        for row in 0..batch.num_rows() {
            keyed.push((keys.value(row), ids.value(row), repeats.value(row), b, row));
        }
    }
    keyed.sort_unstable();
    Ok(SortedBucket {
        batches,
        order: keyed.into_iter().map(|(_, _, _, b, r)| (b, r)).collect(),
        projection,
        shards: Arc::new(shards.as_ref().clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use corpus_core::rows::TokenRow;

    /// A row of a bucket: the sort reads its key, id and repeat; the text shows where it went.
    fn row(id: &str, key: u64, repeat: i64) -> TokenRow {
        TokenRow {
            sample_id: id.into(),
            text: id.into(),
            input_ids: vec![1, 151643],
            n_tokens: 2,
            repeat_index: repeat,
            shuffle_key: key,
            ..TokenRow::default()
        }
    }

    #[test]
    fn sorts_by_key_then_id_then_repeat_across_batches() {
        let a = TokenRow::table_batch("mixture", &[row("x", 9, 0), row("y", 3, 1)]).expect("a");
        let b = TokenRow::table_batch("mixture", &[row("y", 3, 0), row("w", 5, 0)]).expect("b");
        let batches = [a, b];
        let sorted = sort_bucket(&batches).expect("sort");
        assert_eq!(sorted.num_rows(), 4);
        let all = sorted.slice(0, 4).expect("slice");
        assert!(all.column_by_name("shuffle_key").is_none());
        let rows = TokenRow::from_batch(&all).expect("rows");
        let order: Vec<(&str, i64)> = rows
            .iter()
            .map(|r| (r.sample_id.as_str(), r.repeat_index))
            .collect();
        assert_eq!(order, vec![("y", 0), ("y", 1), ("w", 0), ("x", 0)]);
        // Slices are the same rows a piece at a time.
        let tail = TokenRow::from_batch(&sorted.slice(2, 9).expect("tail")).expect("rows");
        assert_eq!(tail.len(), 2);
        assert_eq!(tail[0].sample_id, "w");
    }
}
