//! End-to-end tests of the `swe-corpus` binary on the demo recipe and on repositories the
//! tests build in code. One test binary (faster to link) with a module per concern.

mod bad_input;
mod cli;
mod common;
mod crawl;
mod curate;
mod decontam;
mod discover;
mod export;
mod extract;
mod format;
mod house;
mod ingest;
mod mirror_budget;
mod object_store;
mod slurm;
mod synthesize;
mod synthesize_model;
mod tasks;
mod tokens;
