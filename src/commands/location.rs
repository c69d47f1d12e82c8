//! The run a command works on: a local folder, or a run on object storage
//! (`--run s3://bucket/prefix`) worked on through a scratch copy on this node's disk. The
//! copy lives under `SWE_CORPUS_SCRATCH` (default: the system's temporary folder), one per
//! run URL and, inside a Slurm job, one per job: cluster tasks share nothing but the store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use corpus_stage::run_dir::RunDir;
use corpus_store::{RemoteRun, RunLocation};

/// What a command needs of a run on a store before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pull {
    /// Tables, units and markers; of a complete export only its manifest; of the logs only
    /// the Slurm job list (`run`, `plan`, `export`, a Slurm step).
    Working,
    /// Every file (`verify` reads every byte).
    Everything,
    /// Manifests, markers, the job list and the `repos` table: what `status` reads, no
    /// other data.
    Markers,
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

    /// After a failure: send the logs if the store takes them (the error is what matters),
    /// and drop a Slurm job's copy (what it committed is published; a retry starts afresh).
    pub fn after_failure(&self) {
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
    let complete_exports: std::collections::BTreeSet<String> = if pull == Pull::Working {
        remote
            .list()
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
    let working = |r: &str| {
        let complete_export = complete_exports.iter().any(|f| r.starts_with(f.as_str()));
        (!complete_export || r.ends_with("/_manifest.json"))
            && (!r.starts_with("logs/") || r == "logs/slurm-jobs.json")
    };
    let wanted: &dyn Fn(&str) -> bool = match pull {
        Pull::Working => &working,
        Pull::Everything => &|_: &str| true,
        // The git stages list their units from `repos`: its rows too (one row per repository).
        Pull::Markers => &|r: &str| {
            (!r.ends_with(".parquet") || r.starts_with("tables/repos/"))
                && (!r.starts_with("logs/") || r == "logs/slurm-jobs.json")
        },
    };
    let pulled = remote
        .pull(wanted)
        .with_context(|| format!("read the run {}", remote.remote()))?;
    tracing::info!(
        "{}: {} file(s) brought to the scratch copy {} ({} bytes)",
        remote.remote(),
        pulled.downloaded,
        scratch.display(),
        pulled.bytes
    );
    if pull == Pull::Working {
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
    match std::env::var("SLURM_JOB_ID") {
        Ok(job) if !job.is_empty() => (copy.join(format!("job-{job}")), true),
        _ => (copy, false),
    }
}
