//! The `swe-corpus` command line: parses arguments (no side effects), then hands over to the
//! library crates. Data goes to stdout, logs and progress to stderr.

mod decontam_cli;
mod logging;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use corpus_core::recipe::{Recipe, RepoEntry};
use corpus_runner::execute::{ExecOptions, Selection};
use corpus_stage::run_dir::RunDir;

#[derive(Parser)]
#[command(
    name = "swe-corpus",
    version = corpus_core::version::LONG_VERSION,
    about = "Builds mid-training corpora for software-engineering language models",
    long_about = "Builds mid-training corpora for software-engineering language models from git \
                  history: pull requests become patches, commit packs and (later stages) \
                  Agentless samples, written as Parquet tables you can query with `swe-corpus sql`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the recipe's stages into a run directory (skips stages that are current).
    Run(RunArgs),
    /// Run only the `extract` stage (same options as `run`).
    Extract(RunArgs),
    /// Run the stage `crawl` alone: the GitHub API's repositories, merged PRs and linked
    /// issues into `repos` and `pulls`, and bare mirrors (tokens from GITHUB_TOKEN or
    /// GITHUB_TOKENS, API URL from GITHUB_API_URL or the recipe's [crawl] api_url).
    Crawl(RunArgs),
    /// Print the mix plan of a recipe over a run's tokenized table: per source available
    /// tokens, variants, repeat factor, planned tokens, share and shortfall.
    Plan(PlanArgs),
    /// Encode `{"prompt", "response"}` JSON lines as `tokenize` does and print
    /// `{"input_ids", "prompt_tokens"}` per line (ids end with <|endoftext|>).
    Tokens(TokensArgs),
    /// Export the shards for a training loader (writes RUN/exports/FORMAT/): `megatron`
    /// (.bin/.idx; the format has NO loss mask, prompt tokens are trained on),
    /// `megatron-bridge` (packed .idx.parquet, label-aligned loss_mask), `olmo` (.npy,
    /// .csv.gz, label masks), `datatrove` (.ds, .ds.index, .ds.loss, .ds.metadata), `hf`
    /// (datasets Parquet with labels, --packed for packed rows).
    Export(ExportArgs),
    /// Query the tables of a run with SQL (DataFusion).
    Sql(SqlArgs),
    /// Show per stage whether it is complete, partly done or not started.
    Status(StatusArgs),
    /// Re-check every table's parts against its manifest (checksums, sizes, row counts).
    Verify(RunOnly),
    /// Check or show a recipe.
    #[command(subcommand)]
    Recipe(RecipeCommand),
    /// Decontamination helpers.
    #[command(subcommand)]
    Decontam(DecontamCommand),
    /// Write a repository list for `[crawl] repos_file`: every repository the recipe's
    /// `[crawl.search]` matches (split into slices of at most 1,000 results), or the
    /// repositories of GH Archive event files and CSV exports, most pull requests first.
    Discover(DiscoverArgs),
    /// Generate the demo repositories (the embedded recipe does this when they are missing).
    Demo {
        /// Where to write them.
        #[arg(long, default_value = "data/demo")]
        out: PathBuf,
    },
}

#[derive(Args)]
struct RecipeSource {
    /// Recipe file (TOML). Default: the embedded demo recipe.
    #[arg(long, short = 'r', conflicts_with = "repo")]
    recipe: Option<PathBuf>,
    /// Quick try without a recipe: extract these repositories (repeatable).
    #[arg(long, value_name = "PATH")]
    repo: Vec<PathBuf>,
}

