//! The chat interface the model-backed synthesis engine speaks: messages in, the assistant's
//! text out. The engine sees only this trait; [`super::client`] speaks it over HTTP.

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub role: &'static str,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: "system",
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: "user",
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: "assistant",
            content: content.into(),
        }
    }
}

/// Why a chat request gave no reply (after the client's retries). Never holds a key.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("model endpoint {url}: HTTP {status} after {attempts} attempts: {body}")]
    Status {
        url: String,
        status: u16,
        attempts: u32,
        body: String,
    },
    #[error(
        "model endpoint {url}: HTTP {status}: {body} (not retried; check the url, the model name and the key in ${key_env})"
    )]
    Refused {
        url: String,
        status: u16,
        body: String,
        key_env: String,
    },
    #[error("model endpoint {url}: {detail} after {attempts} attempts")]
    Transport {
        url: String,
        detail: String,
        attempts: u32,
    },
    #[error("model endpoint {url}: malformed reply after {attempts} attempts: {detail}")]
    Malformed {
        url: String,
        detail: String,
        attempts: u32,
    },
    #[error("model cache {path}: {detail}")]
    Cache { path: String, detail: String },
    #[error("template {0}")]
    Template(String),
}

/// An endpoint's reply: the assistant's text and the tokens it generated (the reply's
/// `usage.completion_tokens`, 0 when the endpoint does not say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub completion_tokens: u64,
}

/// A chat endpoint: the assistant's reply to `messages`, sampled with `seed`.
pub trait Chat: Sync {
    fn complete(&self, messages: &[Message], seed: u64) -> Result<Completion, ChatError>;
}
