use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TokenizeError {
    #[error(
        "tokenizer `{name}` not found (looked in {looked}); run `just setup` \
         (scripts/fetch-tokenizer.sh), or set [tokenize] tokenizer to the path of a tokenizer.json"
    )]
    Missing { name: String, looked: String },
    #[error("tokenizer file {path} does not exist")]
    MissingFile { path: PathBuf },
    #[error(
        "tokenizer `{name}` at {path} has sha256 {found}, expected {expected}: \
         the file is damaged or another one; rerun scripts/fetch-tokenizer.sh"
    )]
    WrongHash {
        name: String,
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("tokenizer {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error("encode: {0}")]
    Encode(String),
}

impl From<TokenizeError> for corpus_core::Error {
    fn from(e: TokenizeError) -> Self {
        match e {
            TokenizeError::Encode(_) => corpus_core::Error::Internal(e.to_string()),
            _ => corpus_core::Error::Config(e.to_string()),
        }
    }
}

/// A stage that reads the tokenizer reports its errors as the core error would (a missing or
/// damaged tokenizer is the user's configuration).
impl From<TokenizeError> for corpus_stage::StageError {
    fn from(e: TokenizeError) -> Self {
        corpus_stage::StageError::Core(e.into())
    }
}
