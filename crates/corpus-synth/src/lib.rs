//! corpus-synth: synthetic agent interactions from real PRs (stage `synthesize`).
//!
//! - [`snapshot`]: a repository tree at a commit, read from git objects (no checkout), with
//!   the edits a trajectory made on top.
//! - [`emulator`]: the agent's tools answered from a snapshot, byte for byte as the real tools
//!   print them: SWE-agent's `str_replace_editor` and a read-only `bash` subset (`cat -n`,
//!   `sed -n 'A,Bp'`, `head`, `wc -l`, `ls`, `find -name`, `grep -rn`).

pub mod emulator;
pub mod snapshot;

pub use emulator::Emulator;
pub use snapshot::Snapshot;

/// What can go wrong reading a repository.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}
