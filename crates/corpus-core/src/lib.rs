//! corpus-core: what every stage shares.
//!
//! - [`schema`]: the Arrow schema of every table ([`schema::table_schema`]).
//! - [`table`]: the Parquet part writer ([`table::PartWriter`]) and readers.
//! - [`manifest`]: `_manifest.json` ([`manifest::Manifest`]).
//! - [`recipe`]: the TOML recipe ([`recipe::Recipe`]).
//! - [`rows`]: row structs and their Arrow builders ([`rows::DropRow`], ...).
//! - [`repo_name`], [`hash`], [`error`], [`version`].
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
pub mod error;
pub mod fault;
pub mod hash;
pub mod license;
pub mod manifest;
pub mod memory;
pub mod paths;
pub mod recipe;
pub mod recipe_crawl;
pub mod recipe_export;
pub mod recipe_ingest;
pub mod recipe_synth;
pub mod recipe_tokens;
pub mod repo_name;
pub mod rows;
pub mod schema;
pub mod secrets;
pub mod special_tokens;
pub mod spill;
pub mod table;
pub mod version;

pub use error::{Error, ErrorKind, Result};
