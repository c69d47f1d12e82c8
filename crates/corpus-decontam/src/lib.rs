//! corpus-decontam: keeping benchmark data out of a corpus.
//!
//! - [`repo_match`]: benchmark repositories by name, fork parent and shared root commit
//!   ([`repo_match::BenchmarkIdentity`]).
//! - [`ngram`]: content matching by word n-grams ([`ngram::NgramIndex`]).
//! - [`patch_lines`]: a PR's changed lines against gold patches ([`patch_lines::GoldPatches`]).
//! - [`benchmark_file`]: benchmark files (JSONL or Parquet with SWE-bench's columns).
//! - [`instance_ids`]: benchmark instance ids written in a text ([`instance_ids::InstanceIds`]).
//! - [`cutoff`]: the merge dates a cutoff compares ([`cutoff::MergeDates`]).
//! - [`certificate`]: what the shards' manifest states about decontamination.
//! - [`check`]: any file checked against the registry (`decontam check`).
//!
//! ```
//! use corpus_decontam::ngram::{Field, NgramIndex};
//! let mut index = NgramIndex::new(3);
//! index.add("a__b-1", &[(Field::ProblemStatement, "the parser drops the last line of input")]);
//! let hit = index.best_match("Bug: the parser drops the last line of input files", 0.5);
//! assert_eq!(hit.unwrap().instance_id, "a__b-1");
//! ```

pub mod benchmark_file;
pub mod check;
pub mod cutoff;
pub mod instance_ids;
pub mod ngram;
pub mod patch_lines;
pub mod repo_match;
pub mod stage;
