//! Every reason a stage gives for what it leaves out: the `reason` of `drops`, of
//! `decontam_report` and of `repos.skipped_reason`. A reason's code is stable (snake_case,
//! what SQL and reports match on); [`DropReason::ALL`] lists them with the stages that give
//! them, and a test holds that list equal to the one in `pipelines/README.md`.

macro_rules! drop_reasons {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal by [$($stage:literal),+] ),* $(,)?) => {
        crate::identity::code_enum! {
            /// Why a row, file, PR or repository was left out; [`DropReason::ALL`] lists them
            /// in the order of the pipeline.
            DropReason {
                $( $(#[doc = $doc])* $variant = $code ),*
            }
        }

        impl DropReason {
            /// The stages that give this reason.
            pub fn stages(self) -> &'static [&'static str] {
                match self {
                    $(DropReason::$variant => &[$($stage),+]),*
                }
            }
        }
    };
}

drop_reasons! {
    // ---- repositories (crawl, extract, decontaminate) -------------------------------------
    /// A repository of a benchmark the recipe keeps out, skipped by name before any work.
    SweBenchRepo = "swe_bench_repo" by ["crawl", "extract"],
    /// The API has no such repository (renamed away, deleted, private).
    RepoNotFound = "repo_not_found" by ["crawl"],
    /// The API refused or failed on a repository after the retries.
    RepoUnavailable = "repo_unavailable" by ["crawl"],
    /// An issue a PR links could not be read.
    LinkedIssueUnavailable = "linked_issue_unavailable" by ["crawl"],
    NotARepository = "not_a_repository" by ["extract"],
    ShallowClone = "shallow_clone" by ["extract"],
    EmptyRepository = "empty_repository" by ["extract"],
    DetachedHead = "detached_head" by ["extract"],
    NoSuchBranch = "no_such_branch" by ["extract"],
    NoRepositoryName = "no_repository_name" by ["extract"],
    CorruptRepository = "corrupt_repository" by ["extract"],
    RepositoryError = "repository_error" by ["extract"],
    // ---- files and PRs of the history (extract) -------------------------------------------
    FileTooLarge = "file_too_large" by ["extract", "synthesize"],
    DiffTooLarge = "diff_too_large" by ["extract"],
    Lockfile = "lockfile" by ["extract"],
    Vendored = "vendored" by ["extract"],
    Generated = "generated" by ["extract"],
    BotAuthor = "bot_author" by ["extract"],
    Binary = "binary" by ["extract"],
    NonUtf8 = "non_utf8" by ["extract", "synthesize"],
    NotAFile = "not_a_file" by ["extract"],
    EmptyDiff = "empty_diff" by ["extract"],
    RootCommit = "root_commit" by ["extract"],
    NonPrMerge = "non_pr_merge" by ["extract"],
    RepeatedPrNumber = "repeated_pr_number" by ["extract"],
    CorruptObject = "corrupt_object" by ["extract"],
    // ---- samples (format) ------------------------------------------------------------------
    OtherFileType = "other_file_type" by ["format"],
    AddedFile = "added_file" by ["format"],
    DeletedFile = "deleted_file" by ["format", "synthesize"],
    NoSourceChange = "no_source_change" by ["format"],
    TooManyFiles = "too_many_files" by ["format"],
    MissingBlob = "missing_blob" by ["format"],
    TooManyBlocks = "too_many_blocks" by ["format"],
    MarkerInCode = "marker_in_code" by ["format"],
    NoFinalNewline = "no_final_newline" by ["format"],
    SearchNotUnique = "search_not_unique" by ["format"],
    SearchReplaceMismatch = "search_replace_mismatch" by ["format"],
    PackFileCount = "pack_file_count" by ["format"],
    SpecialTokenInContent = "special_token_in_content" by ["format", "synthesize", "ingest"],
    // ---- agent trajectories (synthesize) ---------------------------------------------------
    MergeInBranch = "merge_in_branch" by ["synthesize"],
    NoCommits = "no_commits" by ["synthesize"],
    GoldFileNeverFound = "gold_file_never_found" by ["synthesize"],
    RenamedFile = "renamed_file" by ["synthesize"],
    BinaryFile = "binary_file" by ["synthesize"],
    TabsInEditedFile = "tabs_in_edited_file" by ["synthesize"],
    CrlfInEditedFile = "crlf_in_edited_file" by ["synthesize"],
    ReplayMismatch = "replay_mismatch" by ["synthesize"],
    Leak = "leak" by ["synthesize"],
    MarkerInContent = "marker_in_content" by ["synthesize"],
    DuplicateVariant = "duplicate_variant" by ["synthesize"],
    ReasoningIncomplete = "reasoning_incomplete" by ["synthesize"],
    ModelFormatErrors = "model_format_errors" by ["synthesize"],
    ModelNoAnswer = "model_no_answer" by ["synthesize"],
    ModelWrongFiles = "model_wrong_files" by ["synthesize"],
    /// Never expected (each is a bug of the engine or a broken mirror): the engine asked the
    /// emulator for something it does not do, found no file, or git objects were missing.
    UnsupportedCommand = "unsupported_command" by ["synthesize"],
    NoEvidence = "no_evidence" by ["synthesize"],
    SearchMismatch = "search_mismatch" by ["synthesize"],
    NewDirectory = "new_directory" by ["synthesize"],
    BadSha = "bad_sha" by ["synthesize"],
    MissingObjects = "missing_objects" by ["synthesize"],
    // ---- external sources (ingest) ---------------------------------------------------------
    UnreadableRecord = "unreadable_record" by ["ingest"],
    UnknownRole = "unknown_role" by ["ingest"],
    NoAssistantTurn = "no_assistant_turn" by ["ingest"],
    Empty = "empty" by ["ingest"],
    TemplateError = "template_error" by ["ingest"],
    // ---- benchmarks (decontaminate) --------------------------------------------------------
    BenchmarkRepo = "benchmark_repo" by ["decontaminate"],
    BenchmarkFork = "benchmark_fork" by ["decontaminate"],
    BenchmarkRoot = "benchmark_root" by ["decontaminate"],
    AfterCutoff = "after_cutoff" by ["decontaminate"],
    BenchmarkPatch = "benchmark_patch" by ["decontaminate"],
    BenchmarkInstanceId = "benchmark_instance_id" by ["decontaminate"],
    BenchmarkContent = "benchmark_content" by ["decontaminate"],
    // ---- quality, secrets, licences, duplicates (curate) -----------------------------------
    ShortProblemText = "short_problem_text" by ["curate"],
    SampleTooLarge = "sample_too_large" by ["curate"],
    MinifiedLine = "minified_line" by ["curate"],
    GeneratedCode = "generated_code" by ["curate"],
    AutoGeneratedTitle = "auto_generated_title" by ["curate"],
    SecretInPatch = "secret_in_patch" by ["curate"],
    SecretInContent = "secret_in_content" by ["curate"],
    LicenseNotAllowed = "license_not_allowed" by ["curate"],
    NoLicense = "no_license" by ["curate"],
    DuplicatePr = "duplicate_pr" by ["curate"],
    NearDuplicatePr = "near_duplicate_pr" by ["curate"],
    DuplicateExternal = "duplicate_external" by ["curate"],
    // ---- tokens (tokenize) -----------------------------------------------------------------
    TooLong = "too_long" by ["tokenize"],
    DuplicateSample = "duplicate_sample" by ["tokenize"],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_read_back() {
        let mut seen = std::collections::BTreeSet::new();
        for reason in DropReason::ALL {
            let code = reason.code();
            assert!(seen.insert(code), "{code} twice");
            assert!(
                !code.is_empty()
                    && code
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()),
                "{code} is not snake_case"
            );
            assert_eq!(DropReason::from_code(code), Some(*reason));
            assert!(!reason.stages().is_empty());
        }
        assert_eq!(DropReason::from_code("no_such_reason"), None);
    }

    /// The recipe keys' page documents every reason, in backticks, so a user can look up
    /// any code a `drops` query returns.
    #[test]
    fn every_reason_is_documented_for_users() {
        let page = include_str!("../../../pipelines/README.md");
        let missing: Vec<&str> = DropReason::ALL
            .iter()
            .map(|r| r.code())
            .filter(|code| !page.contains(&format!("`{code}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "pipelines/README.md does not name {missing:?}"
        );
    }
}
