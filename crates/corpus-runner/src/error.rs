#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Core(#[from] corpus_core::Error),
    #[error(transparent)]
    Git(#[from] corpus_git::GitError),
    #[error("{0}")]
    Usage(String),
    #[error("stage {stage}: {message}")]
    Stage { stage: String, message: String },
}

impl RunnerError {
    pub fn stage(stage: &str, message: impl Into<String>) -> Self {
        RunnerError::Stage {
            stage: stage.to_string(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = RunnerError> = std::result::Result<T, E>;
