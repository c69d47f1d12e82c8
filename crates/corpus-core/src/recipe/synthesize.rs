//! The recipe's `[synthesize]` section: synthetic agent trajectories from the run's PRs.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthesizeOptions {
    /// Run the stage (off by default: it reads every PR's objects again).
    pub enabled: bool,
    /// Distinct trajectories per PR (search term, distractors and phrasing differ).
    pub variants: u32,
    /// The share (0 to 1) of PRs whose agent trajectories are made; the others make none. A
    /// mix that needs fewer synthetic tokens than every PR gives sets it below 1 (`swe-corpus
    /// plan --project` says how far), so no work goes into trajectories the mix would leave out.
    #[serde(skip_serializing_if = "is_every_pr")]
    pub agentic_share: f64,
    /// The share (0 to 1) of PRs whose localization reasoning is made. The same PRs for any
    /// task count, and a larger share keeps every PR a smaller one chose.
    #[serde(skip_serializing_if = "is_every_pr")]
    pub reasoning_share: f64,
    /// `deterministic` (no model).
    pub engine: String,
    /// `swe_agent` (`str_replace_editor`, read-only `bash`, `submit`) or `kimi_dev`
    /// (windowed `open`, `search_dir`, ..., `str_replace`, `insert`, `stop`).
    pub tool_family: String,
    /// `swe_agent_xml` (`<function=...>` calls, `OBSERVATION:` turns), `qwen_tool_call`
    /// (Qwen2.5's `<tool_call>` JSON) or `kimi_dev_execute` (`<execute>tool(...)</execute>`).
    pub renderer: String,
    /// Where the repository sits in the agent's world.
    pub root: String,
    /// The model-backed engine's endpoint and sampling (`engine = "model"`).
    pub model: ModelOptions,
}

/// `[synthesize.model]`: an OpenAI-compatible chat endpoint (vLLM, SGLang, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelOptions {
    /// The API base, e.g. `http://127.0.0.1:8000/v1` (`/chat/completions` is appended).
    pub url: String,
    /// The served model's name.
    pub model: String,
    /// The environment variable holding the API key (sent as a bearer token; never logged
    /// or stored). Unset is fine for a local server.
    pub api_key_env: String,
    pub temperature: f64,
    pub top_p: f64,
    /// Tokens a reply may generate.
    pub max_tokens: u32,
    /// Requests in flight at once (per task).
    pub concurrency: usize,
    /// `explorer` (agent trajectories: model exploration, then the templated edits) and
    /// `reasoner` (localization reasoning), each kept only under the rules of docs/synthetic.md.
    pub roles: Vec<crate::identity::ModelRole>,
    /// Replies an exploration may take before it is dropped (`model_no_answer`).
    pub max_turns: u32,
    /// Badly formed replies an exploration may take (`model_format_errors`).
    pub max_format_errors: u32,
    /// Files the explorer may name.
    pub max_files: usize,
    pub timeout_secs: u64,
    /// Retries of a 429, a 5xx, a timeout, a closed connection or malformed JSON.
    pub max_retries: u32,
    pub retry_base_ms: u64,
    /// Where replies are kept, keyed by a hash of the whole request, so a rerun or a resume
    /// sends nothing twice (default: `RUN/cache/model`).
    pub cache: String,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            url: String::new(),
            model: String::new(),
            api_key_env: "OPENAI_API_KEY".into(),
            temperature: 0.7,
            top_p: 0.95,
            max_tokens: 2048,
            concurrency: 8,
            roles: crate::identity::ModelRole::ALL.to_vec(),
            max_turns: 12,
            max_format_errors: 3,
            max_files: 3,
            timeout_secs: 300,
            max_retries: 6,
            retry_base_ms: 1000,
            cache: String::new(),
        }
    }
}

impl Default for SynthesizeOptions {
    fn default() -> Self {
        Self {
            enabled: false,
            variants: 1,
            agentic_share: 1.0,
            reasoning_share: 1.0,
            engine: "deterministic".into(),
            tool_family: "swe_agent".into(),
            renderer: "swe_agent_xml".into(),
            root: "/testbed".into(),
            model: ModelOptions::default(),
        }
    }
}

/// A share of 1 (every PR) is left out of the serialized section, so recipes written before
/// the shares existed keep their fingerprint.
fn is_every_pr(share: &f64) -> bool {
    *share >= 1.0
}

pub fn semantic_errors(s: &SynthesizeOptions) -> Vec<String> {
    let mut errors = Vec::new();
    if s.variants == 0 {
        errors.push("[synthesize] variants must be at least 1".into());
    }
    for (key, share) in [
        ("agentic_share", s.agentic_share),
        ("reasoning_share", s.reasoning_share),
    ] {
        if !(0.0..=1.0).contains(&share) {
            errors.push(format!(
                "[synthesize] {key} must be a share of the PRs from 0 to 1, not {share}"
            ));
        }
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
        let readme = include_str!("../../../../README.md");
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
        bad.model.roles = Vec::new();
        bad.model.top_p = 2.0;
        let errors = super::semantic_errors(&bad).join("\n");
        for expected in ["url must be", "model must name", "roles must name", "top_p"] {
            assert!(errors.contains(expected), "{expected}: {errors}");
        }
        // A role that is not one is refused where the recipe is read, naming the roles.
        let unknown = Recipe::parse(
            "name = \"x\"\n[inputs]\ndemo = true\n[synthesize.model]\nroles = [\"critic\"]\n",
            "README",
            std::path::Path::new("."),
        )
        .expect_err("critic is no role");
        assert!(
            unknown
                .to_string()
                .contains("`critic` is not one of: explorer, reasoner"),
            "{unknown}"
        );
    }

    #[test]
    fn shares_are_checked_and_a_whole_share_keeps_the_fingerprint() {
        let every = super::SynthesizeOptions::default();
        let text = serde_json::to_string(&every).expect("serializes");
        assert!(!text.contains("share"), "{text}");
        let mut part = every.clone();
        part.agentic_share = 0.05;
        assert!(
            serde_json::to_string(&part)
                .expect("serializes")
                .contains("\"agentic_share\":0.05")
        );
        assert_ne!(Recipe::section_hash(&every), Recipe::section_hash(&part));
        assert!(super::semantic_errors(&part).is_empty());
        part.agentic_share = 1.5;
        part.reasoning_share = f64::NAN;
        let errors = super::semantic_errors(&part).join("\n");
        assert!(
            errors.contains("agentic_share must be a share of the PRs from 0 to 1, not 1.5"),
            "{errors}"
        );
        assert!(
            errors.contains("reasoning_share must be a share"),
            "{errors}"
        );
    }
}
