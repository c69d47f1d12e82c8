//! The names rows carry as strings (`samples.sample_kind`, `patches.kind`,
//! `patches.files.change`, `repos.origin`, the token tables' `split`): one enum each, with the
//! stable code the tables hold. Code builds and compares the enums; only the tables keep
//! the codes.

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
    };
}

/// Also the shape of [`crate::drop_reason::DropReason`].
pub(crate) use code_enum;

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
    }
}
