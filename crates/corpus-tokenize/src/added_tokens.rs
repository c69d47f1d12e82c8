//! The tokenizer's added tokens as needles: a sample whose text holds one would be read as
//! that control token, so the stages that write text drop it. Every text is searched for all
//! of them in one pass.

use aho_corasick::AhoCorasick;

/// The added tokens, in the tokenizer's order, with one automaton that finds any of them.
pub struct AddedTokens {
    tokens: Vec<String>,
    /// None when there are no tokens, or too many to compile (then searched one by one).
    finder: Option<AhoCorasick>,
}

impl AddedTokens {
    pub fn new(tokens: Vec<String>) -> Self {
        let finder = (!tokens.is_empty())
            .then(|| AhoCorasick::new(&tokens).ok())
            .flatten();
        Self { tokens, finder }
    }

    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// The first token in the tokenizer's order that `text` holds (the one a drop names).
    pub fn first_in(&self, text: &str) -> Option<&str> {
        let index = match &self.finder {
            Some(finder) => finder
                .find_overlapping_iter(text)
                .map(|m| m.pattern().as_usize())
                .min(),
            None => self.tokens.iter().position(|t| text.contains(t.as_str())),
        };
        index.map(|i| self.tokens[i].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_by_one<'a>(tokens: &'a [String], text: &str) -> Option<&'a str> {
        tokens
            .iter()
            .find(|t| text.contains(t.as_str()))
            .map(String::as_str)
    }

    #[test]
    fn finds_the_first_token_in_the_tokenizers_order_as_a_search_one_by_one_does() {
        let lists: [&[&str]; 3] = [
            &[
                "<|endoftext|>",
                "<|im_start|>",
                "<|im_end|>",
                "<think>",
                "</think>",
            ],
            // Overlapping and nested tokens: the later-listed one occurs first in the text.
            &["<|im_start|>", "<|im", "im_", "<"],
            &[],
        ];
        let texts = [
            "",
            "plain text",
            "a <think> b <|im_end|>",
            "x <|im_start|> y",
            "<|im",
            "no end <|endoftext",
            "<|endoftext|><|endoftext|>",
        ];
        for list in lists {
            let tokens: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            let added = AddedTokens::new(tokens.clone());
            for text in texts {
                assert_eq!(
                    added.first_in(text),
                    one_by_one(&tokens, text),
                    "{list:?} {text:?}"
                );
            }
        }
    }
}
