//! The `swe-corpus` command line: parses arguments (no side effects), then hands over to the
//! library crates. Data goes to stdout, logs and progress to stderr.

mod cli;
mod commands;
mod logging;

use std::process::ExitCode;

use clap::Parser;

use cli::Cli;

/// Our info, and only the warnings of the tokenizer library (it logs its table builds).
const DEFAULT_LOG: &str = "info,tk_encode=warn,tk_serialize=warn,tk_convert=warn,bitcannon=warn";

/// Whether an error, at any depth of its chain, is the user's configuration or usage (a bad
/// recipe, a bad flag, a name clash): exit code 2, as for clap's own usage errors.
fn is_configuration_error(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let core = |e: &corpus_core::Error| e.kind() == corpus_core::ErrorKind::Config;
        if let Some(e) = cause.downcast_ref::<corpus_core::Error>() {
            return core(e);
        }
        if let Some(corpus_crawl::CrawlError::Usage(_)) = cause.downcast_ref() {
            return true;
        }
        if let Some(corpus_store::StoreError::Config(_)) = cause.downcast_ref() {
            return true;
        }
        match cause.downcast_ref::<corpus_stage::StageError>() {
            Some(corpus_stage::StageError::Usage(_)) => true,
            Some(corpus_stage::StageError::Core(e)) => core(e),
            _ => false,
        }
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(logging::Tee)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWE_CORPUS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG)),
        )
        .with_target(false)
        // Plain text: the same lines go to the run's log file.
        .with_ansi(false)
        .init();
    let result = commands::dispatch(&cli.command);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            logging::append(&format!("error: {e:#}\n"));
            ExitCode::from(if is_configuration_error(&e) { 2 } else { 1 })
        }
    }
}
