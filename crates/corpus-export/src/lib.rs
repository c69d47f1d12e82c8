//! corpus-export: the shards in the formats training loaders read, each with its loss mask
//! aligned the way that loader expects (`docs/loaders.md`), plus our own reader of each
//! format that checks every document against the shards.
//!
//! - [`Format`]: `megatron`, `megatron-bridge`, `olmo`, `datatrove`, `hf`.
//! - [`export`]: one output per shard (parallel), written under temporary names and renamed,
//!   then `_manifest.json` with per-file checksums: a folder without it is not an export.
//! - [`begin`], [`export_shard`], [`finish`]: the same in steps, for the runner's `export`
//!   stage (one unit per format and shard, so cluster tasks share the work).
//! - [`check`]: read an export back with our readers and compare with the shards.

mod card;
mod document;
mod error;
mod formats;
mod id_pages;
mod levels;
mod manifest;
mod pack;
mod run;
pub mod stage;

pub use document::{Document, for_each_document, shard_files};
pub use error::ExportError;
pub use formats::{Format, native_mask};
pub use manifest::{ExportFile, ExportManifest};
pub use pack::{Pack, pack_documents};
pub use run::{
    Begun, CheckReport, ExportOptions, begin, check, export, export_shard, finish, is_complete,
};
