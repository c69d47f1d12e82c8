//! The error of the stage contract: what a stage or the runner reports. A domain crate's own
//! error comes in through `From` (implemented next to that error), so `?` works in a stage.

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error(transparent)]
    Core(#[from] corpus_core::Error),
    /// The command line or the selection asks for something that cannot be done: exit 2.
    #[error("{0}")]
    Usage(String),
    #[error("stage {stage}: {message}")]
    Stage { stage: String, message: String },
    /// The object store holding the run directory failed a request after its retries.
    #[error("run directory on object storage: {0}")]
    Store(String),
}

impl StageError {
    pub fn stage(stage: &str, message: impl Into<String>) -> Self {
        StageError::Stage {
            stage: stage.to_string(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = StageError> = std::result::Result<T, E>;
