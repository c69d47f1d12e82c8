//! The Kimi-Dev style: the system turn lists each tool as a Python signature; an assistant
//! turn is the reasoning, then exactly one `<execute>tool(name=value, ...)</execute>`
//! (strings as double-quoted literals, integers bare); each result is a user turn holding the
//! tool's output as printed.

use super::{INTRO, one_call_turns, turn, typed_arguments};
use crate::tools::{ParamType, ToolFamily};
use crate::trajectory::{Action, Trajectory};

pub fn system(family: ToolFamily) -> String {
    let mut out = format!("{INTRO}\n\nTools:\n");
    for tool in family.tools() {
        let params: Vec<String> = tool
            .params
            .iter()
            .map(|p| {
                let ty = match p.ty {
                    ParamType::String => "str",
                    ParamType::Integer => "int",
                    ParamType::IntegerArray => "list[int]",
                };
                if p.required {
                    format!("{}: {ty}", p.name)
                } else {
                    format!("{}: {ty} = None", p.name)
                }
            })
            .collect();
        out.push_str(&format!(
            "- {}({}): {}\n",
            tool.name,
            params.join(", "),
            tool.description
        ));
    }
    out.push_str("\nWrite your reasoning, then exactly one call: <execute>tool(name=value, ...)</execute>. The tool's output comes back in the next message.");
    out
}

/// One call as Python source.
pub fn call(family: ToolFamily, action: &Action) -> String {
    let args: Vec<String> = typed_arguments(family, action)
        .into_iter()
        .map(|(name, value)| format!("{name}={}", value.dumps()))
        .collect();
    format!("<execute>{}({})</execute>", action.tool, args.join(", "))
}

pub(super) fn render(trajectory: &Trajectory, family: ToolFamily, root: &str) -> (String, String) {
    let response = one_call_turns(trajectory, family, root, |a| call(family, a), "");
    (turn("system", &system(family)), response)
}

#[cfg(test)]
mod tests {
    use crate::render::Renderer;
    use crate::render::fixture::trajectory;

    #[test]
    fn golden_kimi_dev_execute() {
        let (prompt, response) = Renderer::KimiDevExecute
            .render(&trajectory("kimi_dev", "Found 1 matches\n"), "/testbed")
            .expect("renders");
        assert!(prompt.contains("\nTools:\n- open(path: str, line_number: int = None): Open a file and show a window of 100 lines around `line_number` (default: the top).\n- goto(line_number: int): "));
        assert!(prompt.contains("- stop(): Finish: the changes made so far are the answer.\n"));
        assert_eq!(
            response,
            "<|im_start|>user\n<uploaded_files>\n/testbed\n</uploaded_files>\nThe repository is in /testbed. Resolve this issue by editing its files:\n\n<issue>\nparse fails\n</issue><|im_end|>\n\
<|im_start|>assistant\nSearch.\n\n<execute>search_dir(search_term=\"parse\")</execute><|im_end|>\n\
<|im_start|>user\nFound 1 matches\n<|im_end|>\n\
<|im_start|>assistant\nFix it\n\n<execute>insert(path=\"/testbed/x.py\", insert_line=3, new_str=\"b = \\\"é\\\"\\n\")</execute><|im_end|>\n\
<|im_start|>user\nedited\n<|im_end|>\n\
<|im_start|>assistant\n<execute>stop()</execute><|im_end|>\n"
        );
    }
}
