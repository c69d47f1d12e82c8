use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Int64Array, ListArray, StringArray};
use corpus_core::table::{column, for_each_batch_columns};
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
        let n_tokens = column::<Int64Array>(&batch, "n_tokens")?;
        let source = column::<StringArray>(&batch, "source")?;
        let split = column::<StringArray>(&batch, "split")?;
        let ids = column::<ListArray>(&batch, "input_ids")?;
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
