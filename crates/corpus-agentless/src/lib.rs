//! corpus-agentless: Agentless-format samples and commit-pack documents from extracted PRs.
//!
//! - [`search_replace`]: exact diff-to-SEARCH/REPLACE conversion, its parser and applier.
//! - [`samples`]: the four Agentless samples of a PR ([`samples::render_pr`]).
//! - [`packs`]: commit packs and main-line commit documents.
//! - [`structure`]: the repository structure of localization prompts.
//! - [`templates`]: the prompt templates (files a user can replace).
//! - [`prose`]: trailers, e-mails and handles out of human text.
//!
//! ```
//! use corpus_agentless::search_replace::{apply_file, file_blocks};
//! let before = "def f():\n    return 1\n";
//! let after = "def f():\n    return 2\n";
//! let blocks = file_blocks("f.py", before, after).unwrap();
//! assert_eq!(apply_file(before, &blocks).unwrap(), after);
//! ```

pub mod packs;
pub mod prompt_inputs;
pub mod prose;
pub mod rules;
pub mod samples;
pub mod search_replace;
pub mod stage;
pub mod structure;
pub mod templates;
