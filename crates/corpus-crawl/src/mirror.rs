//! Bare mirrors of crawled repositories, with `refs/pull/*/head` so the commits of a
//! squash-merged PR stay reachable. The `git` command does the transfer: it brings the
//! system's TLS and credential helpers (our git2 is built without TLS), and the token never
//! goes into a URL or a config file.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{CrawlError, Result};

/// The folder of `repo`'s mirror under `dir` (`owner+name.git`).
pub fn mirror_path(dir: &Path, repo: &str) -> PathBuf {
    dir.join(format!("{}.git", repo.replace('/', "+")))
}

const REFSPECS: &[&str] = &[
    "+refs/heads/*:refs/heads/*",
    "+refs/tags/*:refs/tags/*",
    "+refs/pull/*/head:refs/pull/*/head",
];

fn git(args: &[&str], cwd: Option<&Path>, repo: &str) -> Result<()> {
    let mut cmd = Command::new("git");
    cmd.args(args).env("GIT_TERMINAL_PROMPT", "0");
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let out = cmd.output().map_err(|e| CrawlError::Mirror {
        repo: repo.to_string(),
        message: format!("run git: {e}"),
    })?;
    if !out.status.success() {
        return Err(CrawlError::Mirror {
            repo: repo.to_string(),
            message: format!(
                "git {}: {}",
                args.first().copied().unwrap_or(""),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(())
}

/// Clone (or update) the bare mirror of `repo` from `url`; the default branch becomes HEAD.
/// A new mirror is fetched into a temporary folder and renamed into place, so a killed
/// clone never looks complete.
pub fn update_mirror(
    dir: &Path,
    repo: &str,
    url: &str,
    default_branch: Option<&str>,
) -> Result<PathBuf> {
    let dest = mirror_path(dir, repo);
    let io = |e: std::io::Error, p: &Path| CrawlError::Mirror {
        repo: repo.to_string(),
        message: format!("{}: {e}", p.display()),
    };
    let work = if dest.exists() {
        dest.clone()
    } else {
        std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
        let tmp = dir.join(format!(
            ".{}.tmp{}",
            repo.replace('/', "+"),
            std::process::id()
        ));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| io(e, &tmp))?;
        }
        let tmp_s = tmp.to_string_lossy().to_string();
        git(&["init", "--bare", "--quiet", &tmp_s], None, repo)?;
        git(&["remote", "add", "origin", url], Some(&tmp), repo)?;
        tmp
    };
    let mut args = vec!["fetch", "--quiet", "--prune", "origin"];
    args.extend(REFSPECS);
    git(&args, Some(&work), repo)?;
    if let Some(branch) = default_branch {
        let head = format!("refs/heads/{branch}");
        git(&["symbolic-ref", "HEAD", &head], Some(&work), repo)?;
    }
    if work != dest {
        std::fs::rename(&work, &dest).map_err(|e| io(e, &dest))?;
    }
    Ok(dest)
}
