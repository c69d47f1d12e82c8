//! The model-backed engine: an OpenAI-compatible chat endpoint (vLLM, SGLang, ...) picks
//! thoughts and actions, the emulator answers every action (`docs/synthetic.md`).
//!
//! - Explorer: reads the repository with the family's read-only tools and names at most
//!   `max_files` files; kept when at least one is right. Then the templated stage 2: each
//!   wrongly named file is opened and rejected with a fact from it, and the PR's commits are
//!   replayed exactly as in the deterministic engine.
//! - Localization reasoner: answers `format`'s localization prompt; kept only when it names
//!   exactly the right files.
//!
//! The engine speaks to any [`Chat`] (corpus-crawl's HTTP client in a run, a script in a
//! test); [`parse`] reads replies.

pub mod chat;
pub mod client;
pub mod parse;

use corpus_agentless::templates::{ExplorerContext, TemplateError, Templates};
use corpus_core::drop_reason::DropReason;
use corpus_core::recipe::ModelOptions;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::model::chat::{Chat, ChatError, Message};
use parse::{Reply, parse_reply};

use crate::emulator::editor::EditorCall;
use crate::engine::{Drop, ROOT, Replay, finish, prepare};
use crate::render::swe_agent_xml::function_blocks;
use crate::snapshot::Kind;
use crate::tools::{Tool, ToolFamily};
use crate::trajectory::{Action, Phase, Step, ThoughtSource, Trajectory};

/// Every fixed word of the stage-2 text the model engine writes around the model's turns.
pub const STAGE2_WORDS: &str = "was among the files named let me check it has lines and \
    nothing there is about the problem so it needs no change is the file to change open does \
    not exist";

/// One reply of an exploration, once parsed and run.
enum Turn {
    Unusable(String),
    Read {
        thought: String,
        action: Action,
        observation: String,
    },
    Answer {
        thought: String,
        files: Vec<String>,
    },
}

/// What an engine call gives: a kept result or a counted drop; an endpoint failure (after
/// its retries) is an error that stops the unit.
pub type Rollout<T> = Result<Result<T, Drop>, ChatError>;

fn drop(reason: DropReason, detail: impl Into<String>) -> Drop {
    Drop {
        reason,
        detail: detail.into(),
    }
}

/// The tools an explorer may call: the family's reading tools.
pub fn read_only_tools(family: ToolFamily) -> Vec<&'static Tool> {
    family
        .tools()
        .iter()
        .filter(|t| match family {
            ToolFamily::SweAgent => matches!(t.name, "bash" | "str_replace_editor"),
            ToolFamily::KimiDev => matches!(
                t.name,
                "open"
                    | "goto"
                    | "scroll_down"
                    | "scroll_up"
                    | "search_dir"
                    | "search_file"
                    | "find_file"
            ),
        })
        .collect()
}

/// A shell word quoted for the emulator's parser.
fn quote(value: &str) -> String {
    if !value.contains('\'') {
        format!("'{value}'")
    } else {
        format!(
            "\"{}\"",
            value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('$', "\\$")
                .replace('`', "\\`")
        )
    }
}

pub struct ModelEngine<'a> {
    pub client: &'a dyn Chat,
    pub templates: &'a Templates,
    pub options: &'a ModelOptions,
}

