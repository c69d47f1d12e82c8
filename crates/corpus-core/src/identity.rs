//! The names rows carry as strings (`samples.sample_kind`, `patches.kind`,
//! `patches.files.change`, `repos.origin`, the token tables' `split`): one enum each, with the
//! stable code the tables hold. Code builds and compares the enums; only the tables keep
//! the codes.

/// An enum whose values are stable string codes: `code()`, `from_code()`, `ALL`, `Display`,
/// and serde as the code. For identities a table, a report or a recipe holds as a string.
#[macro_export]
macro_rules! code_enum {
    ($(#[doc = $doc:literal])* $name:ident { $( $(#[doc = $vdoc:literal])* $variant:ident = $code:literal ),* $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant ),*
        }

        impl $name {
            /// Every value, in the order they are listed.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The code the tables hold.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),*
                }
            }

            /// The value of a code, if it is one.
            pub fn from_code(code: &str) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $name::from_code(&code).ok_or_else(|| {
                    let codes: Vec<&str> = $name::ALL.iter().map(|v| v.code()).collect();
                    serde::de::Error::custom(format!(
                        "`{code}` is not one of: {}",
                        codes.join(", ")
                    ))
                })
            }
        }
    };
}

/// Also the shape of [`crate::drop_reason::DropReason`].
pub use code_enum;

code_enum! {
    /// What a sample is (`sample_kind`).
    SampleKind {
        BugfixerLocalization = "bugfixer_localization",
        BugfixerEdit = "bugfixer_edit",
        TestwriterLocalization = "testwriter_localization",
        TestwriterEdit = "testwriter_edit",
        CommitPack = "commit_pack",
        Commit = "commit",
        SyntheticAgentic = "synthetic_agentic",
        SyntheticReasoning = "synthetic_reasoning",
        External = "external",
    }
}

impl SampleKind {
    /// The Agentless role a sample belongs to, if it is an Agentless sample.
    pub fn role(self) -> Option<Role> {
        match self {
            SampleKind::BugfixerLocalization | SampleKind::BugfixerEdit => Some(Role::BugFixer),
            SampleKind::TestwriterLocalization | SampleKind::TestwriterEdit => {
                Some(Role::TestWriter)
            }
            _ => None,
        }
    }
}

code_enum! {
    /// Whose task an Agentless sample is: the BugFixer changes the code, the TestWriter the
    /// tests.
    Role {
        BugFixer = "bugfixer",
        TestWriter = "testwriter",
    }
}

impl Role {
    /// The kind of its localization samples.
    pub fn localization(self) -> SampleKind {
        match self {
            Role::BugFixer => SampleKind::BugfixerLocalization,
            Role::TestWriter => SampleKind::TestwriterLocalization,
        }
    }

    /// The kind of its edit samples.
    pub fn edit(self) -> SampleKind {
        match self {
            Role::BugFixer => SampleKind::BugfixerEdit,
            Role::TestWriter => SampleKind::TestwriterEdit,
        }
    }

    /// Whether the files it changes are tests.
    pub fn changes_tests(self) -> bool {
        self == Role::TestWriter
    }
}

code_enum! {
    /// What a chat model is asked for in `synthesize`: agentic trajectories (the explorer) or
    /// localization reasoning (the reasoner).
    ModelRole {
        Explorer = "explorer",
        Reasoner = "reasoner",
    }
}

code_enum! {
    /// How the history brought a change (`patches.kind`, `commit_packs.kind`).
    PatchKind {
        /// A merge commit of a PR.
        MergePr = "merge_pr",
        /// A merge whose message is GitHub's "pull request title" form or ends in `(#N)`.
        TitledMergePr = "titled_merge_pr",
        /// A one-parent commit whose subject ends in `(#N)`.
        SquashPr = "squash_pr",
        /// A plain commit of the main line.
        Commit = "commit",
    }
}

code_enum! {
    /// What a patch did to a file (`patches.files.change`).
    Change {
        Added = "added",
        Deleted = "deleted",
        Modified = "modified",
        TypeChanged = "type_changed",
    }
}

code_enum! {
    /// Where a `repos` row comes from.
    Origin {
        /// `extract` found the repository on disk.
        Local = "local",
        /// `crawl` read it from the API.
        Crawl = "crawl",
    }
}

code_enum! {
    /// The split a token row belongs to.
    Split {
        Train = "train",
        Validation = "validation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_and_are_unique() {
        fn check<T: Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            code: fn(T) -> &'static str,
            from: fn(&str) -> Option<T>,
        ) {
            let mut seen = std::collections::BTreeSet::new();
            for value in all {
                assert!(seen.insert(code(*value)), "{} twice", code(*value));
                assert_eq!(from(code(*value)), Some(*value));
            }
            assert_eq!(from("no such code"), None);
        }
        check(SampleKind::ALL, SampleKind::code, SampleKind::from_code);
        check(PatchKind::ALL, PatchKind::code, PatchKind::from_code);
        check(Change::ALL, Change::code, Change::from_code);
        check(Origin::ALL, Origin::code, Origin::from_code);
        check(Split::ALL, Split::code, Split::from_code);
        check(Role::ALL, Role::code, Role::from_code);
        check(ModelRole::ALL, ModelRole::code, ModelRole::from_code);
    }

    #[test]
    fn a_role_owns_its_two_sample_kinds() {
        for role in Role::ALL {
            assert_eq!(role.localization().role(), Some(*role));
            assert_eq!(role.edit().role(), Some(*role));
            assert!(role.localization().code().starts_with(role.code()));
        }
        assert_eq!(SampleKind::CommitPack.role(), None);
    }

    #[test]
    fn a_code_enum_reads_and_writes_its_code_and_names_the_codes_when_wrong() {
        #[derive(serde::Deserialize, serde::Serialize, Debug)]
        struct Holder {
            roles: Vec<ModelRole>,
        }
        let read: Holder = toml::from_str("roles = [\"reasoner\"]").expect("known");
        assert_eq!(read.roles, vec![ModelRole::Reasoner]);
        assert_eq!(
            toml::to_string(&read).expect("write").trim(),
            "roles = [\"reasoner\"]"
        );
        let wrong = toml::from_str::<Holder>("roles = [\"critic\"]").expect_err("unknown");
        assert!(
            wrong
                .to_string()
                .contains("`critic` is not one of: explorer, reasoner"),
            "{wrong}"
        );
    }
}
