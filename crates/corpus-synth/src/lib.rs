//! corpus-synth: synthetic agent interactions from real PRs (stage `synthesize`).
//!
//! - [`snapshot`]: a repository tree at a commit, read from git objects (no checkout), with
//!   the edits a trajectory made on top.
//! - [`emulator`]: the agent's tools answered from a snapshot, byte for byte as the real tools
//!   print them: SWE-agent's `str_replace_editor` and a read-only `bash` subset (`cat -n`,
//!   `sed -n 'A,Bp'`, `head`, `wc -l`, `ls`, `find -name`, `grep -rn`), and the `kimi_dev`
//!   family's windowed tools.
//! - [`engine`]: the deterministic engine: explore with the problem's words, reject real
//!   distractors, replay the PR's commits exactly; [`leak`] checks it never uses the answer.
//! - [`trajectory`]: the canonical record; [`render`] turns it into training text.

pub mod blob_cache;
pub mod change_memo;
pub mod edit_memo;
pub mod emulator;
pub mod engine;
pub mod json;
pub mod leak;
pub mod model;
pub mod reasoning;
pub mod render;
pub mod replay_memo;
pub mod snapshot;
pub mod stage;
pub mod tools;
pub mod trajectory;
pub mod trigram_index;

pub use emulator::Emulator;
/// The repository type the engine reads (callers open mirrors with [`open_repository`]).
pub use git2::Repository;

/// Open a mirror for reading. Objects are read without re-hashing each one, as `git` reads
/// them: libgit2's default check (SHA-1 with collision detection on every blob) was a third
/// of the stage's time; a damaged object still fails to inflate or parse.
pub fn open_repository(path: impl AsRef<std::path::Path>) -> Result<Repository, SynthError> {
    git2::opts::strict_hash_verification(false);
    Ok(Repository::open(path)?)
}
pub use snapshot::Snapshot;

/// What can go wrong reading a repository.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}
