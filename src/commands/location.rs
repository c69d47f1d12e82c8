//! The run a command works on: a local folder, or a run on object storage
//! (`--run s3://bucket/prefix`) worked on through a scratch copy on this node's disk. The
//! copy lives under `SWE_CORPUS_SCRATCH` (default: the system's temporary folder), one per
//! run URL and, inside a Slurm job, one per job: cluster tasks share nothing but the store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use corpus_stage::run_dir::RunDir;
use corpus_store::{RemoteRun, RunLocation, Scope};

/// What a command needs of a run on a store before it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pull {
    /// Tables, units and markers; of a complete export only its manifest; of the logs only
    /// the Slurm job list (`run`, `plan`, `export`).
    Working,
    /// What one stage's task or barrier needs (a Slurm job, or a task run by hand), as
    /// `Working` but of the tables only the manifests and the rows of `tables`, and of the
    /// waiting rooms only the stage's own: its markers for a task, everything for the
    /// barrier. A job's copy then holds one stage's inputs, not the whole run.
    Stage {
        stage: String,
        tables: std::collections::BTreeSet<String>,
        barrier: bool,
    },
    /// Every file (`verify` reads every byte).
    Everything,
    /// Manifests, markers, the job list and the `repos` table: what `status` reads, no
    /// other data.
    Markers,
}

impl Pull {
    /// What a task (`barrier` false) or the barrier of `stage` needs; the barrier also
    /// rewrites the stage's tables, and a Slurm step then lists the units of `next`. An
    /// unknown stage gets everything a run needs (the runner names the error).
    pub fn for_stage(stage: &str, barrier: bool, next: Option<&str>) -> Pull {
        let stages = corpus_runner::stages::available();
        let find = |name: &str| stages.iter().find(|s| s.name() == name);
        let Some(this) = find(stage) else {
            return Pull::Working;
        };
        let mut tables: std::collections::BTreeSet<String> =
            this.reads().iter().map(|t| t.to_string()).collect();
        if barrier {
            tables.extend(this.writes().iter().map(|t| t.to_string()));
        }
        if let Some(next) = next.and_then(find) {
            tables.extend(next.reads().iter().map(|t| t.to_string()));
        }
        Pull::Stage {
            stage: stage.to_string(),
            tables,
            barrier,
        }
    }

    /// What the store is asked to list: a stage's job lists the tables, its stage's room and
    /// the exports, not the rooms of every stage nor every log.
    fn scope(&self) -> Scope {
        match self {
            Pull::Stage { stage, .. } => Scope::Within {
                folders: vec![
                    "tables".to_string(),
                    format!("_work/{stage}"),
                    "exports".to_string(),
                ],
                files: vec!["logs/slurm-jobs.json".to_string()],
            },
            _ => Scope::Everything,
        }
    }

    /// Whether a run-relative path is pulled.
    fn wants(&self, relative: &str, complete_exports: &std::collections::BTreeSet<String>) -> bool {
        // Of the logs, commands need only the Slurm job list.
        let log_or_job_list = !relative.starts_with("logs/") || relative == "logs/slurm-jobs.json";
        let working = || {
            let complete_export = complete_exports
                .iter()
                .any(|f| relative.starts_with(f.as_str()));
            (!complete_export || relative.ends_with("/_manifest.json")) && log_or_job_list
        };
        match self {
            Pull::Working => working(),
            Pull::Everything => true,
            // The git stages list their units from `repos`: its rows too (one row per
            // repository).
            Pull::Markers => {
                (!relative.ends_with(".parquet") || relative.starts_with("tables/repos/"))
                    && log_or_job_list
            }
            Pull::Stage {
                stage,
                tables,
                barrier,
            } => {
                if let Some(rest) = relative.strip_prefix("tables/") {
                    let table = rest.split('/').next().unwrap_or_default();
                    !relative.ends_with(".parquet") || tables.contains(table)
                } else if let Some(rest) = relative.strip_prefix("_work/") {
                    // Of a unit folder a task needs the marker (`_done.json`), of the
                    // stage's room its fingerprint and task records: names starting `_`.
                    match rest
                        .strip_prefix(stage.as_str())
                        .and_then(|r| r.strip_prefix('/'))
                    {
                        Some(inside) => *barrier || inside.split('/').any(|c| c.starts_with('_')),
                        None => false,
                    }
                } else {
                    working()
                }
            }
        }
    }
}

