//! The rules of a sample profile (`[format] profile`) with the recipe's overrides applied:
//! which files are source and documentation, and how large a PR or commit pack may be.

use corpus_core::paths::language;
use corpus_core::recipe::{FormatOptions, Profile};

/// Languages that are prose or configuration, never an edit's source when the profile names
/// no languages.
const NOT_SOURCE: &[&str] = &[
    "other",
    "markdown",
    "restructuredtext",
    "text",
    "json",
    "yaml",
    "toml",
    "ini",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatRules {
    /// Source languages; empty means every language.
    pub languages: Vec<String>,
    /// Documentation languages; `None` means any other file is allowed too.
    pub doc_languages: Option<Vec<String>>,
    pub allow_added_files: bool,
    pub max_source_files: usize,
    pub max_blocks: usize,
    pub pack_min_files: usize,
    pub pack_max_files: usize,
}

impl FormatRules {
    /// The profile's values, each replaced by the recipe's where it sets one.
    pub fn of(options: &FormatOptions) -> Self {
        let kimi = options.profile == Profile::KimiDev;
        FormatRules {
            languages: options.languages.clone().unwrap_or_else(|| {
                if kimi {
                    vec!["python".into()]
                } else {
                    Vec::new()
                }
            }),
            doc_languages: options
                .doc_languages
                .clone()
                .or_else(|| kimi.then(|| vec!["markdown".into(), "restructuredtext".into()])),
            allow_added_files: options.allow_added_files.unwrap_or(!kimi),
            max_source_files: options
                .max_source_files
                .unwrap_or(if kimi { 3 } else { 10 }),
            max_blocks: options.max_blocks.unwrap_or(if kimi { 5 } else { 20 }),
            pack_min_files: options.pack_min_files.unwrap_or(1),
            pack_max_files: options.pack_max_files.unwrap_or(if kimi { 5 } else { 20 }),
        }
    }

    /// A file an Agentless sample may show or edit: in a profile language, or, where the
    /// profile names none, in any language that is not prose or configuration.
    pub fn is_sample_source(&self, path: &str) -> bool {
        let lang = language(path);
        if self.languages.is_empty() {
            !NOT_SOURCE.contains(&lang)
        } else {
            self.languages.iter().any(|l| l == lang)
        }
    }

    /// A file a PR may touch besides its source and still make samples: in a documentation
    /// language, or any file where the profile names none.
    pub fn is_sample_doc(&self, path: &str) -> bool {
        match &self.doc_languages {
            Some(docs) => docs.iter().any(|l| l == language(path)),
            None => true,
        }
    }

    /// A file whose diff a commit pack shows as code: in a profile language, or every file
    /// where the profile names none.
    pub fn is_pack_source(&self, path: &str) -> bool {
        self.languages.is_empty() || self.languages.iter().any(|l| l == language(path))
    }

    /// A file whose diff a commit pack shows as documentation: only in a documentation
    /// language the profile names.
    pub fn is_pack_doc(&self, path: &str) -> bool {
        match &self.doc_languages {
            Some(docs) => docs.iter().any(|l| l == language(path)),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_and_packs_read_an_empty_language_list_apart() {
        let broad = FormatRules::of(&FormatOptions {
            profile: Profile::Broad,
            ..FormatOptions::default()
        });
        // Samples: any code, never prose; any other file may come along.
        assert!(broad.is_sample_source("src/main.rs"));
        assert!(!broad.is_sample_source("README.md"));
        assert!(broad.is_sample_doc("README.md"));
        // Packs: every file's diff is shown as code, none as documentation.
        assert!(broad.is_pack_source("README.md"));
        assert!(!broad.is_pack_doc("README.md"));

        let kimi = FormatRules::of(&FormatOptions::default());
        assert!(kimi.is_sample_source("a.py") && kimi.is_pack_source("a.py"));
        assert!(!kimi.is_sample_source("a.rs") && !kimi.is_pack_source("a.rs"));
        assert!(kimi.is_sample_doc("docs/x.rst") && kimi.is_pack_doc("docs/x.rst"));
        assert!(!kimi.is_sample_doc("setup.cfg") && !kimi.is_pack_doc("setup.cfg"));
    }
}
