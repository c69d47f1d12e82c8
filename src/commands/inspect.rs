//! Commands that read a run: `sql`, `status` and `verify`.

use anyhow::{Context, Result, bail};
use corpus_core::recipe::Recipe;
use corpus_stage::run_dir::RunDir;

use corpus_core::manifest::MANIFEST_FILE;

use super::latest_or;
use super::location::{Pull, open_existing};
use crate::cli::{Format, RunOnly, SqlArgs, StatusArgs};

/// A SQL query over the run's tables, on a runtime of its own (DataFusion is async).
pub fn sql(args: &SqlArgs) -> Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the query runtime")?
        .block_on(query(args))
}

async fn query(args: &SqlArgs) -> Result<()> {
    let arg = args.run.clone().unwrap_or_else(RunDir::latest);
    let session = match corpus_store::RunLocation::parse(&arg)? {
        corpus_store::RunLocation::Local(_) => {
            corpus_sql::RunSession::open(&latest_or(&args.run)?).await?
        }
        corpus_store::RunLocation::Remote(remote) => {
            let store = corpus_store::open::open_store(&remote)?;
            corpus_sql::RunSession::open_in_store(store, &remote.store_base(), &remote.prefix())
                .await?
        }
    };
    let batches = session.query(&args.query).await?;
    let format = match args.format {
        Format::Table => corpus_sql::OutputFormat::Table,
        Format::Csv => corpus_sql::OutputFormat::Csv,
        Format::Json => corpus_sql::OutputFormat::Json,
    };
    print!("{}", corpus_sql::render(&batches, format)?);
    Ok(())
}

pub fn status(args: &StatusArgs) -> Result<()> {
    let opened = open_existing(&args.run, Pull::Markers)?;
    let run = &opened.run;
    if let Some(remote) = &opened.remote {
        // A stage that is not complete lists its units from the tables it reads: those
        // tables' rows come too (a complete stage needs only its manifests).
        let mut wanted = std::collections::BTreeSet::new();
        for stage in corpus_runner::stages::available() {
            let complete = stage
                .writes()
                .iter()
                .all(|table| run.table(table).join(MANIFEST_FILE).is_file());
            if !complete {
                wanted.extend(stage.reads().iter().map(|t| format!("tables/{t}")));
            }
        }
        if !wanted.is_empty() {
            // Listed by table, not the whole run again.
            let scope = corpus_store::Scope::Within {
                folders: wanted.into_iter().collect(),
                files: Vec::new(),
            };
            // The scope is the filter (its top-level files came with the markers already).
            remote.pull_within(&scope, &|_: &str| true)?;
        }
    }
    let recipe_path = run.recipe_file();
    let recipe = Recipe::load(&recipe_path)
        .with_context(|| format!("reading the run's recipe {}", recipe_path.display()))?;
    let ctx = corpus_stage::stage::StageContext::new(&recipe, run);
    println!(
        "{:<14} {:<12} {:>27} {:>10}  tasks (done/failed/pending)",
        "stage", "state", "units (done/running/failed)", "rows"
    );
    for s in corpus_runner::status::status(&ctx)? {
        let tasks = s
            .tasks
            .as_ref()
            .map(|t| format!("{}/{}/{} of {}", t.done, t.failed, t.pending, t.total))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<14} {:<12} {:>27} {:>10}  {tasks}",
            s.stage,
            s.state,
            format!(
                "{}/{}/{} of {}",
                s.units_done, s.units_running, s.units_failed, s.units
            ),
            s.rows
        );
        for failure in &s.failures {
            println!("    FAILED {failure}");
        }
    }
    let jobs = corpus_runner::slurm::job_states(run);
    if !jobs.is_empty() {
        println!("slurm jobs of the last submission:");
        for job in jobs {
            println!("    {job}");
        }
    }
    Ok(())
}

pub fn verify(args: &RunOnly) -> Result<()> {
    let opened = open_existing(&args.run, Pull::Everything)?;
    let report = corpus_runner::verify::verify(&opened.run)?;
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
        bail!("verification failed for {}", opened.shown());
    }
    Ok(())
}