pub struct OpenedRun {
    pub run: RunDir,
    pub remote: Option<Arc<RemoteRun>>,
    /// A Slurm job's own copy, removed once published.
    per_job: bool,
}

impl OpenedRun {
    /// The run's name for messages: its folder, or its redacted URL.
    pub fn shown(&self) -> String {
        match &self.remote {
            Some(remote) => remote.remote().to_string(),
            None => self.run.root.display().to_string(),
        }
    }

    /// Publish everything the command left (logs, exports, the report) to the store; a
    /// Slurm job's copy is then removed (the node's disk is not the run's home).
    pub fn finish(&self) -> Result<()> {
        if let Some(remote) = &self.remote {
            remote
                .publish("")
                .with_context(|| format!("publish the run to {}", remote.remote()))?;
            if self.per_job {
                let _ = std::fs::remove_dir_all(remote.local());
            }
        }
        Ok(())
    }

    /// `result`; when it is an error, the logs are sent first (see `after_failure`).
    pub fn unless_failed<T, E: Into<anyhow::Error>>(&self, result: Result<T, E>) -> Result<T> {
        result.map_err(|e| {
            self.after_failure();
            e.into()
        })
    }

    /// After a failure: send the logs if the store takes them (the error is what matters),
    /// and drop a Slurm job's copy (what it committed is published; a retry starts afresh).
    fn after_failure(&self) {
        if let Some(remote) = &self.remote {
            if let Err(e) = remote.publish("logs") {
                tracing::warn!("could not publish the logs to {}: {e}", remote.remote());
            }
            if self.per_job {
                let _ = std::fs::remove_dir_all(remote.local());
            }
        }
    }
}

/// Open the run `arg` names (else `default`), pulling what `pull` says from a store.
pub fn open_run(arg: &Path, pull: Pull) -> Result<OpenedRun> {
    let remote = match RunLocation::parse(arg)? {
        RunLocation::Local(path) => {
            return Ok(OpenedRun {
                run: RunDir::new(&path),
                remote: None,
                per_job: false,
            });
        }
        RunLocation::Remote(remote) => remote,
    };
    let (scratch, per_job) = scratch_for(&remote.scratch_name());
    let remote = Arc::new(RemoteRun::open(remote, &scratch)?);
    // Exports are as large as the shards: a complete one (with its manifest) comes as its
    // manifest alone, an unfinished one whole (its barrier needs the units' files).
    let complete_exports: std::collections::BTreeSet<String> =
        if pull != Pull::Everything && pull != Pull::Markers {
            let exports = Scope::Within {
                folders: vec!["exports".to_string()],
                files: Vec::new(),
            };
            remote
                .list_within(&exports)
                .with_context(|| format!("read the run {}", remote.remote()))?
                .into_iter()
                .filter_map(|(path, _, _)| {
                    let folder = path.strip_suffix("/_manifest.json")?;
                    folder.starts_with("exports/").then(|| format!("{folder}/"))
                })
                .collect()
        } else {
            Default::default()
        };
    let wanted = |r: &str| pull.wants(r, &complete_exports);
    let pulled = remote
        .pull_within(&pull.scope(), &wanted)
        .with_context(|| format!("read the run {}", remote.remote()))?;
    tracing::info!(
        "{}: {} file(s) brought to the scratch copy {} ({} bytes)",
        remote.remote(),
        pulled.downloaded,
        scratch.display(),
        pulled.bytes
    );
    if matches!(pull, Pull::Working | Pull::Stage { .. }) {
        // What an earlier command on this node committed here but could not publish (killed,
        // or the store was down) goes up first.
        remote
            .publish("")
            .with_context(|| format!("publish earlier work to {}", remote.remote()))?;
    }
    let publisher: Arc<dyn corpus_stage::run_dir::Publisher> = remote.clone();
    Ok(OpenedRun {
        run: RunDir::new(&scratch)
            .with_publisher(publisher)
            .with_location(remote.remote().to_string()),
        remote: Some(remote),
        per_job,
    })
}

