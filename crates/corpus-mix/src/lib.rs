//! corpus-mix: the token budget and the deterministic mixture.
//!
//! - [`plan`]: per source, available tokens → repeat factor → planned tokens, with the
//!   shortfall where the data cannot meet the budget under the repeat cap.
//! - [`shuffle`]: how many copies of a sample the plan gives it, and each copy's place in the
//!   seeded global shuffle (a 64-bit key; buckets are key ranges, so sorting each bucket and
//!   concatenating the buckets in order is a global sort that never holds the corpus).

pub mod plan;
pub mod shuffle;
pub mod stage;

pub use plan::{Available, Plan, PlanRow, SourceStatus, make_plan, readable_count};
pub use shuffle::{bucket_of, buckets_for, copies, shuffle_key};
