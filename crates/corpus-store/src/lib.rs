//! corpus-store: run directories on object storage (`--run s3://bucket/prefix`).
//!
//! A run on a store is worked on through a scratch copy on the node's disk
//! ([`remote::RemoteRun`]): commands pull what they read, stages run on the copy as on a
//! local run, and the runner publishes each commit point (a unit, a stage's tables, the
//! report) with the same order a local run keeps, manifests last and conditional. `sql`
//! reads a store's tables in place through DataFusion ([`location::RemoteUrl`] names the
//! store it registers).

pub mod error;
pub mod location;
pub mod open;
pub mod remote;
pub mod state;

pub use error::{Result, StoreError};
pub use location::{RemoteUrl, RunLocation};
pub use remote::{RemoteRun, Scope, Transfer};
