//! The tool's version and the git commit it was built from (manifests record both).

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const GIT_COMMIT: &str = env!("SWE_CORPUS_GIT_COMMIT");
/// `0.1.0 (abcdef012345)`, as `--version` prints it.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("SWE_CORPUS_GIT_COMMIT"),
    ")"
);
