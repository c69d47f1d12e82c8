//! corpus-tokenize: finding the recipe's tokenizer and encoding samples with it, exactly as
//! HF `tokenizers` does (docs/conventions.md, "Tokens and loss masks").
//!
//! - [`locate`]: the recipe's `tokenizer` (`qwen2.5`, `qwen3` or a path) to a checked file.
//! - [`Encoder`]: `input_ids = encode(prompt) + encode(response) + [<|endoftext|>]`.

mod added_tokens;
pub mod drop_tokens;
mod encoder;
mod error;
mod locate;
pub mod special_tokens;
pub mod stage;

pub use added_tokens::AddedTokens;
pub use encoder::{Encoder, added_tokens_of_file, added_tokens_of_recipe};
pub use error::TokenizeError;
pub use locate::{QWEN2_5_SHA256, QWEN3_SHA256, TokenizerFile, locate, sha256_file};

/// The fingerprint input naming the tokenizer a stage's token counts come from (`name:sha256`,
/// or `unavailable`).
pub const TOKENIZER_INPUT: &str = "tokenizer";
