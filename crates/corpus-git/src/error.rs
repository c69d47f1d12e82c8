use corpus_core::drop_reason::DropReason;
use std::path::PathBuf;

/// Why a repository could not be read. Each names the repository and carries a stable
/// `reason` code for `drops`.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path}: not a git repository ({message})")]
    NotARepository { path: PathBuf, message: String },
    #[error(
        "{repo}: shallow clone: root commits and PR boundaries need full history (run `git fetch --unshallow` in {path})"
    )]
    Shallow { repo: String, path: PathBuf },
    #[error("{repo}: empty repository (no commits) at {path}")]
    Empty { repo: String, path: PathBuf },
    #[error(
        "{repo}: HEAD is detached and no default branch is known: name it in the recipe (`branch = \"main\"`) ({path})"
    )]
    DetachedHead { repo: String, path: PathBuf },
    #[error("{repo}: branch `{branch}` not found in {path}")]
    NoSuchBranch {
        repo: String,
        path: PathBuf,
        branch: String,
    },
    #[error(
        "{path}: cannot tell the repository's name: give it in the recipe (`{{ name = \"owner/name\", path = ... }}`), add an origin remote, or name the folder owner+name"
    )]
    NoName { path: PathBuf },
    #[error("{repo}: corrupt or missing object: {message}")]
    Corrupt { repo: String, message: String },
    #[error("{repo}: {message}")]
    Other { repo: String, message: String },
    #[error(transparent)]
    Core(#[from] corpus_core::Error),
}

impl GitError {
    /// The `drops.reason` code of a repository that could not be extracted.
    pub fn reason(&self) -> DropReason {
        match self {
            GitError::NotARepository { .. } => DropReason::NotARepository,
            GitError::Shallow { .. } => DropReason::ShallowClone,
            GitError::Empty { .. } => DropReason::EmptyRepository,
            GitError::DetachedHead { .. } => DropReason::DetachedHead,
            GitError::NoSuchBranch { .. } => DropReason::NoSuchBranch,
            GitError::NoName { .. } => DropReason::NoRepositoryName,
            GitError::Corrupt { .. } => DropReason::CorruptRepository,
            GitError::Other { .. } | GitError::Core(_) => DropReason::RepositoryError,
        }
    }

    /// A git2 error met while reading `repo`: corrupt objects get their own kind.
    pub fn from_git(repo: &str, e: git2::Error) -> Self {
        let corrupt = matches!(
            e.class(),
            git2::ErrorClass::Odb | git2::ErrorClass::Object | git2::ErrorClass::Zlib
        ) || matches!(e.code(), git2::ErrorCode::NotFound);
        if corrupt {
            GitError::Corrupt {
                repo: repo.to_string(),
                message: e.message().to_string(),
            }
        } else {
            GitError::Other {
                repo: repo.to_string(),
                message: e.message().to_string(),
            }
        }
    }
}

pub type Result<T, E = GitError> = std::result::Result<T, E>;
