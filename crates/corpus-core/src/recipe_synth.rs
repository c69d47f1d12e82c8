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
    /// The model-backed engine's endpoint and sampling (`engine = "model"`).
    #[serde(default)]
    pub model: ModelOptions,
}

/// `[synthesize.model]`: an OpenAI-compatible chat endpoint (vLLM, SGLang, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelOptions {
    /// The API base, e.g. `http://127.0.0.1:8000/v1` (`/chat/completions` is appended).
    #[serde(default)]
    pub url: String,
    /// The served model's name.
    #[serde(default)]
    pub model: String,
    /// The environment variable holding the API key (sent as a bearer token; never logged
    /// or stored). Unset is fine for a local server.
    #[serde(default = "default_key_env")]
    pub api_key_env: String,
    #[serde(default = "default_temperature")]
    pub temperature: f64,
    #[serde(default = "default_top_p")]
    pub top_p: f64,
    /// Tokens a reply may generate.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
    /// Requests in flight at once (per task).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// `explorer` (agent trajectories: model exploration, then the templated edits) and
    /// `reasoner` (localization reasoning), each kept only under the rules of docs/synthetic.md.
    #[serde(default = "default_roles")]
    pub roles: Vec<String>,
    /// Replies an exploration may take before it is dropped (`model_no_answer`).
    #[serde(default = "default_max_turns")]
    pub max_turns: u32,
    /// Badly formed replies an exploration may take (`model_format_errors`).
    #[serde(default = "default_max_format_errors")]
    pub max_format_errors: u32,
    /// Files the explorer may name.
    #[serde(default = "default_max_files")]
    pub max_files: usize,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Retries of a 429, a 5xx, a timeout, a closed connection or malformed JSON.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    #[serde(default = "default_retry_base_ms")]
    pub retry_base_ms: u64,
    /// Where replies are kept, keyed by a hash of the whole request, so a rerun or a resume
    /// sends nothing twice (default: `RUN/cache/model`).
    #[serde(default)]
    pub cache: String,
}

fn default_key_env() -> String {
    "OPENAI_API_KEY".into()
}
fn default_temperature() -> f64 {
    0.7
}
fn default_top_p() -> f64 {
    0.95
}
fn default_max_tokens() -> u32 {
    2048
}
fn default_concurrency() -> usize {
    8
}
fn default_roles() -> Vec<String> {
    vec!["explorer".into(), "reasoner".into()]
}
fn default_max_turns() -> u32 {
    12
}
fn default_max_format_errors() -> u32 {
    3
}
fn default_max_files() -> usize {
    3
}
fn default_timeout() -> u64 {
    300
}
fn default_max_retries() -> u32 {
    6
}
fn default_retry_base_ms() -> u64 {
    1000
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            url: String::new(),
            model: String::new(),
            api_key_env: default_key_env(),
            temperature: default_temperature(),
            top_p: default_top_p(),
            max_tokens: default_max_tokens(),
            concurrency: default_concurrency(),
            roles: default_roles(),
            max_turns: default_max_turns(),
            max_format_errors: default_max_format_errors(),
            max_files: default_max_files(),
            timeout_secs: default_timeout(),
            max_retries: default_max_retries(),
            retry_base_ms: default_retry_base_ms(),
            cache: String::new(),
        }
    }
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
            model: ModelOptions::default(),
        }
    }
}

pub fn semantic_errors(s: &SynthesizeOptions) -> Vec<String> {
    let mut errors = Vec::new();
    if s.variants == 0 {
        errors.push("[synthesize] variants must be at least 1".into());
    }
    for (key, value, known) in [
        ("engine", &s.engine, &["deterministic", "model"][..]),
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
    if s.engine == "model" {
        let m = &s.model;
        if !(m.url.starts_with("http://") || m.url.starts_with("https://")) {
            errors.push(
                "[synthesize.model] url must be an http:// or https:// API base, such as http://127.0.0.1:8000/v1"
                    .into(),
            );
        }
        if m.model.trim().is_empty() {
            errors.push("[synthesize.model] model must name the served model".into());
        }
        if m.concurrency == 0 || m.max_turns == 0 || m.max_files == 0 || m.max_tokens == 0 {
            errors.push(
                "[synthesize.model] concurrency, max_turns, max_files and max_tokens must be at least 1"
                    .into(),
            );
        }
        if !(0.0..=2.0).contains(&m.temperature) || !(0.0..=1.0).contains(&m.top_p) {
            errors
                .push("[synthesize.model] temperature must be in 0..=2 and top_p in 0..=1".into());
        }
        if m.roles.is_empty() {
            errors.push("[synthesize.model] roles must name explorer, reasoner or both".into());
        }
        for role in &m.roles {
            if role != "explorer" && role != "reasoner" {
                errors.push(format!(
                    "[synthesize.model] role `{role}` is unknown (explorer, reasoner)"
                ));
            }
        }
    }
    if !s.root.starts_with('/') || s.root.len() < 2 {
        errors.push("[synthesize] root must be an absolute path such as /testbed".into());
    }
    errors
}

#[cfg(test)]
mod tests {
    use crate::recipe::Recipe;

    /// The README's model-engine example is a valid recipe; bad model settings are named.
    #[test]
    fn the_readme_model_example_parses_and_bad_settings_are_named() {
        let readme = include_str!("../../../README.md");
        let block = readme
            .split("```toml\n")
            .skip(1)
            .filter_map(|b| b.split("```").next())
            .find(|b| b.contains("[synthesize.model]"))
            .expect("a [synthesize.model] example in the README");
        let recipe = Recipe::parse(
            &format!("name = \"x\"\n[inputs]\ndemo = true\n{block}"),
            "README",
            std::path::Path::new("."),
        )
        .expect("the README example parses");
        assert_eq!(recipe.synthesize.engine, "model");
        assert_eq!(recipe.synthesize.model.concurrency, 64);
        let errors = super::semantic_errors(&recipe.synthesize);
        assert!(errors.is_empty(), "{errors:?}");
        let mut bad = recipe.synthesize.clone();
        bad.model.url = "127.0.0.1:8000".into();
        bad.model.model = String::new();
        bad.model.roles = vec!["critic".into()];
        bad.model.top_p = 2.0;
        let errors = super::semantic_errors(&bad).join("\n");
        for expected in ["url must be", "model must name", "role `critic`", "top_p"] {
            assert!(errors.contains(expected), "{expected}: {errors}");
        }
    }
}
