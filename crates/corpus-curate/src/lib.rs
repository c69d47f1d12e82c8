//! corpus-curate: quality rules, secret detection and deduplication of samples.
//!
//! - [`quality`]: per-sample and per-PR rules, each a `drops` reason.
//! - [`secrets`]: credential patterns and a high-entropy check ([`secrets::find_secrets`]),
//!   re-exported from `corpus-core`.
//! - [`dedup`]: what dedup compares of a PR; [`dedup_barrier`]: exact and MinHash LSH
//!   deduplication of every PR of a run within a memory budget, spilling to disk.
//!
//! ```
//! let found = corpus_curate::secrets::find_secrets("key = 'AKIAIOSFODNN7EXAMPLE'");
//! assert_eq!(found[0].kind, "aws_access_key_id");
//! ```

pub mod dedup;
pub mod dedup_barrier;
pub mod minhash;
pub mod quality;
pub mod sorter;
pub mod stage;
/// Credential detection lives in `corpus-core` (rendering scrubs prose with it too).
pub use corpus_core::secrets;
