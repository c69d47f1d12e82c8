//! corpus-testkit: servers on 127.0.0.1 that the tests and benchmarks talk to instead of the
//! network. A dev- and bench-dependency only: nothing in the product links it.
//!
//! - [`github`]: a mock GitHub REST and GraphQL API ([`github::MockGitHub`]): pagination,
//!   ETags, rate limits per token, renames, and scripted faults.
//! - [`model`]: a scripted OpenAI-compatible chat endpoint ([`model::MockModel`]).
//! - [`http`]: the accept loop and request reader both share.

pub mod github;
pub mod http;
pub mod model;
