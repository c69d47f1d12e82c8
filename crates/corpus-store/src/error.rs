//! What can go wrong with a run directory on object storage. Messages name the run by its
//! redacted URL (scheme, bucket, prefix): never a key, a token or a signed query.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A run URL that cannot be used as given.
    #[error("{0}")]
    Config(String),
    /// The store refused or failed a request after the retries.
    #[error("{action} {what}: {message}")]
    Request {
        action: &'static str,
        what: String,
        message: String,
    },
    /// Another writer committed a different file under the same name first.
    #[error(
        "{0} was committed by another writer with different contents: two runs are writing the same run directory"
    )]
    Conflict(String),
    #[error(transparent)]
    Core(#[from] corpus_core::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

impl StoreError {
    /// A failed request; the object store's message names the object's path and the HTTP
    /// status, which carry no credential (requests are signed in headers, never in the URL
    /// of a message).
    pub(crate) fn request(action: &'static str, what: &str, e: object_store::Error) -> Self {
        let text = e.to_string();
        if text.contains("NoSuchBucket") {
            return Self::Config(format!(
                "{action} {what}: the bucket does not exist; create it first (for example \
                 `aws s3 mb`), swe-corpus never creates buckets"
            ));
        }
        Self::Request {
            action,
            what: what.to_string(),
            message: crate::location::redact(&e.to_string()),
        }
    }
}

impl From<StoreError> for corpus_stage::StageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Config(message) => corpus_stage::StageError::Usage(message),
            StoreError::Core(e) => e.into(),
            other => corpus_stage::StageError::Store(other.to_string()),
        }
    }
}
