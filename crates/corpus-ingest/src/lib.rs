//! corpus-ingest: external sample sources (the recipe's `[[ingest.sources]]`: JSONL or
//! Parquet files of chat records or prompt/response pairs) rendered as samples
//! (`external_samples`), checked like the samples the pipeline makes.
//!
//! - [`stage`]: the `ingest` stage; its readers ([`stage`]'s `read`) and the renderer of
//!   chat turns and templates ([`stage`]'s `render`).

pub mod stage;
