//! Prompt templates: files a user can replace (minijinja), read at run time from the
//! recipe's `templates_dir`, with the built-in copies of `pipelines/templates/` for any file
//! that is not there. Unknown variables are errors, never silently empty.

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// The templates `format` uses, by file name.
pub const TEMPLATE_NAMES: &[&str] = &[
    "bugfixer_localization.jinja",
    "testwriter_localization.jinja",
    "bugfixer_edit.jinja",
    "testwriter_edit.jinja",
];

/// The templates of the model-backed synthesis engine (`synthesize`), by file name.
pub const SYNTH_TEMPLATE_NAMES: &[&str] = &[
    "explorer_system.jinja",
    "explorer_task.jinja",
    "reasoner_system.jinja",
];

const BUILT_IN: &[(&str, &str)] = &[
    (
        "bugfixer_localization.jinja",
        include_str!("../../../pipelines/templates/bugfixer_localization.jinja"),
    ),
    (
        "testwriter_localization.jinja",
        include_str!("../../../pipelines/templates/testwriter_localization.jinja"),
    ),
    (
        "bugfixer_edit.jinja",
        include_str!("../../../pipelines/templates/bugfixer_edit.jinja"),
    ),
    (
        "testwriter_edit.jinja",
        include_str!("../../../pipelines/templates/testwriter_edit.jinja"),
    ),
    (
        "explorer_system.jinja",
        include_str!("../../../pipelines/templates/explorer_system.jinja"),
    ),
    (
        "explorer_task.jinja",
        include_str!("../../../pipelines/templates/explorer_task.jinja"),
    ),
    (
        "reasoner_system.jinja",
        include_str!("../../../pipelines/templates/reasoner_system.jinja"),
    ),
];

/// The variables the explorer's templates get.
#[derive(Debug, Clone, Serialize)]
pub struct ExplorerContext<'a> {
    pub problem_statement: &'a str,
    pub root: &'a str,
    /// The tool list as SWE-agent's function blocks.
    pub tools: &'a str,
    pub max_files: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {name} ({origin}): {message}")]
    Invalid {
        name: String,
        origin: String,
        message: String,
    },
    #[error("cannot read template {path}: {message}")]
    Read { path: String, message: String },
}

/// A file shown in an edit prompt.
#[derive(Debug, Clone, Serialize)]
pub struct PromptFile {
    pub path: String,
    pub content: String,
    /// "\n" when the content does not end with one, so the next `### path` starts a line.
    pub newline: String,
}

impl PromptFile {
    pub fn new(path: &str, content: &str) -> Self {
        Self {
            path: path.to_string(),
            content: content.to_string(),
            newline: if content.is_empty() || content.ends_with('\n') {
                String::new()
            } else {
                "\n".into()
            },
        }
    }
}

#[derive(Serialize)]
struct LocalizationContext<'a> {
    problem_statement: &'a str,
    structure: &'a str,
}

#[derive(Serialize)]
struct EditContext<'a> {
    problem_statement: &'a str,
    files: &'a [PromptFile],
}

pub struct Templates {
    env: Environment<'static>,
    /// Where each template came from (a path or "built-in"), for messages and fingerprints.
    pub origins: Vec<(String, String)>,
    /// The text of every template, for the stage fingerprint.
    pub sources: Vec<String>,
}

impl Templates {
    /// Load from `dir`, falling back to the built-in copy per file, and check each one
    /// renders with the variables `format` provides.
    pub fn load(dir: &Path) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        let mut origins = Vec::new();
        let mut sources = Vec::new();
        for (name, built_in) in BUILT_IN {
            let path = dir.join(name);
            let (text, origin) = if path.is_file() {
                let text = std::fs::read_to_string(&path).map_err(|e| TemplateError::Read {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
                (text, path.display().to_string())
            } else {
                (built_in.to_string(), "built-in".to_string())
            };
            env.add_template_owned(name.to_string(), text.clone())
                .map_err(|e| TemplateError::Invalid {
                    name: name.to_string(),
                    origin: origin.clone(),
                    message: e.to_string(),
                })?;
            origins.push((name.to_string(), origin));
            sources.push(text);
        }
        let templates = Self {
            env,
            origins,
            sources,
        };
        templates.check()?;
        Ok(templates)
    }

    /// Render each template once with sample values: an unknown variable fails here, before
    /// any sample is written.
    fn check(&self) -> Result<(), TemplateError> {
        let files = [PromptFile::new("a.py", "x = 1\n")];
        for name in TEMPLATE_NAMES {
            let result = if name.ends_with("localization.jinja") {
                self.localization(name, "problem", "a.py\n")
            } else {
                self.edit(name, "problem", &files)
            };
            result?;
        }
        let explorer = ExplorerContext {
            problem_statement: "problem",
            root: "/testbed",
            tools: "tools",
            max_files: 3,
        };
        for name in SYNTH_TEMPLATE_NAMES {
            self.synth(name, &explorer)?;
        }
        Ok(())
    }

    /// One of the synthesis engine's templates ([`SYNTH_TEMPLATE_NAMES`]).
    pub fn synth(&self, name: &str, context: &ExplorerContext) -> Result<String, TemplateError> {
        self.render(name, context)
    }

    fn origin(&self, name: &str) -> String {
        self.origins
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| o.clone())
            .unwrap_or_default()
    }

    fn render<S: Serialize>(&self, name: &str, context: S) -> Result<String, TemplateError> {
        let invalid = |e: minijinja::Error| TemplateError::Invalid {
            name: name.to_string(),
            origin: self.origin(name),
            message: format!("{e:#}"),
        };
        self.env
            .get_template(name)
            .map_err(invalid)?
            .render(context)
            .map_err(invalid)
    }

    pub fn localization(
        &self,
        name: &str,
        problem: &str,
        structure: &str,
    ) -> Result<String, TemplateError> {
        self.render(
            name,
            LocalizationContext {
                problem_statement: problem,
                structure,
            },
        )
    }

    pub fn edit(
        &self,
        name: &str,
        problem: &str,
        files: &[PromptFile],
    ) -> Result<String, TemplateError> {
        self.render(
            name,
            EditContext {
                problem_statement: problem,
                files,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_templates_render_with_markers() {
        let t = Templates::load(Path::new("/nonexistent")).expect("built-in");
        let prompt = t
            .edit(
                "bugfixer_edit.jinja",
                "It breaks",
                &[PromptFile::new("a.py", "x = 1")],
            )
            .expect("render");
        assert!(prompt.contains("--- BEGIN ISSUE ---\nIt breaks\n--- END ISSUE ---"));
        assert!(prompt.contains("--- BEGIN FILE ---\n### a.py\nx = 1\n--- END FILE ---"));
        assert!(prompt.ends_with('\n'));
    }

    #[test]
    fn a_replaced_template_is_used_and_an_unknown_variable_is_an_error() {
        let dir = tempfile_dir();
        std::fs::write(
            dir.join("bugfixer_localization.jinja"),
            "Find: {{ problem_statement }}\n{{ structure }}",
        )
        .expect("write");
        let t = Templates::load(&dir).expect("load");
        let text = t
            .localization("bugfixer_localization.jinja", "P", "a.py\n")
            .expect("render");
        assert_eq!(text, "Find: P\na.py\n");
        std::fs::write(dir.join("bugfixer_localization.jinja"), "{{ problem }}").expect("write");
        let err = Templates::load(&dir)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("bugfixer_localization.jinja"), "{err}");
        assert!(err.contains("undefined"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("swe-corpus-templates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir
    }
}