#[derive(Args)]
struct ExportArgs {
    /// Run directory with shards. Default: runs/latest.
    #[arg(long)]
    run: Option<PathBuf>,
    /// megatron, megatron-bridge, olmo, datatrove or hf.
    #[arg(long)]
    format: String,
    /// Output folder. Default: RUN/exports/FORMAT (hf --packed: RUN/exports/hf-packed).
    #[arg(long)]
    out: Option<PathBuf>,
    /// hf only: pack documents into sequences (position_ids, cu_seqlens).
    #[arg(long)]
    packed: bool,
    /// Sequence length of packed formats. Default: the run recipe's [shard] sequence_length.
    #[arg(long)]
    sequence_length: Option<usize>,
    /// Threads (one shard per thread at a time). Default: one per core.
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct TokensArgs {
    /// JSON-lines file to encode.
    input: PathBuf,
    /// Tokenizer: `qwen2.5`, `qwen3` or a tokenizer.json path. Default: the recipe's.
    #[arg(long)]
    tokenizer: Option<String>,
    /// Recipe whose [tokenize] to use. Default: the embedded demo recipe.
    #[arg(long, short = 'r')]
    recipe: Option<PathBuf>,
}

#[derive(Args)]
struct PlanArgs {
    /// Recipe file whose [mix] to plan. Default: the recipe the run was made with.
    #[arg(long, short = 'r')]
    recipe: Option<PathBuf>,
    /// Run directory with a `tokenized` table. Default: runs/latest.
    #[arg(long)]
    run: Option<PathBuf>,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
    /// Project the run's measured rates (tokens per PR per source, processor seconds per
    /// stage, bytes per table and mirror) onto the recipe's budget: PRs, repositories,
    /// core-hours, disk and API quota it needs.
    #[arg(long)]
    project: bool,
    /// With --project: PRs per repository among the repositories still to crawl (e.g. the
    /// median of `swe-corpus discover`'s counts). Default: the run's own.
    #[arg(long, requires = "project")]
    prs_per_repo: Option<f64>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    source: RecipeSource,
    /// Run directory. Default: runs/<recipe name>.
    #[arg(long)]
    run: Option<PathBuf>,
    /// Tasks per stage (default: the recipe's `runner.tasks`, else one per core). The output
    /// bytes are the same for any number.
    #[arg(long)]
    tasks: Option<usize>,
    /// Run only task I of --tasks (0-based), for a cluster array job; needs --only.
    #[arg(long, value_name = "I")]
    task: Option<usize>,
    /// Only run the barrier of --only STAGE once all its tasks are done.
    #[arg(long)]
    finalize: bool,
    /// Stop after this stage.
    #[arg(long, value_name = "STAGE")]
    until: Option<String>,
    /// Rerun from this stage on, even where current.
    #[arg(long, value_name = "STAGE")]
    from: Option<String>,
    /// Run only this stage, even if current.
    #[arg(long, value_name = "STAGE", conflicts_with_all = ["until", "from"])]
    only: Option<String>,
    /// Where the tasks run: here on a thread pool, or as Slurm array jobs (`sbatch`), one
    /// per stage plus a barrier job, chained with afterok.
    #[arg(long, value_enum, default_value = "local")]
    executor: Executor,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Executor {
    Local,
    Slurm,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Args)]
struct SqlArgs {
    /// The query, e.g. "select kind, count(*) from patches group by kind".
    query: String,
    /// Run directory. Default: runs/latest.
    #[arg(long)]
    run: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
struct RunOnly {
    /// Run directory. Default: runs/latest.
    #[arg(long)]
    run: Option<PathBuf>,
}

#[derive(Args)]
struct StatusArgs {
    /// Run directory. Default: runs/latest.
    #[arg(long)]
    run: Option<PathBuf>,
}

#[derive(Args)]
struct DiscoverArgs {
    /// Recipe whose [crawl.search] to enumerate (not needed with --gharchive or --csv).
    #[arg(long, short = 'r')]
    recipe: Option<PathBuf>,
    /// Run directory whose crawl cache to use. Default: runs/<recipe name>.
    #[arg(long)]
    run: Option<PathBuf>,
    /// GH Archive hourly event files (`YYYY-MM-DD-H.json.gz`): count each repository's
    /// closed and merged pull requests.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    gharchive: Vec<PathBuf>,
    /// CSV exports with a repository column (and an optional count column).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    csv: Vec<PathBuf>,
    /// Leave out repositories with fewer pull requests than this (archives and CSV).
    #[arg(long, default_value_t = 1)]
    min_prs: u64,
    /// Where to write the list (`owner/name  # counts` lines).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Subcommand)]
enum DecontamCommand {
    /// Print a repository's root commits (every parentless commit reachable from its default
    /// branch) as `owner/name<TAB>sha` lines: the pairs the registry's `[[roots]]` entries hold.
    Fingerprint {
        /// Path of the repository (a bare mirror or a clone with full history).
        repo: PathBuf,
        /// Its `owner/name`, if the origin URL or folder name does not say.
        #[arg(long)]
        name: Option<String>,
        /// The branch to walk (default: HEAD's).
        #[arg(long)]
        branch: Option<String>,
    },
    /// Print the decontamination certificate of a run's shards: the benchmark families and
    /// registry version checked, the cutoff, and the samples removed per family and reason.
    Report {
        /// Run directory. Default: runs/latest.
        #[arg(long)]
        run: Option<PathBuf>,
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a benchmark file's gold patches (its `patch` column) as the registry's `[[gold]]`
    /// entries: their changed lines' count, signature and smallest hashes.
    GoldLines { file: PathBuf },
    /// Check a text, JSONL or Parquet file (someone else's corpus too) against the benchmark
    /// registry: prints every matching row and fails (exit 1) if there is one.
    Check {
        file: PathBuf,
        /// A recipe whose `[decontam]` section picks the families and benchmark files
        /// (default: every family of the registry).
        #[arg(long)]
        recipe: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum RecipeCommand {
    /// Check a recipe and list every error in it.
    Check { recipe: PathBuf },
    /// Print the effective recipe (defaults filled in); default: the embedded demo recipe.
    Show { recipe: Option<PathBuf> },
}

fn load_recipe(source: &RecipeSource) -> Result<Recipe> {
    if !source.repo.is_empty() {
        let repos = source
            .repo
            .iter()
            .map(|path| RepoEntry {
                path: path.clone(),
                name: None,
                branch: None,
            })
            .collect();
        return Ok(Recipe::quick(repos)?);
    }
    Ok(match &source.recipe {
        Some(path) => Recipe::load(path)?,
        None => Recipe::demo()?,
    })
}

/// The demo set a recipe reads, generated here (before any stage runs) unless a complete
/// one of this version is already there: stages only read repositories.
fn ensure_demo_inputs(recipe: &Recipe) -> Result<()> {
    if let Some(root) = recipe.demo_root()
        && corpus_demo::ensure(&root)?
    {
        tracing::info!("generated the demo set in {}", root.display());
    }
    Ok(())
}

fn latest_or(run: &Option<PathBuf>) -> Result<PathBuf> {
    let dir = run.clone().unwrap_or_else(RunDir::latest);
    if !dir.exists() {
        bail!(
            "no run directory at {}: run `swe-corpus run` first, or pass --run DIR",
            dir.display()
        );
    }
    Ok(dir)
}

fn run_command(args: &RunArgs, only: Option<&str>) -> Result<()> {
    let recipe = load_recipe(&args.source)?.absolutized()?;
    ensure_demo_inputs(&recipe)?;
    let run = RunDir::new(
        &args
            .run
            .clone()
            .unwrap_or_else(|| RunDir::default_for(&recipe).root),
    );
    let tasks = args
        .tasks
        .or((recipe.runner.tasks > 0).then_some(recipe.runner.tasks))
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
    if tasks == 0 {
        bail!("--tasks must be at least 1");
    }
    let selection = Selection {
        until: args.until.clone(),
        from: args.from.clone(),
        only: only.map(str::to_string).or_else(|| args.only.clone()),
    };
    let options = ExecOptions {
        tasks,
        task: args.task,
        finalize_only: args.finalize,
    };
    if args.executor == Executor::Slurm {
        if args.task.is_some() || args.finalize {
            bail!(
                "--task and --finalize are what the Slurm jobs run; do not combine them with --executor slurm"
            );
        }
        let binary = std::env::current_exe().context("locate the swe-corpus binary")?;
        let submission = corpus_runner::submit_slurm(&recipe, &run, &selection, tasks, &binary)?;
        for stage in &submission.skipped_current {
            println!("{stage:<14} current, not submitted");
        }
        for job in &submission.jobs {
            let what = if job.role == "tasks" {
                format!("tasks {:?}", job.tasks)
            } else {
                "barrier".to_string()
            };
            println!("{:<14} job {:<10} {what}", job.stage, job.job_id);
        }
        eprintln!(
            "submitted; follow with `swe-corpus status --run {}` (logs in {})",
            run.root.display(),
            run.logs().display()
        );
        return Ok(());
    }
    if args.task.is_none() && !args.finalize {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let log = run.logs().join(format!("local-{since_epoch}.log"));
        if let Err(e) = logging::also_to(&log) {
            tracing::warn!("cannot write the log file {}: {e}", log.display());
        }
    }
    let report = corpus_runner::run(&recipe, &run, &selection, &options)?;
    print!("{}", report.summary_table());
    logging::append(&report.summary_table());
    eprint!("{}", report.warning_lines());
    if args.task.is_none() {
        eprintln!("run directory: {}", run.root.display());
    }
    Ok(())
}

async fn sql_command(args: &SqlArgs) -> Result<()> {
    let dir = latest_or(&args.run)?;
    let session = corpus_sql::RunSession::open(&dir).await?;
    let batches = session.query(&args.query).await?;
    let format = match args.format {
        Format::Table => corpus_sql::OutputFormat::Table,
        Format::Csv => corpus_sql::OutputFormat::Csv,
        Format::Json => corpus_sql::OutputFormat::Json,
    };
    print!("{}", corpus_sql::render(&batches, format)?);
    Ok(())
}

fn status_command(args: &StatusArgs) -> Result<()> {
    let dir = latest_or(&args.run)?;
    let recipe_path = dir.join("recipe.toml");
    let recipe = Recipe::load(&recipe_path)
        .with_context(|| format!("reading the run's recipe {}", recipe_path.display()))?;
    let run = RunDir::new(&dir);
    let ctx = corpus_stage::stage::StageContext {
        recipe: &recipe,
        run: &run,
    };
    println!(
        "{:<14} {:<12} {:>12} {:>10}  tasks (done/failed/pending)",
        "stage", "state", "units done", "rows"
    );
    for s in corpus_runner::status::status(&ctx)? {
        let tasks = s
            .tasks
            .as_ref()
            .map(|t| format!("{}/{}/{} of {}", t.done, t.failed, t.pending, t.total))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<14} {:<12} {:>12} {:>10}  {tasks}",
            s.stage,
            s.state,
            format!("{}/{}", s.units_done, s.units),
            s.rows
        );
        for failure in &s.failures {
            println!("    FAILED {failure}");
        }
    }
    let jobs = corpus_runner::slurm::job_states(&run);
    if !jobs.is_empty() {
        println!("slurm jobs of the last submission:");
        for job in jobs {
            println!("    {job}");
        }
    }
    Ok(())
}

fn discover_command(args: &DiscoverArgs) -> Result<()> {
    let text = if args.gharchive.is_empty() && args.csv.is_empty() {
        let recipe = match &args.recipe {
            Some(path) => Recipe::load(path)?,
            None => {
                return Err(corpus_crawl::CrawlError::Usage(
                    "discover: give --recipe (with a [crawl.search]), --gharchive or --csv".into(),
                )
                .into());
            }
        }
        .absolutized()?;
        let run = RunDir::new(
            &args
                .run
                .clone()
                .unwrap_or_else(|| RunDir::default_for(&recipe).root),
        );
        let ctx = corpus_stage::stage::StageContext {
            recipe: &recipe,
            run: &run,
        };
        let (found, stats) = corpus_runner::stages::discover_search(&ctx)?;
        eprintln!(
            "discover: {} repositories from {} slices ({} search pages{})",
            found.len(),
            stats.slices,
            stats.pages,
            if stats.unreachable.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} slices held more than the search returns",
                    stats.unreachable.len()
                )
            }
        );
        found
            .iter()
            .map(|d| format!("{}  # {} stars\n", d.name, d.stars))
            .collect::<String>()
    } else {
        let (mut counts, stats) = corpus_crawl::repo_lists::count_gharchive(&args.gharchive)?;
        for path in &args.csv {
            for (repo, count) in corpus_crawl::repo_lists::read_csv_list(path)? {
                let entry = counts.entry(repo).or_default();
                entry.closed += count.closed;
                entry.merged += count.merged;
            }
        }
        eprintln!(
            "discover: {} repositories from {} archive files ({} pull request events, {} \
             closed without a merge flag, {} bad lines) and {} CSV files",
            counts.len(),
            stats.files,
            stats.events,
            stats.merge_unknown,
            stats.bad_lines,
            args.csv.len()
        );
        corpus_crawl::repo_lists::render_list(&counts, args.min_prs)
    };
    corpus_core::manifest::write_atomically(&args.out, text.as_bytes())?;
    eprintln!("discover: wrote {}", args.out.display());
    Ok(())
}

fn fingerprint_command(path: &Path, name: Option<String>, branch: Option<String>) -> Result<()> {
    let spec = corpus_git::open::RepoSpec {
        path: path.to_path_buf(),
        name,
        branch,
    };
    let name = corpus_git::open::resolve_name(&spec)?;
    let (_, roots) = corpus_git::extract::fingerprint(&spec, &name)?;
    for root in roots {
        println!("{name}\t{root}");
    }
    Ok(())
}

fn tokens_command(args: &TokensArgs) -> Result<()> {
    use std::io::{BufRead, Write};
    let recipe = match &args.recipe {
        Some(path) => Recipe::load(path)?,
        None => Recipe::demo()?,
    }
    .absolutized()?;
    let mut options = recipe.tokenize.clone();
    if let Some(tokenizer) = &args.tokenizer {
        options.tokenizer = tokenizer.clone();
    }
    let encoder = corpus_tokenize::Encoder::for_recipe(&options)?;
    let file = std::fs::File::open(&args.input)
        .with_context(|| format!("open {}", args.input.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("read {}", args.input.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        #[derive(serde::Deserialize)]
        struct Doc {
            #[serde(default)]
            prompt: String,
            #[serde(default)]
            response: String,
        }
        let doc: Doc = serde_json::from_str(&line).with_context(|| {
            format!("{} line {}: not a JSON object", args.input.display(), n + 1)
        })?;
        let (ids, prompt_tokens) = encoder.encode_sample(&doc.prompt, &doc.response)?;
        writeln!(
            out,
            "{}",
            serde_json::json!({"input_ids": ids, "prompt_tokens": prompt_tokens})
        )?;
    }
    Ok(())
}

fn export_command(args: &ExportArgs) -> Result<()> {
    let dir = latest_or(&args.run)?;
    let run = RunDir::new(&dir);
    let format = corpus_export::Format::parse(&args.format).with_context(|| {
        format!(
            "unknown format `{}`; formats are: megatron, megatron-bridge, olmo, datatrove, hf",
            args.format
        )
    })?;
    if args.packed && format != corpus_export::Format::Hf {
        bail!("--packed is for --format hf (megatron-bridge always packs)");
    }
    let recipe = Recipe::load(&run.recipe_file())?;
    let tokenizer = corpus_tokenize::locate(&recipe.tokenize)?;
    let folder = if args.packed {
        "hf-packed".to_string()
    } else {
        format.name().to_string()
    };
    let options = corpus_export::ExportOptions {
        format,
        shards_dir: run.table("shards"),
        out: args
            .out
            .clone()
            .unwrap_or_else(|| dir.join("exports").join(folder)),
        sequence_length: args
            .sequence_length
            .unwrap_or(recipe.shard.sequence_length as usize),
        hf_packed: args.packed,
        expected_tokenizer: Some((tokenizer.name, tokenizer.sha256)),
        threads: args.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }),
    };
    let manifest = corpus_export::export(&options)?;
    println!(
        "{}: {} -> {}",
        format.name(),
        manifest.summary(),
        options.out.display()
    );
    Ok(())
}

fn plan_command(args: &PlanArgs) -> Result<()> {
    let dir = latest_or(&args.run)?;
    let run = RunDir::new(&dir);
    let recipe = match &args.recipe {
        Some(path) => Recipe::load(path)?,
        None => Recipe::load(&run.recipe_file())?,
    };
    if args.project {
        if let Some(n) = args.prs_per_repo
            && !(n.is_finite() && n > 0.0)
        {
            return Err(corpus_stage::StageError::Usage(format!(
                "--prs-per-repo {n}: must be a positive number"
            ))
            .into());
        }
        let options = corpus_runner::projection::ProjectOptions {
            prs_per_repo: args.prs_per_repo,
            mirror_budget_bytes: recipe.inputs.mirror_budget_bytes(),
        };
        let projection = corpus_runner::project(&recipe, &run, &options)?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&projection)?);
        } else {
            print!("{}", projection.render());
        }
        return Ok(());
    }
    let plan = corpus_runner::plan(&recipe, &run)?;
    for warning in recipe.decontam.warnings() {
        eprintln!("warning: {warning}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print!("{}", plan.render());
    }
    Ok(())
}