/// The run a command reads (`--run`, else `runs/latest`): it must exist.
pub fn open_existing(arg: &Option<PathBuf>, pull: Pull) -> Result<OpenedRun> {
    let arg = arg.clone().unwrap_or_else(RunDir::latest);
    if let RunLocation::Local(_) = RunLocation::parse(&arg)? {
        return Ok(OpenedRun {
            run: RunDir::new(&super::latest_or(&Some(arg))?),
            remote: None,
            per_job: false,
        });
    }
    let opened = open_run(&arg, pull)?;
    if !opened.run.recipe_file().is_file() {
        bail!(
            "no run at {}: run `swe-corpus run` first, or pass --run DIR",
            opened.shown()
        );
    }
    Ok(opened)
}

/// The scratch copy's folder, and whether it belongs to this Slurm job alone.
fn scratch_for(name: &str) -> (PathBuf, bool) {
    let root = std::env::var_os("SWE_CORPUS_SCRATCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("swe-corpus"));
    let copy = root.join(name);
    match slurm_job() {
        Some(job) => (copy.join(format!("job-{job}")), true),
        None => (copy, false),
    }
}

/// The Slurm job this process runs in, if any.
fn slurm_job() -> Option<String> {
    std::env::var("SLURM_JOB_ID").ok().filter(|j| !j.is_empty())
}

/// What names this process's logs in a run on a store: its Slurm job, else its process id.
pub fn job_or_process_id() -> String {
    slurm_job().unwrap_or_else(|| std::process::id().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_job_pulls_its_inputs_and_its_own_markers_only() {
        let none = std::collections::BTreeSet::new();
        let task = Pull::for_stage("tokenize", false, None);
        let barrier = Pull::for_stage("tokenize", true, Some("mix"));
        // The tables tokenize reads come whole; of the others, the manifests.
        for pull in [&task, &barrier] {
            assert!(pull.wants("tables/curated/part-00000.parquet", &none));
            assert!(pull.wants("tables/repos/crawl-part-00000.parquet", &none));
            assert!(pull.wants("tables/blobs/_manifest.json", &none));
            assert!(!pull.wants("tables/blobs/part-00000.parquet", &none));
            assert!(pull.wants("recipe.toml", &none));
            assert!(pull.wants("logs/slurm-jobs.json", &none));
            assert!(!pull.wants("logs/extract-0.out", &none));
            assert!(!pull.wants("_work/format/a-1/samples-00000.parquet", &none));
            assert!(!pull.wants("_work/format/a-1/_done.json", &none));
            assert!(pull.wants("_work/tokenize/_fingerprint", &none));
            assert!(pull.wants("_work/tokenize/a-1/_done.json", &none));
            assert!(pull.wants("_work/tokenize/_tasks/3-of-8.json", &none));
        }
        // A task does not need the rows its siblings made; the barrier merges them, rewrites
        // the stage's table, and the step lists the next stage's units.
        assert!(!task.wants("_work/tokenize/a-1/tokenized-00000.parquet", &none));
        assert!(barrier.wants("_work/tokenize/a-1/tokenized-00000.parquet", &none));
        assert!(!task.wants("tables/tokenized/part-00000.parquet", &none));
        assert!(barrier.wants("tables/tokenized/part-00000.parquet", &none));
        assert!(!task.wants("_work/tokenizer/_fingerprint", &none));
        // An unknown stage gets what a whole run needs.
        assert_eq!(Pull::for_stage("nonsense", false, None), Pull::Working);
    }
}
