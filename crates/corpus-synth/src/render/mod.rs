//! Renderers: a [`Trajectory`] as training text in ChatML turns. The prompt is the system
//! turn only (Kimi-Dev masked the loss on the system prompt alone, so the model also learns
//! to predict observations); the response is the task, every assistant turn and every tool
//! result. Three call syntaxes over the same tool semantics (`docs/synthetic.md`):
//!
//! - [`swe_agent_xml`]: `<function=NAME>` with `<parameter=P>` lines; results as a user turn
//!   starting `OBSERVATION:`;
//! - [`qwen`]: Qwen2.5's chat template with tools (`# Tools`, `<tool_call>` JSON,
//!   `<tool_response>` in user turns);
//! - [`kimi_dev`]: `<execute>tool(arg=value)</execute>`, one call a turn after the reasoning.
//!
//! Every renderer refuses a trajectory whose text holds a chat or tool marker of any of
//! them: such text would read as markup (the trajectory is dropped, counted).

pub mod kimi_dev;
pub mod qwen;
pub mod swe_agent_xml;

use crate::json::Json;
use crate::tools::{ParamType, ToolFamily};
use crate::trajectory::{Action, Trajectory};

/// Text that would read as chat or tool markup inside a rendered sample.
pub const MARKERS: &[&str] = &[
    "<|im_start|>",
    "<|im_end|>",
    "<|endoftext|>",
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
    "<tools>",
    "</tools>",
    "<function=",
    "</function>",
    "<parameter=",
    "</parameter>",
    "<execute>",
    "</execute>",
    "OBSERVATION:",
];

/// The opening of every system turn.
pub const INTRO: &str = "You are a software engineering agent working in a code repository. You can call the functions below; each call runs in the repository and its output comes back as an observation. Nothing is executed besides these tools.";

/// A renderer, chosen in the recipe (`[synthesize] renderer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renderer {
    SweAgentXml,
    QwenToolCall,
    KimiDevExecute,
}

impl Renderer {
    pub const NAMES: &'static [&'static str] =
        &["swe_agent_xml", "qwen_tool_call", "kimi_dev_execute"];

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "swe_agent_xml" => Some(Self::SweAgentXml),
            "qwen_tool_call" => Some(Self::QwenToolCall),
            "kimi_dev_execute" => Some(Self::KimiDevExecute),
            _ => None,
        }
    }

    /// (prompt, response), or the marker that makes the text ambiguous.
    pub fn render(
        self,
        trajectory: &Trajectory,
        root: &str,
    ) -> Result<(String, String), &'static str> {
        check_markers(trajectory)?;
        let family = ToolFamily::parse(&trajectory.tool_family).unwrap_or(ToolFamily::SweAgent);
        Ok(match self {
            Self::SweAgentXml => swe_agent_xml::render(trajectory, family, root),
            Self::QwenToolCall => qwen::render(trajectory, family, root),
            Self::KimiDevExecute => kimi_dev::render(trajectory, family, root),
        })
    }
}

pub(crate) fn turn(role: &str, content: &str) -> String {
    format!("<|im_start|>{role}\n{content}<|im_end|>\n")
}

/// The response of the renderers that put one call in each assistant turn after the thought
/// (`swe_agent_xml`, `kimi_dev_execute`): the task, then per step the assistant turn and,
/// unless it finished, the tool's result as a user turn (`observation_prefix` first).
pub(crate) fn one_call_turns(
    trajectory: &Trajectory,
    family: ToolFamily,
    root: &str,
    call: impl Fn(&Action) -> String,
    observation_prefix: &str,
) -> String {
    let mut response = turn("user", &task(trajectory, root));
    for step in &trajectory.steps {
        let call = call(&step.action);
        let content = if step.thought.is_empty() {
            call
        } else {
            format!("{}\n\n{call}", step.thought.trim_end())
        };
        response.push_str(&turn("assistant", &content));
        if step.action.tool != family.finish_tool() {
            response.push_str(&turn(
                "user",
                &format!("{observation_prefix}{}", step.observation),
            ));
        }
    }
    response
}

/// The task turn.
pub fn task(trajectory: &Trajectory, root: &str) -> String {
    format!(
        "<uploaded_files>\n{root}\n</uploaded_files>\nThe repository is in {root}. Resolve this issue by editing its files:\n\n<issue>\n{}\n</issue>",
        trajectory.problem.trim()
    )
}

/// The first marker a piece of repository or human text holds, if any.
pub fn marker_in(text: &str) -> Option<&'static str> {
    // All markers in one pass (observations are long); the first in `MARKERS` order wins.
    static FINDER: std::sync::OnceLock<corpus_tokenize::AddedTokens> = std::sync::OnceLock::new();
    FINDER
        .get_or_init(|| {
            corpus_tokenize::AddedTokens::new(MARKERS.iter().map(|m| m.to_string()).collect())
        })
        .first_in(text)
}

/// Every piece of repository or human text in a trajectory (what a marker must not be in).
pub fn texts(trajectory: &Trajectory) -> impl Iterator<Item = &str> {
    std::iter::once(trajectory.problem.as_str()).chain(trajectory.steps.iter().flat_map(|step| {
        [step.thought.as_str(), step.observation.as_str()]
            .into_iter()
            .chain(step.action.arguments.iter().map(|(_, v)| v.as_str()))
    }))
}