fn verify_command(args: &RunOnly) -> Result<()> {
    let dir = latest_or(&args.run)?;
    let report = corpus_runner::verify::verify(&RunDir::new(&dir))?;
    for problem in &report.problems {
        println!("PROBLEM {problem}");
    }
    if report.exports > 0 {
        println!(
            "{} export(s) read back: {} documents compared with the shards",
            report.exports, report.export_documents
        );
    }
    println!(
        "{} tables, {} parts, {} rows checked; {} problem(s)",
        report.tables,
        report.parts,
        report.rows,
        report.problems.len()
    );
    if !report.problems.is_empty() {
        bail!("verification failed for {}", dir.display());
    }
    Ok(())
}

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
    let result = match &cli.command {
        Command::Run(args) => run_command(args, None),
        Command::Extract(args) => run_command(args, Some("extract")),
        Command::Crawl(args) => run_command(args, Some("crawl")),
        Command::Sql(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("start the query runtime")
            .and_then(|rt| rt.block_on(sql_command(args))),
        Command::Status(args) => status_command(args),
        Command::Verify(args) => verify_command(args),
        Command::Plan(args) => plan_command(args),
        Command::Export(args) => export_command(args),
        Command::Tokens(args) => tokens_command(args),
        Command::Recipe(RecipeCommand::Check { recipe }) => Recipe::load(recipe)
            .map(|r| println!("{}: ok (recipe `{}`)", recipe.display(), r.name))
            .map_err(Into::into),
        Command::Recipe(RecipeCommand::Show { recipe }) => {
            let recipe = match recipe {
                Some(path) => Recipe::load(path),
                None => Recipe::demo(),
            };
            recipe
                .and_then(|r| r.to_toml())
                .map(|t| print!("{t}"))
                .map_err(Into::into)
        }
        Command::Discover(args) => discover_command(args),
        Command::Decontam(DecontamCommand::Fingerprint { repo, name, branch }) => {
            fingerprint_command(repo, name.clone(), branch.clone())
        }
        Command::Decontam(DecontamCommand::Report { run, json }) => {
            latest_or(run).and_then(|dir| decontam_cli::report(&dir, *json))
        }
        Command::Decontam(DecontamCommand::GoldLines { file }) => decontam_cli::gold_lines(file),
        Command::Decontam(DecontamCommand::Check { file, recipe }) => {
            decontam_cli::check(file, recipe.as_ref())
        }
        Command::Demo { out } => corpus_demo::generate(out)
            .map(|s| {
                println!(
                    "demo set: {} repositories in {}",
                    s.repos.len(),
                    corpus_demo::repos_dir(&s.root).display()
                );
            })
            .map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            logging::append(&format!("error: {e:#}\n"));
            ExitCode::from(if is_configuration_error(&e) { 2 } else { 1 })
        }
    }
}
