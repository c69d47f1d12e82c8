use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, Int64Array, StringArray};
use corpus_core::table::for_each_batch_columns;
use corpus_core::{Error, Result};

/// Tokens of one shard file, in all and per (source, split).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartTokens {
    pub total: u64,
    pub rows: u64,
    pub per_source: BTreeMap<(String, String), u64>,
}

/// Count a shard file's tokens from its `n_tokens`, and check them against its `input_ids`
/// lengths (a shard whose counts disagree with its ids is damaged).
pub fn part_tokens(path: &Path) -> Result<PartTokens> {
    let mut out = PartTokens::default();
    let columns = ["n_tokens", "source", "split", "input_ids"];
    for_each_batch_columns(path, &columns, 4096, |batch| {
        let get = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| Error::Input(format!("{}: no column {name}", path.display())))
        };
        let n_tokens = get("n_tokens")?
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| Error::Input("n_tokens is not int64".into()))?
            .clone();
        let source = get("source")?
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| Error::Input("source is not a string".into()))?
            .clone();
        let split = get("split")?
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| Error::Input("split is not a string".into()))?
            .clone();
        let ids = get("input_ids")?
            .as_any()
            .downcast_ref::<arrow::array::ListArray>()
            .ok_or_else(|| Error::Input("input_ids is not a list".into()))?
            .clone();
        for row in 0..batch.num_rows() {
            let n = n_tokens.value(row);
            if ids.value_length(row) as i64 != n {
                return Err(Error::Input(format!(
                    "{}: row {} has n_tokens {n} but {} input_ids",
                    path.display(),
                    out.rows,
                    ids.value_length(row)
                )));
            }
            out.total += n as u64;
            out.rows += 1;
            *out.per_source
                .entry((source.value(row).to_string(), split.value(row).to_string()))
                .or_default() += n as u64;
        }
        Ok(())
    })?;
    Ok(out)
}
