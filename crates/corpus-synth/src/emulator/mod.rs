//! The agent's tools answered from a [`Snapshot`]: what the real tool would print, byte for
//! byte, for the calls a trajectory makes. The repository sits at `root` (for example
//! `/testbed`) and shell commands run there.
//!
//! - [`editor`]: SWE-agent's `str_replace_editor` (`view`, `create`, `str_replace`, `insert`).
//! - [`bash`]: a read-only shell subset: `cat -n`, `sed -n 'A,Bp'`, `head`, `wc -l`, `ls`,
//!   `find PATH -name GLOB`, `grep -rn PATTERN [PATH]`.
//!
//! Directory listings and search hits come in byte order of their paths: what the real tools
//! print under `LC_ALL=C` once sorted (their own order follows the file system).

pub mod bash;
pub mod editor;
pub mod pattern;
pub mod windowed;

use crate::snapshot::{Kind, Snapshot};

pub struct Emulator<'r> {
    pub snapshot: Snapshot<'r>,
    /// Where the repository is mounted, e.g. `/testbed` (no trailing `/`).
    pub root: String,
}

/// A path as the tools see it: relative to the repository root (empty for the root), or
/// outside the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Inside(String),
    Outside,
}

impl<'r> Emulator<'r> {
    pub fn new(snapshot: Snapshot<'r>, root: &str) -> Self {
        Self {
            snapshot,
            root: root.trim_end_matches('/').to_string(),
        }
    }

    /// Resolve a path argument (absolute, or relative to the root where commands run),
    /// folding `.` and `..` the way the kernel does for existing directories.
    pub fn resolve(&self, arg: &str) -> Resolved {
        let relative = if let Some(rest) = arg.strip_prefix(&self.root) {
            if !(rest.is_empty() || rest.starts_with('/')) {
                return Resolved::Outside;
            }
            rest.to_string()
        } else if arg.starts_with('/') {
            return Resolved::Outside;
        } else {
            format!("/{arg}")
        };
        let mut parts: Vec<&str> = Vec::new();
        for part in relative.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Resolved::Outside;
                    }
                }
                p => parts.push(p),
            }
        }
        Resolved::Inside(parts.join("/"))
    }

    /// What a path argument names inside the repository, if anything.
    pub fn kind_of(&self, arg: &str) -> Option<(String, Kind)> {
        match self.resolve(arg) {
            Resolved::Inside(path) => self.snapshot.kind(&path).map(|k| (path, k)),
            Resolved::Outside => None,
        }
    }
}