/// The first marker anywhere in the trajectory's text.
pub fn check_markers(trajectory: &Trajectory) -> Result<(), &'static str> {
    match texts(trajectory).find_map(marker_in) {
        Some(marker) => Err(marker),
        None => Ok(()),
    }
}

/// An action's arguments as JSON, typed by the family's schema (text that does not parse as
/// its type stays a string).
pub fn typed_arguments(family: ToolFamily, action: &Action) -> Vec<(String, Json)> {
    let tool = family.tool(&action.tool);
    action
        .arguments
        .iter()
        .map(|(name, value)| {
            let ty = tool
                .and_then(|t| t.param(name))
                .map_or(ParamType::String, |p| p.ty);
            let typed = match ty {
                ParamType::Integer => value.trim().parse().ok().map(Json::Int),
                ParamType::IntegerArray => serde_json::from_str::<Vec<i64>>(value)
                    .ok()
                    .map(|v| Json::Arr(v.into_iter().map(Json::Int).collect())),
                ParamType::String => None,
            };
            (name.clone(), typed.unwrap_or_else(|| Json::str(value)))
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod fixture {
    use crate::trajectory::{Action, Phase, Step, ThoughtSource, Trajectory};

    fn step(thought: &str, source: ThoughtSource, action: Action, observation: &str) -> Step {
        Step {
            thought: thought.into(),
            thought_source: source,
            action,
            observation: observation.into(),
            observation_source: "emulator".into(),
            phase: Phase::Explore,
        }
    }

    /// A small trajectory of `family` whose first observation is `observation`.
    pub fn trajectory(family: &str, observation: &str) -> Trajectory {
        let steps = if family == "kimi_dev" {
            vec![
                step(
                    "Search.",
                    ThoughtSource::Template,
                    Action::new("search_dir", &[("search_term", "parse")]),
                    observation,
                ),
                step(
                    "Fix it",
                    ThoughtSource::CommitMessage,
                    Action::new(
                        "insert",
                        &[
                            ("path", "/testbed/x.py"),
                            ("insert_line", "3"),
                            ("new_str", "b = \"é\"\n"),
                        ],
                    ),
                    "edited\n",
                ),
                step("", ThoughtSource::Template, Action::new("stop", &[]), ""),
            ]
        } else {
            vec![
                step(
                    "Search.",
                    ThoughtSource::Template,
                    Action::new("bash", &[("command", "grep -rn parse .")]),
                    observation,
                ),
                step(
                    "Fix it",
                    ThoughtSource::CommitMessage,
                    Action::new(
                        "str_replace_editor",
                        &[
                            ("command", "str_replace"),
                            ("path", "/testbed/x.py"),
                            ("old_str", "a\n"),
                            ("new_str", "b\n"),
                        ],
                    ),
                    "edited\n",
                ),
                step("", ThoughtSource::Template, Action::new("submit", &[]), ""),
            ]
        };
        Trajectory {
            repo: "acme/widgets".into(),
            pr_number: 5,
            base_sha: "b".into(),
            variant: 0,
            engine: "deterministic".into(),
            seed: 1,
            tool_family: family.into(),
            problem: "parse fails".into(),
            steps,
            named_files: vec![],
            gold_files: vec![],
            distractor_files: vec![],
            final_patch: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_marker_in_list_order_is_named_wherever_it_stands() {
        let one_by_one = |text: &str| MARKERS.iter().find(|m| text.contains(*m)).copied();
        for text in [
            "plain text",
            "OBSERVATION: then <|im_start|>",
            "</tools> <tools> </tool_call>",
            "<function=f><parameter=x>",
            "<|endoftext|<|im_end|>",
            "",
        ] {
            assert_eq!(marker_in(text), one_by_one(text), "{text}");
        }
        assert_eq!(
            marker_in("x OBSERVATION: <|im_start|>"),
            Some("<|im_start|>")
        );
    }

    #[test]
    fn repository_text_with_chat_markers_is_refused_by_every_renderer() {
        for name in Renderer::NAMES {
            let renderer = Renderer::parse(name).expect("known");
            for (text, marker) in [
                ("x = '<|im_start|>'\n", "<|im_start|>"),
                ("s = '<tool_call>'\n", "<tool_call>"),
                ("<execute>ls</execute>\n", "<execute>"),
            ] {
                let t = fixture::trajectory("swe_agent", text);
                assert_eq!(
                    renderer.render(&t, "/testbed").err(),
                    Some(marker),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn arguments_are_typed_by_the_schema() {
        let action = Action::new(
            "str_replace_editor",
            &[
                ("command", "view"),
                ("view_range", "[3, 9]"),
                ("insert_line", "x"),
            ],
        );
        assert_eq!(
            Json::Obj(typed_arguments(ToolFamily::SweAgent, &action)).dumps(),
            r#"{"command": "view", "view_range": [3, 9], "insert_line": "x"}"#
        );
    }
}
