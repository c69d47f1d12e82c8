//! Opening a repository the recipe names: its identity, its default branch, and the checks
//! that make later work safe (not shallow, not empty, a branch to walk).

use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use corpus_core::repo_name;

use crate::error::{GitError, Result};

/// A repository as the recipe lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSpec {
    pub path: PathBuf,
    pub name: Option<String>,
    pub branch: Option<String>,
}

/// An opened, checked repository.
pub struct OpenRepo {
    pub repo: Repository,
    pub name: String,
    pub path: PathBuf,
    /// Short name of the default branch (`main`).
    pub branch: String,
    pub head: Oid,
}

fn open_any(path: &Path) -> Result<Repository> {
    // NO_SEARCH: a folder inside another repository must not silently open the outer one.
    Repository::open_ext(
        path,
        git2::RepositoryOpenFlags::NO_SEARCH,
        std::iter::empty::<&str>(),
    )
    .map_err(|e| GitError::NotARepository {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
}

/// The `owner/name` of a repository: recipe name, else origin URL, else folder name.
pub fn resolve_name(spec: &RepoSpec) -> Result<String> {
    if let Some(name) = &spec.name {
        return repo_name::normalize(name).ok_or_else(|| GitError::NoName {
            path: spec.path.clone(),
        });
    }
    if let Ok(repo) = open_any(&spec.path)
        && let Ok(remote) = repo.find_remote("origin")
        && let Some(name) = remote.url().ok().and_then(repo_name::from_remote_url)
    {
        return Ok(name);
    }
    let folder = spec
        .path
        .canonicalize()
        .unwrap_or_else(|_| spec.path.clone());
    let folder = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let folder = if folder == ".git" {
        spec.path
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        folder
    };
    repo_name::from_folder(&folder).ok_or_else(|| GitError::NoName {
        path: spec.path.clone(),
    })
}

/// Open and check a repository for extraction.
pub fn open(spec: &RepoSpec, name: &str) -> Result<OpenRepo> {
    let repo = open_any(&spec.path)?;
    if repo.is_shallow() {
        return Err(GitError::Shallow {
            repo: name.to_string(),
            path: spec.path.clone(),
        });
    }
    if repo.is_empty().unwrap_or(false) {
        return Err(GitError::Empty {
            repo: name.to_string(),
            path: spec.path.clone(),
        });
    }
    let branch = match &spec.branch {
        Some(b) => b.clone(),
        None => default_branch(&repo).ok_or_else(|| GitError::DetachedHead {
            repo: name.to_string(),
            path: spec.path.clone(),
        })?,
    };
    let head = branch_tip(&repo, &branch).ok_or_else(|| GitError::NoSuchBranch {
        repo: name.to_string(),
        path: spec.path.clone(),
        branch: branch.clone(),
    })?;
    Ok(OpenRepo {
        repo,
        name: name.to_string(),
        path: spec.path.clone(),
        branch,
        head,
    })
}

/// HEAD's branch, or for a detached HEAD the branch `origin/HEAD` points at.
fn default_branch(repo: &Repository) -> Option<String> {
    if let Ok(head) = repo.find_reference("HEAD")
        && let Ok(Some(target)) = head.symbolic_target()
        && let Some(short) = target.strip_prefix("refs/heads/")
    {
        return Some(short.to_string());
    }
    let origin = repo.find_reference("refs/remotes/origin/HEAD").ok()?;
    let target = origin.symbolic_target().ok()??;
    target
        .strip_prefix("refs/remotes/origin/")
        .map(str::to_string)
}

fn branch_tip(repo: &Repository, branch: &str) -> Option<Oid> {
    [
        format!("refs/heads/{branch}"),
        format!("refs/remotes/origin/{branch}"),
    ]
    .iter()
    .find_map(|r| repo.refname_to_id(r).ok())
}

/// Every parentless commit reachable from `head`, sorted (the repository's fingerprint).
pub fn root_commits(repo: &Repository, head: Oid, name: &str) -> Result<Vec<String>> {
    let mut walk = repo.revwalk().map_err(|e| GitError::from_git(name, e))?;
    walk.push(head).map_err(|e| GitError::from_git(name, e))?;
    let mut roots = Vec::new();
    for oid in walk {
        let oid = oid.map_err(|e| GitError::from_git(name, e))?;
        let commit = repo
            .find_commit(oid)
            .map_err(|e| GitError::from_git(name, e))?;
        if commit.parent_count() == 0 {
            roots.push(oid.to_string());
        }
    }
    roots.sort();
    Ok(roots)
}
