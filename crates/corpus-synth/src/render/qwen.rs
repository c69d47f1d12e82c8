//! Qwen2.5's chat template with tools, written out by its rules (the template itself is not
//! available offline: the tokenizer wheel carries Qwen3's). The system turn is our text, then
//! `# Tools` with each tool's JSON schema on its own line inside `<tools></tools>`; an
//! assistant turn is its text, then `\n<tool_call>\n{"name": ..., "arguments": ...}\n</tool_call>`;
//! tool results are `\n<tool_response>\n...\n</tool_response>` inside a user turn, consecutive
//! results merged into one turn. JSON as Python's `tojson` writes it ([`crate::json`]).

use super::{INTRO, task, typed_arguments};
use crate::json::Json;
use crate::tools::{ParamType, Tool, ToolFamily};
use crate::trajectory::Trajectory;

/// A tool as the template's `tools` list holds it.
pub fn tool_schema(tool: &Tool) -> Json {
    let properties = tool
        .params
        .iter()
        .map(|p| {
            let mut entries = vec![("type".to_string(), Json::str(p.ty.json_name()))];
            if p.ty == ParamType::IntegerArray {
                entries.push((
                    "items".to_string(),
                    Json::obj(vec![("type", Json::str("integer"))]),
                ));
            }
            entries.push(("description".to_string(), Json::str(p.description)));
            (p.name.to_string(), Json::Obj(entries))
        })
        .collect();
    let required = tool
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| Json::str(p.name))
        .collect();
    Json::obj(vec![
        ("type", Json::str("function")),
        (
            "function",
            Json::obj(vec![
                ("name", Json::str(tool.name)),
                ("description", Json::str(tool.description)),
                (
                    "parameters",
                    Json::obj(vec![
                        ("type", Json::str("object")),
                        ("properties", Json::Obj(properties)),
                        ("required", Json::Arr(required)),
                    ]),
                ),
            ]),
        ),
    ])
}

/// The system turn, as the template writes it for a system message and a tool list.
pub fn system_turn(family: ToolFamily) -> String {
    let mut out = format!(
        "<|im_start|>system\n{INTRO}\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>"
    );
    for tool in family.tools() {
        out.push('\n');
        out.push_str(&tool_schema(tool).dumps());
    }
    out.push_str("\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n");
    out
}

enum Message {
    User(String),
    Assistant { content: String, call: String },
    Tool(String),
}

pub(super) fn render(trajectory: &Trajectory, family: ToolFamily, root: &str) -> (String, String) {
    let mut messages = vec![Message::User(task(trajectory, root))];
    for step in &trajectory.steps {
        let call = format!(
            "{{\"name\": {}, \"arguments\": {}}}",
            Json::str(&step.action.tool).dumps(),
            Json::Obj(typed_arguments(family, &step.action)).dumps()
        );
        messages.push(Message::Assistant {
            content: step.thought.trim_end().to_string(),
            call,
        });
        if step.action.tool != family.finish_tool() {
            messages.push(Message::Tool(step.observation.clone()));
        }
    }
    let mut response = String::new();
    for (i, message) in messages.iter().enumerate() {
        match message {
            Message::User(text) => {
                response.push_str(&format!("<|im_start|>user\n{text}<|im_end|>\n"));
            }
            Message::Assistant { content, call } => {
                response.push_str("<|im_start|>assistant");
                if !content.is_empty() {
                    response.push('\n');
                    response.push_str(content);
                }
                response.push_str(&format!("\n<tool_call>\n{call}\n</tool_call><|im_end|>\n"));
            }
            Message::Tool(text) => {
                let first = i == 0 || !matches!(messages[i - 1], Message::Tool(_));
                let last = !matches!(messages.get(i + 1), Some(Message::Tool(_)));
                if first {
                    response.push_str("<|im_start|>user");
                }
                response.push_str(&format!("\n<tool_response>\n{text}\n</tool_response>"));
                if last {
                    response.push_str("<|im_end|>\n");
                }
            }
        }
    }
    (system_turn(family), response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Renderer;
    use crate::render::fixture::trajectory;

    #[test]
    fn golden_qwen_tool_call() {
        let (prompt, response) = Renderer::QwenToolCall
            .render(&trajectory("kimi_dev", "Found 1 matches\n"), "/testbed")
            .expect("renders");
        assert!(prompt.starts_with(
            "<|im_start|>system\nYou are a software engineering agent working in a code repository."
        ));
        assert!(prompt.contains("\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"open\", \"description\": \"Open a file and show a window of 100 lines around `line_number` (default: the top).\", \"parameters\": {\"type\": \"object\", \"properties\": {\"path\": {\"type\": \"string\", \"description\": \"the file to open.\"}, \"line_number\": {\"type\": \"integer\", \"description\": \"the line to show in the window.\"}}, \"required\": [\"path\"]}}}\n{\"type\": \"function\", \"function\": {\"name\": \"goto\""));
        assert!(prompt.contains("{\"type\": \"function\", \"function\": {\"name\": \"stop\", \"description\": \"Finish: the changes made so far are the answer.\", \"parameters\": {\"type\": \"object\", \"properties\": {}, \"required\": []}}}\n</tools>"));
        assert!(prompt.ends_with("\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"));
        assert_eq!(
            response,
            "<|im_start|>user\n<uploaded_files>\n/testbed\n</uploaded_files>\nThe repository is in /testbed. Resolve this issue by editing its files:\n\n<issue>\nparse fails\n</issue><|im_end|>\n\
<|im_start|>assistant\nSearch.\n<tool_call>\n{\"name\": \"search_dir\", \"arguments\": {\"search_term\": \"parse\"}}\n</tool_call><|im_end|>\n\
<|im_start|>user\n<tool_response>\nFound 1 matches\n\n</tool_response><|im_end|>\n\
<|im_start|>assistant\nFix it\n<tool_call>\n{\"name\": \"insert\", \"arguments\": {\"path\": \"/testbed/x.py\", \"insert_line\": 3, \"new_str\": \"b = \\\"é\\\"\\n\"}}\n</tool_call><|im_end|>\n\
<|im_start|>user\n<tool_response>\nedited\n\n</tool_response><|im_end|>\n\
<|im_start|>assistant\n<tool_call>\n{\"name\": \"stop\", \"arguments\": {}}\n</tool_call><|im_end|>\n"
        );
    }

    #[test]
    fn consecutive_tool_results_share_one_user_turn() {
        let messages = [
            Message::Tool("a".into()),
            Message::Tool("b".into()),
            Message::User("u".into()),
        ];
        // The merge rule on its own: first opens the turn, last closes it.
        let opens: Vec<bool> = (0..2)
            .map(|i| i == 0 || !matches!(messages[i - 1], Message::Tool(_)))
            .collect();
        let closes: Vec<bool> = (0..2)
            .map(|i| !matches!(messages.get(i + 1), Some(Message::Tool(_))))
            .collect();
        assert_eq!(opens, [true, false]);
        assert_eq!(closes, [false, true]);
    }
}
