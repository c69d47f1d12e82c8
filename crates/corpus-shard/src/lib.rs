//! corpus-shard: turning one bucket of the mixture into a shard, and counting a shard's
//! tokens for its manifest.
//!
//! A bucket is a key range of the shuffle, so a shard is its rows sorted by
//! (shuffle key, sample id, repeat index); the buckets in order are the global shuffle.

mod sort;
pub mod stage;
mod tokens;

pub use sort::{SortedBucket, sort_bucket};
pub use tokens::{PartTokens, part_tokens};
