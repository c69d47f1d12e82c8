//! corpus-crawl: the crate that touches the network: the GitHub crawl, and the chat client
//! of the model-backed synthesis engine.
//!
//! - [`client`]: GET through the response cache, rate limits, token rotation, retries.
//! - [`github`]: one repository's metadata, merged PRs and linked issues as rows.
//! - [`mirror`]: bare mirrors with `refs/pull/*/head`.
//! - [`links`]: `Link` headers, times, closing keywords.
//! - [`mock`]: a mock GitHub API on 127.0.0.1 for tests and benchmarks.
//! - [`chat`]: an OpenAI-compatible chat client (retries, reply cache by request hash);
//!   [`mock_model`] a scripted endpoint on 127.0.0.1; [`mock_http`] what both mocks share.

pub mod chat;
pub mod client;
pub mod error;
pub mod github;
pub mod links;
pub mod mirror;
pub mod mock;
pub mod mock_http;
pub mod mock_model;
pub mod tokens;

pub use client::{Client, ClientOptions, ClientStats};
pub use error::{CrawlError, Result};
pub use github::{
    CrawlSettings, ExtraTexts, LostLink, RepoCrawl, RepoCrawlStats, Skipped, canonical_name,
    crawl_repo, crawl_repo_with, search_repos,
};
pub use tokens::Tokens;
