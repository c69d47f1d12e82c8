//! One error type for the library crates, with the kinds DataFusion uses: what went wrong
//! decides how the CLI reports it, not which crate it came from.

/// What kind of failure this is: the user's configuration, the input data, the machine's
/// resources, or a bug of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Config,
    Input,
    Resource,
    Internal,
}

// The underlying errors are shown in the message, not chained as sources, so reports that
// print the whole chain do not repeat them.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Input(String),
    #[error("{context}: {error}")]
    Io {
        context: String,
        error: std::io::Error,
    },
    #[error("{context}: {error}")]
    Parquet {
        context: String,
        error: parquet::errors::ParquetError,
    },
    #[error("{context}: {error}")]
    Arrow {
        context: String,
        error: arrow::error::ArrowError,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) => ErrorKind::Config,
            Error::Input(_) | Error::Parquet { .. } => ErrorKind::Input,
            Error::Io { .. } => ErrorKind::Resource,
            Error::Arrow { .. } | Error::Internal(_) => ErrorKind::Internal,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            error: source,
        }
    }

    pub fn io_path(action: &str, path: &std::path::Path, source: std::io::Error) -> Self {
        Error::io(format!("{action} {}", path.display()), source)
    }

    pub fn parquet(context: impl Into<String>, source: parquet::errors::ParquetError) -> Self {
        Error::Parquet {
            context: context.into(),
            error: source,
        }
    }

    pub fn arrow(context: impl Into<String>, source: arrow::error::ArrowError) -> Self {
        Error::Arrow {
            context: context.into(),
            error: source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attach a path to an io::Result in one call.
pub trait IoContext<T> {
    fn at(self, action: &str, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, action: &str, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| Error::io_path(action, path, e))
    }
}