impl ModelEngine<'_> {
    fn request_seed(seed: u64, variant: u32, role: &str) -> u64 {
        xxh3_64_with_seed(
            role.as_bytes(),
            seed ^ u64::from(variant).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ) % (1 << 31)
    }

    fn template(&self, name: &str, context: &ExplorerContext) -> Result<String, ChatError> {
        self.templates
            .synth(name, context)
            .map_err(|e: TemplateError| ChatError::Template(e.to_string()))
    }

    /// An agent trajectory of `pr`, variant `variant`.
    pub fn trajectory(&self, replay: &Replay) -> Rollout<Trajectory> {
        let Replay {
            pr,
            seed,
            variant,
            family,
            ..
        } = *replay;
        let mut p = match prepare(replay) {
            Ok(p) => p,
            Err(d) => return Ok(Err(d)),
        };
        p.b.guard.saw(STAGE2_WORDS);
        let tools = function_blocks(&read_only_tools(family));
        let context = ExplorerContext {
            problem_statement: pr.problem,
            root: ROOT,
            tools: tools.trim_start_matches('\n'),
            max_files: self.options.max_files,
        };
        let mut messages = vec![
            Message::system(self.template("explorer_system.jinja", &context)?),
            Message::user(self.template("explorer_task.jinja", &context)?),
        ];
        let request_seed = Self::request_seed(seed, variant, "explorer");
        let mut format_errors = 0;
        let mut answer = None;
        for _ in 0..self.options.max_turns {
            let reply = self.client.complete(&messages, request_seed)?.text;
            let turn = match parse_reply(&reply, family, ROOT, self.options.max_files) {
                Reply::Call { thought, action } => {
                    match self.run_read_only(&mut p.b, family, &action) {
                        Ok(observation) => Turn::Read {
                            thought,
                            action,
                            observation,
                        },
                        Err(why) => Turn::Unusable(why),
                    }
                }
                Reply::Malformed(why) => Turn::Unusable(why),
                Reply::Answer { thought, files } => Turn::Answer { thought, files },
            };
            match turn {
                Turn::Unusable(why) => {
                    format_errors += 1;
                    if format_errors > self.options.max_format_errors {
                        return Ok(Err(drop(
                            DropReason::ModelFormatErrors,
                            format!("{format_errors} unusable replies; the last: {why}"),
                        )));
                    }
                    messages.push(Message::assistant(reply));
                    messages.push(Message::user(format!(
                        "Your reply could not be used: {why}. Reply with your reasoning, then exactly one function call, or name the files in a ``` block."
                    )));
                }
                Turn::Read {
                    thought,
                    action,
                    observation,
                } => {
                    if let Err(token) = p.b.guard.check_exploration(&thought, &action) {
                        return Ok(Err(drop(
                            DropReason::Leak,
                            format!(
                                "the model used `{token}`, found only in the PR's added lines, before seeing it"
                            ),
                        )));
                    }
                    p.b.guard.saw(&observation);
                    messages.push(Message::assistant(reply));
                    messages.push(Message::user(format!("OBSERVATION:\n{observation}")));
                    p.b.steps.push(Step {
                        thought,
                        thought_source: ThoughtSource::Model,
                        action,
                        observation,
                        observation_source: "emulator".into(),
                        phase: Phase::Explore,
                    });
                }
                Turn::Answer { thought, files } => {
                    answer = Some((thought, files));
                    break;
                }
            }
        }
        let Some((answer_thought, named)) = answer else {
            return Ok(Err(drop(
                DropReason::ModelNoAnswer,
                format!("no files named in {} replies", self.options.max_turns),
            )));
        };
        let right: Vec<String> = named
            .iter()
            .filter(|f| p.gold.contains(*f))
            .cloned()
            .collect();
        if right.is_empty() {
            return Ok(Err(drop(
                DropReason::ModelWrongFiles,
                format!(
                    "named {}; the PR changes {}",
                    named.join(", "),
                    p.gold.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            )));
        }
        // Stage 2 (templated): open each wrongly named file and reject it with a fact.
        let wrong: Vec<String> = named
            .iter()
            .filter(|f| !p.gold.contains(*f) && p.b.emulator.snapshot.kind(f) != Some(Kind::Dir))
            .take(2)
            .cloned()
            .collect();
        let mut pending = answer_thought;
        // The first of these views carries the model's answer text (its source is the model).
        let mut view =
            |p: &mut crate::engine::Prepared, lead: String, path: &str| -> Result<(), Drop> {
                let from_model = !pending.is_empty();
                let thought = if from_model {
                    format!("{}\n\n{lead}", std::mem::take(&mut pending))
                } else {
                    lead
                };
                p.b.view(thought, path)?;
                if from_model && let Some(step) = p.b.steps.last_mut() {
                    step.thought_source = ThoughtSource::Model;
                }
                Ok(())
            };
        let mut rejections: Vec<String> = Vec::new();
        for path in &wrong {
            let lead = if rejections.is_empty() {
                String::new()
            } else {
                format!("{} ", rejections.join(" "))
            };
            rejections.clear();
            if let Err(d) = view(
                &mut p,
                format!("{lead}`{path}` was among the files named; let me check it."),
                path,
            ) {
                return Ok(Err(d));
            }
            let fact = match p.b.emulator.snapshot.read(path) {
                Some(bytes) => format!(
                    "`{path}` has {} lines, and nothing there is about the problem, so it needs no change.",
                    String::from_utf8_lossy(&bytes).lines().count()
                ),
                None => format!("`{path}` does not exist, so it needs no change."),
            };
            rejections.push(fact);
        }
        let lead = if rejections.is_empty() {
            String::new()
        } else {
            format!("{} ", rejections.join(" "))
        };
        // A right file the PR adds cannot be opened at the base: open one that exists (when
        // every right file is new, the view fails and the PR is a counted drop).
        let first = right
            .iter()
            .find(|f| p.b.emulator.snapshot.kind(f) == Some(Kind::File))
            .unwrap_or(&right[0]);
        if let Err(d) = view(
            &mut p,
            format!("{lead}`{first}` is the file to change; let me open it."),
            first,
        ) {
            return Ok(Err(d));
        }
        // The edits: the PR's commits, replayed exactly.
        Ok(finish(replay.repo, pr, p, variant, "model", named, wrong))
    }

    /// Run one reading call through the emulator, or say why it cannot run now.
    fn run_read_only(
        &self,
        b: &mut crate::engine::Builder,
        family: ToolFamily,
        action: &Action,
    ) -> Result<String, String> {
        let arg = |name: &str| action.argument(name).unwrap_or_default().to_string();
        match (family, action.tool.as_str()) {
            (ToolFamily::SweAgent, "bash") => b.emulator.run_shell(&arg("command")).ok_or_else(|| {
                "that command is not available here; use grep -rn, find -name, ls, sed -n 'A,Bp', cat -n, head or wc -l".to_string()
            }),
            (ToolFamily::SweAgent, "str_replace_editor") => {
                if arg("command") != "view" {
                    return Err("files cannot be changed while exploring; use `view`".into());
                }
                let view_range = action
                    .argument("view_range")
                    .map(|r| serde_json::from_str::<Vec<i64>>(r).ok().filter(|v| v.len() == 2).map(|v| (v[0], v[1])).ok_or("view_range must be [first, last]"))
                    .transpose()?;
                Ok(b.emulator.editor(&EditorCall::View { path: arg("path"), view_range }).output)
            }
            (ToolFamily::KimiDev, tool) if read_only_tools(family).iter().any(|t| t.name == tool) => {
                let tool_def = family.tool(tool).ok_or("unknown tool")?;
                let mut line = tool.to_string();
                for p in tool_def.params {
                    if let Some(v) = action.argument(p.name) {
                        line.push(' ');
                        line.push_str(&quote(v));
                    }
                }
                b.emulator
                    .windowed(&mut b.window, &line)
                    .ok_or_else(|| format!("`{tool}` cannot be run"))
            }
            (_, tool) => Err(format!(
                "`{tool}` cannot be used while exploring; read the repository and name the files first"
            )),
        }
    }

    /// Localization reasoning answering `prompt`; kept when it names exactly `files`.
    pub fn reasoning(
        &self,
        prompt: &str,
        files: &[String],
        seed: u64,
        variant: u32,
        kind: &str,
    ) -> Rollout<String> {
        let context = ExplorerContext {
            problem_statement: "",
            root: ROOT,
            tools: "",
            max_files: self.options.max_files,
        };
        let messages = vec![
            Message::system(self.template("reasoner_system.jinja", &context)?),
            Message::user(prompt.to_string()),
        ];
        let reply = self
            .client
            .complete(&messages, Self::request_seed(seed, variant, kind))?
            .text;
        let named = match parse_reply(&reply, ToolFamily::SweAgent, ROOT, 5) {
            Reply::Answer { files, .. } => files,
            Reply::Call { .. } => {
                return Ok(Err(drop(
                    DropReason::ModelFormatErrors,
                    "the answer is a function call",
                )));
            }
            Reply::Malformed(why) => return Ok(Err(drop(DropReason::ModelFormatErrors, why))),
        };
        let mut a = named.clone();
        let mut b = files.to_vec();
        a.sort();
        b.sort();
        if a != b {
            return Ok(Err(drop(
                DropReason::ModelWrongFiles,
                format!(
                    "named {}; the answer is {}",
                    named.join(", "),
                    files.join(", ")
                ),
            )));
        }
        Ok(Ok(reply.trim().to_string()))
    }
}
