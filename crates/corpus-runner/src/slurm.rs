//! The Slurm executor: each stage becomes an array job of N tasks (`swe-corpus run --only
//! STAGE --task $SLURM_ARRAY_TASK_ID`) plus a one-task barrier job (`--finalize`), chained with
//! `afterok` and `--kill-on-invalid-dep=yes`, so a failed task cancels what depends on it.
//! Resubmitting after a failure resubmits only the unfinished tasks of the first unfinished
//! stage, and every stage after it. Logs go to `RUN/logs/STAGE-TASK.out`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use corpus_core::error::IoContext;
use corpus_core::hash::task_of;
use corpus_core::recipe::SlurmOptions;

use crate::execute::{Selection, is_current};
use crate::units::UnitStore;
use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::StageContext;

/// One submitted job, as `RUN/logs/slurm-jobs.json` records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SubmittedJob {
    pub stage: String,
    /// `tasks` or `finalize`.
    pub role: String,
    pub job_id: String,
    /// Array indices submitted (empty for the barrier).
    pub tasks: Vec<usize>,
}

/// What `submit` did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Submission {
    pub jobs: Vec<SubmittedJob>,
    pub skipped_current: Vec<String>,
}

fn sbatch(args: &[String], script: &Path) -> Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .arg(script)
        .output()
        .map_err(|e| StageError::Usage(format!("cannot run sbatch (is Slurm installed?): {e}")))?;
    if !out.status.success() {
        return Err(StageError::Usage(format!(
            "sbatch {} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // `--parsable` prints "jobid" or "jobid;cluster".
    Ok(text
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string())
}

fn write_script(path: &Path, body: &str) -> Result<()> {
    corpus_core::manifest::write_atomically(path, body.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).at("chmod", path)?;
    }
    Ok(())
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Indices of the tasks of a stage that still have units to do (all, when the stage's units
/// cannot be listed yet because its inputs do not exist).
fn pending_tasks(
    ctx: &StageContext,
    stage: &dyn corpus_stage::stage::Stage,
    tasks: usize,
) -> Vec<usize> {
    let all: Vec<usize> = (0..tasks).collect();
    let ctx = &ctx.for_stage(stage);
    let Ok(inputs) = stage.inputs(ctx) else {
        return all;
    };
    let Ok(keys) = stage.units(ctx) else {
        return all;
    };
    let Ok(store) = UnitStore::open(&ctx.run.work(stage.name()), &inputs.fingerprint) else {
        return all;
    };
    let mut pending: Vec<usize> = keys
        .iter()
        .filter(|k| !matches!(store.done(k), Ok(Some(_))))
        .map(|k| task_of(k, tasks))
        .collect();
    pending.sort();
    pending.dedup();
    pending
}

/// Submit the selected stages of the run to Slurm.
pub fn submit(
    ctx: &StageContext,
    selection: &Selection,
    tasks: usize,
    options: &SlurmOptions,
    binary: &Path,
) -> Result<Submission> {
    let stages = crate::stages::available();
    let picked = selection.pick(&stages)?;
    let logs = ctx.run.logs();
    std::fs::create_dir_all(&logs).at("create directory", &logs)?;
    let run_root = absolute(&ctx.run.root)?;
    let recipe_path = run_root.join("recipe.toml");
    let mut submission = Submission::default();
    let mut previous: Option<String> = None;
    for (stage, forced) in picked {
        let name = stage.name();
        // Only a stage whose inputs exist can be judged current; once one stage is
        // submitted, every later one must run after it.
        if previous.is_none()
            && !forced
            && let Ok(inputs) = stage.inputs(&ctx.for_stage(stage))
            && is_current(ctx, stage, &inputs.fingerprint)?
        {
            submission.skipped_current.push(name.to_string());
            continue;
        }
        let indices = if previous.is_none() {
            pending_tasks(ctx, stage, tasks)
        } else {
            (0..tasks).collect()
        };
        let common = format!(
            "{} run --recipe {} --run {} --only {name}",
            shell_quote(&binary.to_string_lossy()),
            shell_quote(&recipe_path.to_string_lossy()),
            shell_quote(&run_root.to_string_lossy()),
        );
        let mut dependency = Vec::new();
        if let Some(prev) = &previous {
            dependency.push(format!("--dependency=afterok:{prev}"));
            dependency.push("--kill-on-invalid-dep=yes".to_string());
        }
        let mut array_job = None;
        if !indices.is_empty() {
            let script = logs.join(format!("{name}-tasks.sbatch"));
            write_script(
                &script,
                &format!(
                    "#!/bin/bash\nset -euo pipefail\nexec {common} --tasks {tasks} --task \"$SLURM_ARRAY_TASK_ID\"\n"
                ),
            )?;
            let mut args = resource_args(options, &format!("swe-corpus-{name}"));
            args.push(format!(
                "--array={}",
                indices
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ));
            args.push(format!(
                "--output={}",
                logs.join(format!("{name}-%a.out")).display()
            ));
            args.extend(dependency.clone());
            let id = sbatch(&args, &script)?;
            submission.jobs.push(SubmittedJob {
                stage: name.to_string(),
                role: "tasks".into(),
                job_id: id.clone(),
                tasks: indices.clone(),
            });
            array_job = Some(id);
        }
        let script = logs.join(format!("{name}-finalize.sbatch"));
        write_script(
            &script,
            &format!("#!/bin/bash\nset -euo pipefail\nexec {common} --tasks {tasks} --finalize\n"),
        )?;
        let mut args = resource_args(options, &format!("swe-corpus-{name}-finalize"));
        args.push(format!(
            "--output={}",
            logs.join(format!("{name}-finalize.out")).display()
        ));
        match &array_job {
            Some(id) => {
                args.push(format!("--dependency=afterok:{id}"));
                args.push("--kill-on-invalid-dep=yes".to_string());
            }
            None => args.extend(dependency),
        }
        let id = sbatch(&args, &script)?;
        submission.jobs.push(SubmittedJob {
            stage: name.to_string(),
            role: "finalize".into(),
            job_id: id.clone(),
            tasks: Vec::new(),
        });
        previous = Some(id);
    }
    let text = serde_json::to_string_pretty(&submission)
        .map_err(|e| StageError::Usage(format!("serialize jobs: {e}")))?;
    corpus_core::manifest::write_atomically(&logs.join("slurm-jobs.json"), text.as_bytes())?;
    Ok(submission)
}

fn resource_args(options: &SlurmOptions, job_name: &str) -> Vec<String> {
    let mut args = vec![
        format!("--job-name={job_name}"),
        format!("--cpus-per-task={}", options.cpus_per_task.max(1)),
    ];
    if let Some(p) = &options.partition {
        args.push(format!("--partition={p}"));
    }
    if let Some(m) = &options.mem {
        args.push(format!("--mem={m}"));
    }
    if let Some(t) = &options.time {
        args.push(format!("--time={t}"));
    }
    args.extend(options.extra_args.iter().cloned());
    args
}

fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir()
        .map_err(|e| corpus_core::Error::io("read the current directory", e))?;
    Ok(cwd.join(path))
}

/// Slurm's view of the jobs a run submitted last (`scontrol show job`, no accounting
/// needed): one line per job or array task, e.g. "extract tasks[1] FAILED". Empty when the
/// run was not submitted to Slurm or `scontrol` is not there.
pub fn job_states(run: &corpus_stage::run_dir::RunDir) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(run.logs().join("slurm-jobs.json")) else {
        return Vec::new();
    };
    let Ok(submission) = serde_json::from_str::<Submission>(&text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for job in &submission.jobs {
        let Ok(result) = Command::new("scontrol")
            .args(["show", "job", "-o", &job.job_id])
            .output()
        else {
            return Vec::new();
        };
        let text = String::from_utf8_lossy(&result.stdout);
        for line in text.lines() {
            let field = |key: &str| {
                line.split_whitespace()
                    .find_map(|f| f.strip_prefix(key))
                    .unwrap_or("?")
                    .to_string()
            };
            let state = field("JobState=");
            let label = match line
                .split_whitespace()
                .find_map(|f| f.strip_prefix("ArrayTaskId="))
            {
                Some(task) => format!("{} {}[{task}]", job.stage, job.role),
                None => format!("{} {}", job.stage, job.role),
            };
            out.push(format!("{label} job {} {state}", job.job_id));
        }
    }
    out
}
