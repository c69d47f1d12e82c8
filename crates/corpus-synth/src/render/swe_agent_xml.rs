//! SWE-agent's XML function calls: the system turn lists each tool as a function block; a
//! call is `<function=NAME>` with one `<parameter=P>` line each (multi-line values on their
//! own lines); each result is a user turn starting `OBSERVATION:`.

use super::{INTRO, one_call_turns, turn};
use crate::tools::{Tool, ToolFamily};
use crate::trajectory::{Action, Trajectory};

/// The system turn's text for a family.
pub fn system(family: ToolFamily) -> String {
    let tools: Vec<&Tool> = family.tools().iter().collect();
    let mut out = format!("{INTRO}\n");
    out.push_str(&function_blocks(&tools));
    out.push_str("\nTo call a function, reply with your reasoning, then exactly one call in this format:\n\n<function=NAME>\n<parameter=PARAMETER>value</parameter>\n</function>");
    out
}

/// Tools as SWE-agent's numbered function blocks, each followed by a newline.
pub fn function_blocks(tools: &[&Tool]) -> String {
    let mut out = String::new();
    for (i, tool) in tools.iter().enumerate() {
        let n = i + 1;
        out.push_str(&format!(
            "\n---- BEGIN FUNCTION #{n}: {} ----\nDescription: {}\n",
            tool.name, tool.description
        ));
        if tool.params.is_empty() {
            out.push_str("No parameters.\n");
        } else {
            out.push_str("Parameters:\n");
            for (k, p) in tool.params.iter().enumerate() {
                out.push_str(&format!(
                    "  ({}) {} ({}, {}): {}\n",
                    k + 1,
                    p.name,
                    p.ty.json_name(),
                    if p.required { "required" } else { "optional" },
                    p.description
                ));
            }
        }
        out.push_str(&format!("---- END FUNCTION #{n} ----\n"));
    }
    out
}

/// One call: `<function=NAME>`, a `<parameter=P>` line per argument (a multi-line value on
/// its own lines), `</function>`.
fn call(action: &Action) -> String {
    let mut call = format!("<function={}>\n", action.tool);
    for (name, value) in &action.arguments {
        if value.contains('\n') {
            call.push_str(&format!("<parameter={name}>\n{value}\n</parameter>\n"));
        } else {
            call.push_str(&format!("<parameter={name}>{value}</parameter>\n"));
        }
    }
    call.push_str("</function>");
    call
}

pub(super) fn render(trajectory: &Trajectory, family: ToolFamily, root: &str) -> (String, String) {
    let response = one_call_turns(trajectory, family, root, call, "OBSERVATION:\n");
    (turn("system", &system(family)), response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixture::trajectory;

    #[test]
    fn golden_swe_agent_xml() {
        let (prompt, response) = crate::render::Renderer::SweAgentXml
            .render(&trajectory("swe_agent", "./x.py:1:parse\n"), "/testbed")
            .expect("renders");
        assert!(prompt.starts_with("<|im_start|>system\nYou are a software engineering agent"));
        assert!(prompt.contains("\n---- BEGIN FUNCTION #1: bash ----\nDescription: Run a shell command in the repository: read-only commands (grep -rn, find -name, ls, sed -n 'A,Bp', cat -n, head, wc -l) and mkdir -p.\nParameters:\n  (1) command (string, required): the command line.\n---- END FUNCTION #1 ----\n"));
        assert!(prompt.contains("---- BEGIN FUNCTION #3: submit ----\nDescription: Finish: the changes made so far are the answer.\nNo parameters.\n---- END FUNCTION #3 ----\n"));
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
    fn the_kimi_dev_family_lists_its_own_tools() {
        let text = system(ToolFamily::KimiDev);
        assert!(text.contains("---- BEGIN FUNCTION #1: open ----"));
        assert!(
            text.contains(
                "  (2) line_number (integer, optional): the line to show in the window.\n"
            )
        );
        assert!(text.contains("---- BEGIN FUNCTION #11: stop ----"));
        assert!(!text.contains("str_replace_editor"));
    }
}
