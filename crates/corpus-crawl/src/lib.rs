//! corpus-crawl: the crate that touches the network: the GitHub crawl, and the chat client
//! of the model-backed synthesis engine.
//!
//! - [`client`]: GET through the response cache, rate limits, token rotation, retries.
//! - [`github`]: one repository's metadata, merged PRs and linked issues as rows.
//! - [`discover`]: every repository a search matches, in slices of at most 1,000;
//!   [`repo_lists`] the lists users bring (GH Archive event files, CSV exports).
//! - [`mirror`]: bare mirrors with `refs/pull/*/head`.
//! - [`links`]: `Link` headers, times, closing keywords.
//! - [`chat`]: an OpenAI-compatible chat client (retries, reply cache by request hash).
//!
//! The mock servers its tests use live in the `corpus-testkit` crate.

pub mod client;
pub use corpus_core::days;
pub mod discover;
pub mod error;
pub mod github;
pub mod links;
pub mod mirror;
pub mod mirror_budget;
pub mod repo_lists;
pub mod stage;
pub mod tokens;

pub use client::{Client, ClientOptions, ClientStats};
pub use discover::{DiscoverStats, Discovered, discover};
pub use error::{CrawlError, Result};
pub use github::{
    CrawlSettings, ExtraTexts, LostLink, MirrorSource, RepoCrawl, RepoCrawlStats, Skipped,
    canonical_name, crawl_repo, crawl_repo_with,
};
pub use tokens::Tokens;
