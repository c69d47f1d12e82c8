//! corpus-stage: the contract between the runner and the stages.
//!
//! A stage ([`stage::Stage`]) lists its work units, turns one unit into rows of its output
//! tables ([`stage::UnitOutput`]) and fingerprints its configuration and inputs
//! ([`stage::InputsBuilder`]). The runner (corpus-runner) schedules the units, keeps their
//! rows until the barrier and writes the tables; the stages live in their domain crates and
//! depend on this crate and `corpus-core`, never on each other or on the runner.
//!
//! - [`run_dir`]: the run directory's layout.
//! - [`error`]: [`StageError`], what a stage or the runner reports.
//! - [`fault`]: the runner's fault-injection points, for the crash tests.
//! - [`disk`]: sizes on disk.
//! - [`spill`]: records spilled to an unnamed scratch file and read back by key.

pub mod disk;
pub mod error;
pub mod fault;
pub mod run_dir;
pub mod spill;
pub mod stage;

pub use error::{Result, StageError};
