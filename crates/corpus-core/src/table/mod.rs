//! Parquet tables: a directory of parts plus `_manifest.json`.

mod keyed;
mod reader;
mod writer;

pub use keyed::KeyedTable;
pub use reader::{
    column, for_each_batch, for_each_batch_columns, for_each_table_batch,
    for_each_table_batch_columns, table_parts,
};
pub use writer::{PartWriter, WriterOptions, clear_parts};
