//! Encoding with HF `tokenizers` 1.0 (pinned; the parity suite guards its ids against Python
//! `tokenizers`): the fastest exact encoder measured here (`just bench` prints the ratios).

use std::path::Path;

use corpus_core::recipe::TokenizeOptions;
use serde::Deserialize;
use tokenizers::pipeline::{EncodeOptions, PipelineToken, PipelineTokenizer};

use crate::error::TokenizeError;
use crate::locate::TokenizerFile;

/// The end-of-document token every sample ends with.
pub const EOD: &str = "<|endoftext|>";

pub struct Encoder {
    inner: PipelineTokenizer,
    options: EncodeOptions,
    eod: u32,
    added: Vec<String>,
    pub file: TokenizerFile,
}

#[derive(Deserialize)]
struct AddedTokens {
    added_tokens: Vec<AddedToken>,
}

#[derive(Deserialize)]
struct AddedToken {
    id: u32,
    content: String,
}

fn added_tokens(path: &Path, text: &str) -> Result<Vec<AddedToken>, TokenizeError> {
    let parsed: AddedTokens = serde_json::from_str(text).map_err(|e| TokenizeError::Load {
        path: path.to_path_buf(),
        message: format!("not a tokenizer.json with added_tokens: {e}"),
    })?;
    Ok(parsed.added_tokens)
}

/// The added-token strings of a tokenizer.json.
pub fn added_tokens_of_file(path: &Path) -> Result<Vec<String>, TokenizeError> {
    let text = std::fs::read_to_string(path).map_err(|e| TokenizeError::Load {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(added_tokens(path, &text)?
        .into_iter()
        .map(|t| t.content)
        .collect())
}

/// The added-token strings of the recipe's tokenizer, for the content check of the stages
/// that render text. The Qwen lists are built in (a test holds them equal to the files), so
/// those stages do not need the file; a tokenizer given by path is read.
pub fn added_tokens_of_recipe(options: &TokenizeOptions) -> Result<Vec<String>, TokenizeError> {
    use crate::special_tokens::{QWEN2_5_ADDED, QWEN3_EXTRA};
    let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match options.tokenizer.as_str() {
        "qwen2.5" => Ok(owned(QWEN2_5_ADDED)),
        "qwen3" => Ok([owned(QWEN2_5_ADDED), owned(QWEN3_EXTRA)].concat()),
        _ => added_tokens_of_file(&crate::locate(options)?.path),
    }
}

impl Encoder {
    /// Load a located tokenizer file (a `1.0` file is first brought to the canonical form).
    pub fn load(file: TokenizerFile) -> Result<Self, TokenizeError> {
        let load = |message: String| TokenizeError::Load {
            path: file.path.clone(),
            message,
        };
        let text = std::fs::read_to_string(&file.path).map_err(|e| load(e.to_string()))?;
        let added = added_tokens(&file.path, &text)?;
        let eod = added
            .iter()
            .find(|t| t.content == EOD)
            .map(|t| t.id)
            .ok_or_else(|| load(format!("it has no {EOD} added token")))?;
        let canonical = tokenizers::canonicalize_str(&text).map_err(|e| load(e.to_string()))?;
        let inner = tokenizers::from_json(&canonical).map_err(|e| load(e.to_string()))?;
        Ok(Self {
            inner,
            options: EncodeOptions::no_specials(),
            eod,
            added: added.into_iter().map(|t| t.content).collect(),
            file,
        })
    }

    /// Locate the recipe's tokenizer and load it.
    pub fn for_recipe(options: &TokenizeOptions) -> Result<Self, TokenizeError> {
        Self::load(crate::locate(options)?)
    }

    pub fn eod(&self) -> u32 {
        self.eod
    }

    pub fn added_tokens(&self) -> &[String] {
        &self.added
    }

    /// Append the ids of `text` (added tokens in it match as HF matches them by default).
    pub fn encode_into(&self, text: &str, out: &mut Vec<u32>) -> Result<(), TokenizeError> {
        let mut tokens: Vec<PipelineToken> = Vec::with_capacity(text.len() / 3 + 1);
        self.inner
            .encode_into(text, &self.options, &mut tokens)
            .map_err(|e| TokenizeError::Encode(e.to_string()))?;
        out.extend(tokens.into_iter().map(PipelineToken::id));
        Ok(())
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizeError> {
        let mut out = Vec::new();
        self.encode_into(text, &mut out)?;
        Ok(out)
    }

    /// `encode(prompt) + encode(response) + [EOD]` and the prompt's length in tokens.
    pub fn encode_sample(
        &self,
        prompt: &str,
        response: &str,
    ) -> Result<(Vec<u32>, usize), TokenizeError> {
        let mut ids = Vec::with_capacity((prompt.len() + response.len()) / 3 + 2);
        self.encode_into(prompt, &mut ids)?;
        let prompt_tokens = ids.len();
        self.encode_into(response, &mut ids)?;
        ids.push(self.eod);
        Ok((ids, prompt_tokens))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The setup-fetched tokenizer; absent outside a set-up checkout (CI always sets up).
    fn encoder(name: &str) -> Option<Encoder> {
        let options = TokenizeOptions {
            tokenizer: name.into(),
            ..Default::default()
        };
        match Encoder::for_recipe(&options) {
            Ok(e) => Some(e),
            Err(e) if std::env::var_os("CI").is_some() => panic!("CI must have the tokenizer: {e}"),
            Err(e) => {
                eprintln!("skipped: {e}");
                None
            }
        }
    }

    #[test]
    fn ids_match_python_tokenizers_on_known_strings() {
        let Some(qwen25) = encoder("qwen2.5") else {
            return;
        };
        // Expected ids from Python `tokenizers` 0.23.3 on the same file.
        let cases: &[(&str, &[u32])] = &[
            (
                "def f(x):\n    return x\n",
                &[750, 282, 2075, 982, 262, 470, 856, 198],
            ),
            ("a<|endoftext|>b", &[64, 151643, 65]),
            ("<think>", &[13708, 766, 29]),
            (
                "café\r\n\r\n  1234",
                &[924, 58858, 871, 220, 220, 16, 17, 18, 19],
            ),
        ];
        for (text, ids) in cases {
            assert_eq!(qwen25.encode(text).expect("encode"), *ids, "{text:?}");
        }
        let (ids, prompt) = qwen25.encode_sample("a", "b").expect("sample");
        assert_eq!((ids, prompt), (vec![64, 65, 151643], 1));
        let Some(qwen3) = encoder("qwen3") else {
            return;
        };
        assert_eq!(qwen3.encode("<think>").expect("encode"), vec![151667]);
    }

    #[test]
    fn built_in_added_token_lists_equal_the_files() {
        for name in ["qwen2.5", "qwen3"] {
            let Some(encoder) = encoder(name) else {
                return;
            };
            let options = TokenizeOptions {
                tokenizer: name.into(),
                ..Default::default()
            };
            assert_eq!(
                added_tokens_of_recipe(&options).expect("list"),
                encoder.added_tokens(),
                "{name}"
            );
        }
    }

    #[test]
    fn a_file_that_is_not_a_tokenizer_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tokenizer.json");
        std::fs::write(&path, "{\"version\": \"1.0\"}").expect("write");
        let file = TokenizerFile {
            name: "x".into(),
            path: path.clone(),
            sha256: String::new(),
        };
        let err = Encoder::load(file).err().expect("error");
        assert!(err.to_string().contains("added_tokens"), "{err}");
    }
}
