//! corpus-core: the foundation every crate shares. A helper only one crate uses lives in
//! that crate, not here.
//!
//! - [`schema`]: the Arrow schema of every table ([`schema::table_schema`]).
//! - [`rows`]: the row struct of every table, declared once with [`table_rows!`] (its codec).
//! - [`table`]: the Parquet part writer ([`table::PartWriter`]) and readers.
//! - [`manifest`]: `_manifest.json` ([`manifest::Manifest`]) and [`certificate`], the
//!   decontamination certificate the shards carry.
//! - [`recipe`]: the TOML recipe ([`recipe::Recipe`]), a file per section in `recipe/`.
//! - [`benchmark`]: the benchmark registry (`data/decontam/benchmarks/`).
//! - [`crawl_cache`]: the crawl's response cache (written by the crawl and by the demo).
//! - [`repo_name`], [`paths`], [`secrets`], [`days`], [`hash`], [`memory`], [`error`],
//!   [`fault`], [`version`].
//!
//! ```no_run
//! use corpus_core::{recipe::Recipe, schema::table_schema};
//! let recipe = Recipe::demo().unwrap();
//! let patches = table_schema("patches").unwrap();
//! assert_eq!(recipe.name, "demo");
//! assert!(patches.field_with_name("diff").is_ok());
//! ```

pub mod benchmark;
pub mod certificate;
pub mod crawl_cache;
pub mod days;
pub mod drop_reason;
pub mod error;
pub mod fault;
pub mod hash;
pub mod identity;
pub mod manifest;
pub mod memory;
pub mod paths;
pub mod recipe;
pub mod repo_name;
pub mod rows;
pub mod schema;
pub mod secrets;
pub mod table;
pub mod version;

pub use error::{Error, ErrorKind, Result};
