//! Renderers: a [`Trajectory`] as training text. The SWE-agent XML function-call format
//! (`<function=NAME>` with `<parameter=P>` lines; observations as a user turn starting
//! `OBSERVATION:`) in ChatML turns. The prompt is the system turn only (Kimi-Dev masked the
//! loss on the system prompt alone, so the model also learns to predict observations); the
//! response is the task, every assistant turn and every observation.

use crate::trajectory::Trajectory;

/// Text that would read as chat or tool markup inside a rendered sample.
pub const MARKERS: &[&str] = &[
    "<|im_start|>",
    "<|im_end|>",
    "<|endoftext|>",
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
    "<function=",
    "</function>",
    "<parameter=",
    "</parameter>",
    "<execute>",
    "</execute>",
    "OBSERVATION:",
];

/// The system turn of the `swe_agent` tool family.
pub const SWE_AGENT_SYSTEM: &str = "You are a software engineering agent working in a code repository. You can call the functions below; each call runs in the repository and its output comes back as an observation. Nothing is executed besides these tools.

---- BEGIN FUNCTION #1: bash ----
Description: Run a read-only shell command in the repository (grep -rn, find -name, ls, sed -n 'A,Bp', cat -n, head, wc -l).
Parameters:
  (1) command (string, required): the command line.
---- END FUNCTION #1 ----

---- BEGIN FUNCTION #2: str_replace_editor ----
Description: View, create and edit files. `view` shows a file with line numbers (or a directory two levels deep); `create` writes a new file; `str_replace` replaces `old_str`, which must occur exactly once, with `new_str`; `insert` adds `new_str` after line `insert_line`.
Parameters:
  (1) command (string, required): one of `view`, `create`, `str_replace`, `insert`.
  (2) path (string, required): absolute path of the file or directory.
  (3) view_range (array, optional): first and last line to view.
  (4) file_text (string, optional): the content of a created file.
  (5) old_str (string, optional): the text to replace.
  (6) new_str (string, optional): the new text.
  (7) insert_line (integer, optional): the line after which to insert.
---- END FUNCTION #2 ----

---- BEGIN FUNCTION #3: submit ----
Description: Finish: the changes made so far are the answer.
No parameters.
---- END FUNCTION #3 ----

To call a function, reply with your reasoning, then exactly one call in this format:

<function=NAME>
<parameter=PARAMETER>value</parameter>
</function>";

fn turn(role: &str, content: &str) -> String {
    format!("<|im_start|>{role}\n{content}<|im_end|>\n")
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
    MARKERS.iter().find(|m| text.contains(*m)).copied()
}

/// (prompt, response) in the SWE-agent XML format, or the marker that makes the text
/// ambiguous (the trajectory is dropped, counted).
pub fn swe_agent_xml(
    trajectory: &Trajectory,
    root: &str,
) -> Result<(String, String), &'static str> {
    let mut parts: Vec<&str> = vec![&trajectory.problem];
    for step in &trajectory.steps {
        parts.push(&step.thought);
        parts.push(&step.observation);
        parts.extend(step.action.arguments.iter().map(|(_, v)| v.as_str()));
    }
    if let Some(marker) = parts.iter().find_map(|p| marker_in(p)) {
        return Err(marker);
    }
    let prompt = turn("system", SWE_AGENT_SYSTEM);
    let mut response = turn("user", &task(trajectory, root));
    for step in &trajectory.steps {
        let mut call = format!("<function={}>\n", step.action.tool);
        for (name, value) in &step.action.arguments {
            if value.contains('\n') {
                call.push_str(&format!("<parameter={name}>\n{value}\n</parameter>\n"));
            } else {
                call.push_str(&format!("<parameter={name}>{value}</parameter>\n"));
            }
        }
        call.push_str("</function>");
        let content = if step.thought.is_empty() {
            call
        } else {
            format!("{}\n\n{call}", step.thought.trim_end())
        };
        response.push_str(&turn("assistant", &content));
        if step.action.tool != "submit" {
            response.push_str(&turn(
                "user",
                &format!("OBSERVATION:\n{}", step.observation),
            ));
        }
    }
    Ok((prompt, response))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trajectory::{Action, Phase, Step, ThoughtSource};

    fn trajectory(observation: &str) -> Trajectory {
        Trajectory {
            repo: "acme/widgets".into(),
            pr_number: 5,
            base_sha: "b".into(),
            variant: 0,
            engine: "deterministic".into(),
            seed: 1,
            tool_family: "swe_agent".into(),
            problem: "parse fails".into(),
            steps: vec![
                Step {
                    thought: "Search.".into(),
                    thought_source: ThoughtSource::Template,
                    action: Action::new("bash", &[("command", "grep -rn parse .")]),
                    observation: observation.into(),
                    observation_source: "emulator".into(),
                    phase: Phase::Explore,
                },
                Step {
                    thought: "Fix it".into(),
                    thought_source: ThoughtSource::CommitMessage,
                    action: Action::new(
                        "str_replace_editor",
                        &[
                            ("command", "str_replace"),
                            ("path", "/testbed/x.py"),
                            ("old_str", "a\n"),
                            ("new_str", "b\n"),
                        ],
                    ),
                    observation: "edited\n".into(),
                    observation_source: "emulator".into(),
                    phase: Phase::Edit,
                },
                Step {
                    thought: String::new(),
                    thought_source: ThoughtSource::Template,
                    action: Action::new("submit", &[]),
                    observation: String::new(),
                    observation_source: "emulator".into(),
                    phase: Phase::Edit,
                },
            ],
            named_files: vec![],
            gold_files: vec![],
            distractor_files: vec![],
            final_patch: String::new(),
        }
    }

    #[test]
    fn golden_swe_agent_xml() {
        let (prompt, response) =
            swe_agent_xml(&trajectory("./x.py:1:parse\n"), "/testbed").expect("renders");
        assert!(prompt.starts_with("<|im_start|>system\nYou are a software engineering agent"));
        assert!(prompt.ends_with("</function><|im_end|>\n"));
        assert_eq!(
            response,
            "<|im_start|>user\n<uploaded_files>\n/testbed\n</uploaded_files>\nThe repository is in /testbed. Resolve this issue by editing its files:\n\n<issue>\nparse fails\n</issue><|im_end|>\n\
<|im_start|>assistant\nSearch.\n\n<function=bash>\n<parameter=command>grep -rn parse .</parameter>\n</function><|im_end|>\n\
<|im_start|>user\nOBSERVATION:\n./x.py:1:parse\n<|im_end|>\n\
<|im_start|>assistant\nFix it\n\n<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n<parameter=path>/testbed/x.py</parameter>\n<parameter=old_str>\na\n\n</parameter>\n<parameter=new_str>\nb\n\n</parameter>\n</function><|im_end|>\n\
<|im_start|>user\nOBSERVATION:\nedited\n<|im_end|>\n\
<|im_start|>assistant\n<function=submit>\n</function><|im_end|>\n"
        );
    }

    #[test]
    fn repository_text_with_chat_markers_is_refused() {
        assert_eq!(
            swe_agent_xml(&trajectory("x = '<|im_start|>'\n"), "/testbed").err(),
            Some("<|im_start|>")
        );
        assert_eq!(
            swe_agent_xml(&trajectory("s = '<tool_call>'\n"), "/testbed").err(),
            Some("<tool_call>")
        );
    }
}
