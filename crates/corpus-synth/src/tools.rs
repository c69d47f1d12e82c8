//! The tool families an agent works with, as data: every renderer lists the same tools
//! (SWE-agent's function blocks, Qwen's JSON schemas, Kimi-Dev's signatures) and types the
//! arguments from here, so a family's semantics never differ between renderers.

/// How an argument is typed in a schema (every [`crate::trajectory::Action`] stores text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Integer,
    /// A JSON array of integers (`view_range`).
    IntegerArray,
}

impl ParamType {
    pub fn json_name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::IntegerArray => "array",
        }
    }
}

#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub ty: ParamType,
    pub required: bool,
    pub description: &'static str,
}

#[derive(Debug)]
pub struct Tool {
    pub name: &'static str,
    pub description: &'static str,
    pub params: &'static [Param],
}

impl Tool {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

const fn p(name: &'static str, ty: ParamType, required: bool, description: &'static str) -> Param {
    Param {
        name,
        ty,
        required,
        description,
    }
}

use ParamType::{Integer, IntegerArray, String as Text};

const SWE_AGENT: &[Tool] = &[
    Tool {
        name: "bash",
        description: "Run a shell command in the repository: read-only commands (grep -rn, find -name, ls, sed -n 'A,Bp', cat -n, head, wc -l) and mkdir -p.",
        params: &[p("command", Text, true, "the command line.")],
    },
    Tool {
        name: "str_replace_editor",
        description: "View, create and edit files. `view` shows a file with line numbers (or a directory two levels deep); `create` writes a new file; `str_replace` replaces `old_str`, which must occur exactly once, with `new_str`; `insert` adds `new_str` after line `insert_line`.",
        params: &[
            p(
                "command",
                Text,
                true,
                "one of `view`, `create`, `str_replace`, `insert`.",
            ),
            p(
                "path",
                Text,
                true,
                "absolute path of the file or directory.",
            ),
            p(
                "view_range",
                IntegerArray,
                false,
                "first and last line to view.",
            ),
            p("file_text", Text, false, "the content of a created file."),
            p("old_str", Text, false, "the text to replace."),
            p("new_str", Text, false, "the new text."),
            p(
                "insert_line",
                Integer,
                false,
                "the line after which to insert.",
            ),
        ],
    },
    Tool {
        name: "submit",
        description: "Finish: the changes made so far are the answer.",
        params: &[],
    },
];

const KIMI_DEV: &[Tool] = &[
    Tool {
        name: "open",
        description: "Open a file and show a window of 100 lines around `line_number` (default: the top).",
        params: &[
            p("path", Text, true, "the file to open."),
            p(
                "line_number",
                Integer,
                false,
                "the line to show in the window.",
            ),
        ],
    },
    Tool {
        name: "goto",
        description: "Move the window of the open file to show `line_number`.",
        params: &[p("line_number", Integer, true, "the line to show.")],
    },
    Tool {
        name: "scroll_down",
        description: "Move the window down by 100 lines.",
        params: &[],
    },
    Tool {
        name: "scroll_up",
        description: "Move the window up by 100 lines.",
        params: &[],
    },
    Tool {
        name: "search_dir",
        description: "Count the lines matching `search_term` in each file under `dir` (default: the repository).",
        params: &[
            p("search_term", Text, true, "the text to search for."),
            p("dir", Text, false, "the directory to search."),
        ],
    },
    Tool {
        name: "search_file",
        description: "Show the lines matching `search_term` in `file` (default: the open file).",
        params: &[
            p("search_term", Text, true, "the text to search for."),
            p("file", Text, false, "the file to search."),
        ],
    },
    Tool {
        name: "find_file",
        description: "Find files named `file_name` (shell wildcards allowed) under `dir` (default: the repository).",
        params: &[
            p("file_name", Text, true, "the name to look for."),
            p("dir", Text, false, "the directory to search."),
        ],
    },
    Tool {
        name: "create",
        description: "Create a new file holding `file_text`.",
        params: &[
            p("path", Text, true, "the file to create."),
            p("file_text", Text, true, "its content."),
        ],
    },
    Tool {
        name: "str_replace",
        description: "Replace `old_str`, which must occur exactly once in the file, with `new_str`.",
        params: &[
            p("path", Text, true, "the file to edit."),
            p("old_str", Text, true, "the text to replace."),
            p("new_str", Text, true, "the new text."),
        ],
    },
    Tool {
        name: "insert",
        description: "Insert `new_str` after line `insert_line` of the file.",
        params: &[
            p("path", Text, true, "the file to edit."),
            p(
                "insert_line",
                Integer,
                true,
                "the line after which to insert.",
            ),
            p("new_str", Text, true, "the text to insert."),
        ],
    },
    Tool {
        name: "stop",
        description: "Finish: the changes made so far are the answer.",
        params: &[],
    },
];

/// A tool family, chosen in the recipe (`[synthesize] tool_family`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolFamily {
    /// `str_replace_editor`, a read-only `bash` subset, `submit`.
    SweAgent,
    /// The windowed `open`/`goto`/`scroll_*`, `search_dir`, `search_file`, `find_file`,
    /// `create`, `str_replace`, `insert`, `stop`.
    KimiDev,
}

impl ToolFamily {
    pub const NAMES: &'static [&'static str] = &["swe_agent", "kimi_dev"];

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "swe_agent" => Some(Self::SweAgent),
            "kimi_dev" => Some(Self::KimiDev),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::SweAgent => "swe_agent",
            Self::KimiDev => "kimi_dev",
        }
    }

    pub fn tools(self) -> &'static [Tool] {
        match self {
            Self::SweAgent => SWE_AGENT,
            Self::KimiDev => KIMI_DEV,
        }
    }

    pub fn tool(self, name: &str) -> Option<&'static Tool> {
        self.tools().iter().find(|t| t.name == name)
    }

    /// The call that ends a trajectory.
    pub fn finish_tool(self) -> &'static str {
        match self {
            Self::SweAgent => "submit",
            Self::KimiDev => "stop",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_names_its_finish_tool_and_unique_parameters() {
        for name in ToolFamily::NAMES {
            let family = ToolFamily::parse(name).expect("known");
            assert_eq!(family.name(), *name);
            assert!(family.tool(family.finish_tool()).is_some());
            for tool in family.tools() {
                let mut names: Vec<_> = tool.params.iter().map(|p| p.name).collect();
                names.dedup();
                assert_eq!(names.len(), tool.params.len(), "{}", tool.name);
            }
        }
        assert!(ToolFamily::parse("openhands").is_none());
    }
}
