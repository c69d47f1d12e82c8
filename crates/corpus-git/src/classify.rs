//! What a path or a blob is: path rules live in `corpus_core::paths` (formatting needs them
//! too); the content rule that needs the bytes lives here.

pub use corpus_core::paths::{is_test, language, skip_by_path};

/// Git's binary heuristic: a NUL byte in the first 8000 bytes.
pub fn looks_binary(bytes: &[u8]) -> bool {
    bytes.iter().take(8000).any(|b| *b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_means_binary() {
        assert!(looks_binary(b"PNG\0\x01"));
        assert!(!looks_binary("café\n".as_bytes()));
        let mut late = vec![b'a'; 9000];
        late.push(0);
        assert!(
            !looks_binary(&late),
            "git only looks at the first 8000 bytes"
        );
    }
}
