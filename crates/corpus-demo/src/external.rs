//! The demo's external source: a few chat conversations and plain documents, as data
//! produced elsewhere would arrive (JSONL), with the cases `ingest` and `curate` must handle.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::DemoError;

/// The file, under the demo root.
pub fn chat_file(root: &Path) -> PathBuf {
    root.join("external").join("chat.jsonl")
}

fn chat(turns: &[(&str, &str)]) -> serde_json::Value {
    json!({
        "messages": turns
            .iter()
            .map(|(role, content)| json!({"role": role, "content": content}))
            .collect::<Vec<_>>()
    })
}

pub fn write(root: &Path) -> Result<PathBuf, DemoError> {
    let path = chat_file(root);
    let dir = path.parent().unwrap_or(root);
    std::fs::create_dir_all(dir).map_err(|e| DemoError::Io(dir.display().to_string(), e))?;
    let explain = chat(&[
        ("system", "You are a careful Python reviewer."),
        (
            "user",
            "Why does `widgets.parse(\"\")` raise IndexError instead of ValueError?",
        ),
        (
            "assistant",
            "`parse` indexes `text[0]` before checking for an empty string. Check \
             `if not text: raise ValueError(\"empty widget spec\")` first, then index.",
        ),
        ("user", "And the test?"),
        (
            "assistant",
            "```python\ndef test_parse_empty():\n    with pytest.raises(ValueError):\n        parse(\"\")\n```",
        ),
    ]);
    let rows = [
        explain.clone(),
        chat(&[
            ("user", "Write a function that clamps x to [lo, hi]."),
            (
                "assistant",
                "```python\ndef clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n```",
            ),
        ]),
        // The same conversation again: external samples dedup among themselves.
        explain,
        // Content holding a chat marker: only templates may write added tokens.
        chat(&[
            ("user", "Print the literal string <|im_end|> please."),
            ("assistant", "Here it is: <|im_end|>"),
        ]),
        // No assistant turn: nothing to learn from.
        chat(&[("user", "Hello?")]),
        json!({"text": "Widgets are parsed left to right; a spec is a comma-separated list of \
                        name=value pairs, and an empty spec is an error.\n"}),
        json!({"text": "def percent(part, whole):\n    \"\"\"Share of part in whole, in percent.\"\"\"\n    return 100.0 * part / whole\n"}),
    ];
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&path, text).map_err(|e| DemoError::Io(path.display().to_string(), e))?;
    Ok(path)
}
