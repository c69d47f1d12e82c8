//! A model's reply in the explorer's protocol: reasoning then one SWE-agent XML function call
//! (`<function=NAME>` with `<parameter=P>value</parameter>` lines), or reasoning then the named
//! files in a ``` block. Anything else is a format error the model is told about.

use crate::tools::ToolFamily;
use crate::trajectory::Action;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Call {
        thought: String,
        action: Action,
    },
    Answer {
        thought: String,
        files: Vec<String>,
    },
    /// What is wrong, in words the model is sent back.
    Malformed(String),
}

fn malformed(why: impl Into<String>) -> Reply {
    Reply::Malformed(why.into())
}

/// Parse one reply against the family's tools; `root` is stripped from named paths.
pub fn parse_reply(text: &str, family: ToolFamily, root: &str, max_files: usize) -> Reply {
    let Some(start) = text.find("<function=") else {
        return answer(text, root, max_files);
    };
    let thought = text[..start].trim().to_string();
    let rest = &text[start + "<function=".len()..];
    let Some(end) = rest.find("</function>") else {
        return malformed("the function call has no closing </function>");
    };
    if rest[end..].contains("<function=") {
        return malformed("make exactly one function call per reply");
    }
    let inner = &rest[..end];
    let Some((name, mut params)) = inner.split_once('>') else {
        return malformed("write the call as <function=NAME>");
    };
    let name = name.trim();
    let Some(tool) = family.tool(name) else {
        let names: Vec<&str> = family.tools().iter().map(|t| t.name).collect();
        return malformed(format!(
            "there is no function `{name}` (available: {})",
            names.join(", ")
        ));
    };
    let mut arguments: Vec<(String, String)> = Vec::new();
    loop {
        let Some(open) = params.find("<parameter=") else {
            if !params.trim().is_empty() {
                return malformed(
                    "only <parameter=P>value</parameter> lines may be inside the call",
                );
            }
            break;
        };
        if !params[..open].trim().is_empty() {
            return malformed("only <parameter=P>value</parameter> lines may be inside the call");
        }
        let after = &params[open + "<parameter=".len()..];
        let Some((pname, value_and_rest)) = after.split_once('>') else {
            return malformed("write each parameter as <parameter=P>value</parameter>");
        };
        let Some(close) = value_and_rest.find("</parameter>") else {
            return malformed(format!("parameter `{pname}` has no closing </parameter>"));
        };
        let mut value = &value_and_rest[..close];
        // A multi-line value sits on its own lines (SWE-agent's convention).
        if let Some(v) = value.strip_prefix('\n') {
            value = v.strip_suffix('\n').unwrap_or(v);
        }
        let pname = pname.trim();
        if tool.param(pname).is_none() {
            return malformed(format!("`{name}` has no parameter `{pname}`"));
        }
        if arguments.iter().any(|(k, _)| k == pname) {
            return malformed(format!("parameter `{pname}` is given twice"));
        }
        arguments.push((pname.to_string(), value.to_string()));
        params = &value_and_rest[close + "</parameter>".len()..];
    }
    if let Some(missing) = tool
        .params
        .iter()
        .find(|p| p.required && !arguments.iter().any(|(k, _)| k == p.name))
    {
        return malformed(format!("`{name}` needs the parameter `{}`", missing.name));
    }
    // Arguments in the tool's own order, whatever order the model wrote them in.
    arguments.sort_by_key(|(k, _)| tool.params.iter().position(|p| p.name == k));
    Reply::Call {
        thought,
        action: Action {
            tool: name.to_string(),
            arguments,
        },
    }
}

/// The files of the last ``` block.
fn answer(text: &str, root: &str, max_files: usize) -> Reply {
    let parts: Vec<&str> = text.split("```").collect();
    if parts.len() < 3 {
        return malformed(format!(
            "call a function, or name at most {max_files} files inside a ``` block"
        ));
    }
    let block = parts[parts.len() - 2];
    let thought = parts[0].trim().to_string();
    let prefix = format!("{}/", root.trim_end_matches('/'));
    let mut files: Vec<String> = Vec::new();
    // The first line may name a language (```text).
    for (i, line) in block.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && !line.contains('/') && !line.contains('.')) {
            continue;
        }
        let path = line.strip_prefix(&prefix).unwrap_or(line);
        let path = path.strip_prefix("./").unwrap_or(path).to_string();
        if !files.contains(&path) {
            files.push(path);
        }
    }
    if files.is_empty() || files.len() > max_files {
        return malformed(format!(
            "name between 1 and {max_files} files, one per line, inside the ``` block"
        ));
    }
    Reply::Answer { thought, files }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_an_answer_and_the_format_errors() {
        let reply = "Let me look.\n\n<function=bash>\n<parameter=command>grep -rn parse .</parameter>\n</function>";
        assert_eq!(
            parse_reply(reply, ToolFamily::SweAgent, "/testbed", 3),
            Reply::Call {
                thought: "Let me look.".into(),
                action: Action::new("bash", &[("command", "grep -rn parse .")]),
            }
        );
        let reply = "<function=str_replace_editor>\n<parameter=path>/testbed/a.py</parameter>\n<parameter=command>view</parameter>\n</function>";
        match parse_reply(reply, ToolFamily::SweAgent, "/testbed", 3) {
            Reply::Call { action, .. } => assert_eq!(
                action.arguments[0],
                ("command".to_string(), "view".to_string())
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_reply(
                "It is here.\n```\n/testbed/src/a.py\n./src/b.py\n```",
                ToolFamily::SweAgent,
                "/testbed",
                3
            ),
            Reply::Answer {
                thought: "It is here.".into(),
                files: vec!["src/a.py".into(), "src/b.py".into()],
            }
        );
        for (bad, why) in [
            (
                "<function=bash>\n<parameter=command>ls</parameter>\n",
                "closing",
            ),
            ("<function=rm>\n</function>", "no function `rm`"),
            (
                "<function=bash>\n</function>",
                "needs the parameter `command`",
            ),
            (
                "<function=bash>\n<parameter=cmd>ls</parameter>\n</function>",
                "no parameter `cmd`",
            ),
            ("{\"name\": \"bash\"}", "inside a ``` block"),
            ("```\na\nb\nc\nd\n```", "between 1 and 3"),
            (
                "<function=open>\n<parameter=path>a</parameter>\n</function><function=open>\n<parameter=path>b</parameter>\n</function>",
                "exactly one",
            ),
        ] {
            let family = if bad.contains("open") {
                ToolFamily::KimiDev
            } else {
                ToolFamily::SweAgent
            };
            match parse_reply(bad, family, "/testbed", 3) {
                Reply::Malformed(message) => assert!(message.contains(why), "{bad}: {message}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
