//! The command line's arguments (clap): every command and flag, and nothing else. What a
//! command does is in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "swe-corpus",
    version = corpus_core::version::LONG_VERSION,
    about = "Builds mid-training corpora for software-engineering language models",
    long_about = "Builds mid-training corpora for software-engineering language models from git \
                  history: pull requests become patches, commit packs and (later stages) \
                  Agentless samples, written as Parquet tables you can query with `swe-corpus sql`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// What a Slurm step job runs after a stage's array jobs (`run --executor slurm` submits
    /// it): submit again the tasks with units left, or run the barrier and submit the next
    /// stage.
    #[command(hide = true)]
    SlurmStep(SlurmStepArgs),
    /// Generate the demo repositories (the embedded recipe does this when they are missing).
    Demo {
        /// Where to write them.
        #[arg(long, default_value = "data/demo")]
        out: PathBuf,
    },
}

#[derive(Args)]
pub struct RecipeSource {
    /// Recipe file (TOML). Default: the embedded demo recipe.
    #[arg(long, short = 'r', conflicts_with_all = ["repo", "recipe_of_run"])]
    pub recipe: Option<PathBuf>,
    /// Use the effective recipe the run holds (its `recipe.toml`): how cluster jobs of a run
    /// on object storage read it. Needs --run.
    #[arg(long, conflicts_with = "repo")]
    pub recipe_of_run: bool,
    /// Quick try without a recipe: extract these repositories (repeatable).
    #[arg(long, value_name = "PATH")]
    pub repo: Vec<PathBuf>,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Run directory with shards. Default: runs/latest.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// megatron, megatron-bridge, olmo, datatrove or hf.
    #[arg(long)]
    pub format: String,
    /// Output folder. Default: RUN/exports/FORMAT (hf --packed: RUN/exports/hf-packed).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// hf only: pack documents into sequences (position_ids, cu_seqlens).
    #[arg(long)]
    pub packed: bool,
    /// Sequence length of packed formats. Default: the run recipe's [shard] sequence_length.
    #[arg(long)]
    pub sequence_length: Option<usize>,
    /// Threads (one shard per thread at a time). Default: one per core.
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Args)]
pub struct TokensArgs {
    /// JSON-lines file to encode.
    pub input: PathBuf,
    /// Tokenizer: `qwen2.5`, `qwen3` or a tokenizer.json path. Default: the recipe's.
    #[arg(long)]
    pub tokenizer: Option<String>,
    /// Recipe whose [tokenize] to use. Default: the embedded demo recipe.
    #[arg(long, short = 'r')]
    pub recipe: Option<PathBuf>,
}

#[derive(Args)]
pub struct PlanArgs {
    /// Recipe file whose [mix] to plan. Default: the recipe the run was made with.
    #[arg(long, short = 'r')]
    pub recipe: Option<PathBuf>,
    /// Run directory with a `tokenized` table. Default: runs/latest.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Project the run's measured rates (tokens per PR per source, processor seconds per
    /// stage, bytes per table and mirror) onto the recipe's budget: PRs, repositories,
    /// core-hours, disk and API quota it needs.
    #[arg(long)]
    pub project: bool,
    /// With --project: PRs per repository among the repositories still to crawl (e.g. the
    /// median of `swe-corpus discover`'s counts). Default: the run's own.
    #[arg(long, requires = "project")]
    pub prs_per_repo: Option<f64>,
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub source: RecipeSource,
    /// Run directory. Default: runs/<recipe name>.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// Tasks per stage (default: the recipe's `runner.tasks`, else one per core). The output
    /// bytes are the same for any number.
    #[arg(long)]
    pub tasks: Option<usize>,
    /// Run only task I of --tasks (0-based), for a cluster array job; needs --only.
    #[arg(long, value_name = "I")]
    pub task: Option<usize>,
    /// Only run the barrier of --only STAGE once all its tasks are done.
    #[arg(long)]
    pub finalize: bool,
    /// Stop after this stage.
    #[arg(long, value_name = "STAGE")]
    pub until: Option<String>,
    /// Rerun from this stage on, even where current.
    #[arg(long, value_name = "STAGE")]
    pub from: Option<String>,
    /// Run only this stage, even if current.
    #[arg(long, value_name = "STAGE", conflicts_with_all = ["until", "from"])]
    pub only: Option<String>,
    /// Where the tasks run: here on a thread pool, or as Slurm array jobs (`sbatch`): per
    /// stage its tasks, then a step job that retries failed tasks (`[slurm] max_retries`),
    /// runs the barrier and submits the next stage.
    #[arg(long, value_enum, default_value = "local")]
    pub executor: Executor,
}

#[derive(Args)]
pub struct SlurmStepArgs {
    /// The run's effective recipe. Default: the `recipe.toml` the run holds.
    #[arg(long)]
    pub recipe: Option<PathBuf>,
    #[arg(long)]
    pub run: PathBuf,
    /// The stage whose tasks ran.
    #[arg(long)]
    pub stage: String,
    /// Its task count.
    #[arg(long)]
    pub tasks: usize,
    /// `--tasks` of the submission, for later stages.
    #[arg(long)]
    pub base_tasks: usize,
    /// The stages after it, comma-separated.
    #[arg(long, default_value = "")]
    pub then: String,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Executor {
    Local,
    Slurm,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Args)]
pub struct SqlArgs {
    /// The query, e.g. "select kind, count(*) from patches group by kind".
    pub query: String,
    /// Run directory. Default: runs/latest.
    #[arg(long)]
    pub run: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Args)]
pub struct RunOnly {
    /// Run directory. Default: runs/latest.
    #[arg(long)]
    pub run: Option<PathBuf>,
}

#[derive(Args)]
pub struct StatusArgs {
    /// Run directory. Default: runs/latest.
    #[arg(long)]
    pub run: Option<PathBuf>,
}

#[derive(Args)]
pub struct DiscoverArgs {
    /// Recipe whose [crawl.search] to enumerate (not needed with --gharchive or --csv).
    #[arg(long, short = 'r')]
    pub recipe: Option<PathBuf>,
    /// Run directory whose crawl cache to use. Default: runs/<recipe name>.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// GH Archive hourly event files (`YYYY-MM-DD-H.json.gz`): count each repository's
    /// closed and merged pull requests.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub gharchive: Vec<PathBuf>,
    /// CSV exports with a repository column (and an optional count column).
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub csv: Vec<PathBuf>,
    /// Leave out repositories with fewer pull requests than this (archives and CSV).
    #[arg(long, default_value_t = 1)]
    pub min_prs: u64,
    /// Where to write the list (`owner/name  # counts` lines).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Subcommand)]
pub enum DecontamCommand {
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
pub enum RecipeCommand {
    /// Check a recipe and list every error in it.
    Check { recipe: PathBuf },
    /// Print the effective recipe (defaults filled in); default: the embedded demo recipe.
    Show { recipe: Option<PathBuf> },
}
