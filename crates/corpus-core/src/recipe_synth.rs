//! The recipe's `[synthesize]` section: synthetic agent trajectories from the run's PRs.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthesizeOptions {
    /// Run the stage (off by default: it reads every PR's objects again).
    #[serde(default)]
    pub enabled: bool,
    /// Distinct trajectories per PR (search term, distractors and phrasing differ).
    #[serde(default = "default_variants")]
    pub variants: u32,
    /// `deterministic` (no model).
    #[serde(default = "default_engine")]
    pub engine: String,
    /// `swe_agent` (`str_replace_editor`, read-only `bash`, `submit`) or `kimi_dev`
    /// (windowed `open`, `search_dir`, ..., `str_replace`, `insert`, `stop`).
    #[serde(default = "default_family")]
    pub tool_family: String,
    /// `swe_agent_xml` (`<function=...>` calls, `OBSERVATION:` turns), `qwen_tool_call`
    /// (Qwen2.5's `<tool_call>` JSON) or `kimi_dev_execute` (`<execute>tool(...)</execute>`).
    #[serde(default = "default_renderer")]
    pub renderer: String,
    /// Where the repository sits in the agent's world.
    #[serde(default = "default_root")]
    pub root: String,
}

fn default_variants() -> u32 {
    1
}
fn default_engine() -> String {
    "deterministic".into()
}
fn default_family() -> String {
    "swe_agent".into()
}
fn default_renderer() -> String {
    "swe_agent_xml".into()
}
fn default_root() -> String {
    "/testbed".into()
}

impl Default for SynthesizeOptions {
    fn default() -> Self {
        Self {
            enabled: false,
            variants: default_variants(),
            engine: default_engine(),
            tool_family: default_family(),
            renderer: default_renderer(),
            root: default_root(),
        }
    }
}

pub fn semantic_errors(s: &SynthesizeOptions) -> Vec<String> {
    let mut errors = Vec::new();
    if s.variants == 0 {
        errors.push("[synthesize] variants must be at least 1".into());
    }
    for (key, value, known) in [
        ("engine", &s.engine, &["deterministic"][..]),
        (
            "tool_family",
            &s.tool_family,
            &["swe_agent", "kimi_dev"][..],
        ),
        (
            "renderer",
            &s.renderer,
            &["swe_agent_xml", "qwen_tool_call", "kimi_dev_execute"][..],
        ),
    ] {
        if !known.contains(&value.as_str()) {
            errors.push(format!(
                "[synthesize] {key} `{value}` is not available in this version (available: {})",
                known.join(", ")
            ));
        }
    }
    if !s.root.starts_with('/') || s.root.len() < 2 {
        errors.push("[synthesize] root must be an absolute path such as /testbed".into());
    }
    errors
}
