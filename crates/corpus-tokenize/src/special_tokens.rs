//! Added-token strings of the Qwen tokenizers (docs/conventions.md, "Tokens and loss masks"): content holding one
//! is dropped where text is rendered (`special_token_in_content`), so template markers are
//! the only added tokens in any sample.

/// Qwen2.5's added tokens, ids 151643 to 151664.
pub const QWEN2_5_ADDED: &[&str] = &[
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
];

/// Qwen3's four further added tokens, ids 151665 to 151668.
pub const QWEN3_EXTRA: &[&str] = &["<tool_response>", "</tool_response>", "<think>", "</think>"];

/// The first added-token string found in `text`, if any.
pub fn find_added_token<'a>(text: &str, tokens: &[&'a str]) -> Option<&'a str> {
    if !text.contains('<') {
        return None;
    }
    tokens.iter().find(|t| text.contains(**t)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tokens() {
        assert_eq!(QWEN2_5_ADDED.len(), 22);
        assert_eq!(
            find_added_token("a <|endoftext|> b", QWEN2_5_ADDED),
            Some("<|endoftext|>")
        );
        assert_eq!(find_added_token("a < b", QWEN2_5_ADDED), None);
    }
}
