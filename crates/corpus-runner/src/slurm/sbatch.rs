//! Talking to Slurm: `sbatch` with a script and its arguments, the resources a job asks for,
//! the cluster's `MaxArraySize`, and array indices cut to fit under it.

use std::path::Path;
use std::process::Command;

use corpus_core::error::IoContext;
use corpus_core::recipe::SlurmOptions;
use corpus_stage::error::{Result, StageError};

/// Submit `script` with `args` before it and `script_args` after it; the job id.
pub fn sbatch(args: &[String], script: &Path, script_args: &[String]) -> Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .arg(script)
        .args(script_args)
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

/// Write an executable job script.
pub fn write_script(path: &Path, body: &str) -> Result<()> {
    corpus_core::manifest::write_atomically(path, body.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).at("chmod", path)?;
    }
    Ok(())
}

pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The `sbatch` arguments of the recipe's resources.
pub fn resource_args(options: &SlurmOptions, job_name: &str) -> Vec<String> {
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

/// Slurm's default `MaxArraySize`, for a cluster that does not say.
const DEFAULT_MAX_ARRAY_SIZE: usize = 1001;

/// The recipe's `max_array_size`, else the cluster's (`scontrol show config`), else Slurm's
/// default.
pub fn max_array_size(options: &SlurmOptions) -> usize {
    if options.max_array_size > 0 {
        return options.max_array_size;
    }
    Command::new("scontrol")
        .args(["show", "config"])
        .output()
        .ok()
        .and_then(|out| parse_max_array_size(&String::from_utf8_lossy(&out.stdout)))
        .unwrap_or(DEFAULT_MAX_ARRAY_SIZE)
}

/// `MaxArraySize = N` of `scontrol show config`'s output.
fn parse_max_array_size(config: &str) -> Option<usize> {
    config.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "MaxArraySize")
            .then(|| value.trim().parse::<usize>().ok())
            .flatten()
            .filter(|n| *n > 0)
    })
}

/// One array job's share of a stage's tasks: array indices run from 0 to below the cluster's
/// `MaxArraySize`, so task `offset + SLURM_ARRAY_TASK_ID` is what an element runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayChunk {
    pub offset: usize,
    /// Indices within the array (each below `max_array_size`).
    pub indices: Vec<usize>,
}

/// Cut sorted task indices into array jobs that each fit under `max_array_size`.
pub fn array_chunks(tasks: &[usize], max_array_size: usize) -> Vec<ArrayChunk> {
    let size = max_array_size.max(1);
    let mut chunks: Vec<ArrayChunk> = Vec::new();
    for &task in tasks {
        let offset = task / size * size;
        match chunks.last_mut() {
            Some(chunk) if chunk.offset == offset => chunk.indices.push(task - offset),
            _ => chunks.push(ArrayChunk {
                offset,
                indices: vec![task - offset],
            }),
        }
    }
    chunks
}

/// `--array=` of indices: ranges where they run on (`0-4,7`), which keeps the argument short
/// for thousands of elements.
pub fn array_spec(indices: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end = indices[i];
        }
        parts.push(if end == start {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_beyond_the_array_limit_go_in_further_array_jobs() {
        let chunks = array_chunks(&[0, 1, 4, 5, 9, 12], 5);
        assert_eq!(
            chunks,
            vec![
                ArrayChunk {
                    offset: 0,
                    indices: vec![0, 1, 4]
                },
                ArrayChunk {
                    offset: 5,
                    indices: vec![0, 4]
                },
                ArrayChunk {
                    offset: 10,
                    indices: vec![2]
                },
            ]
        );
        for chunk in &chunks {
            assert!(chunk.indices.iter().all(|i| *i < 5));
        }
        assert_eq!(array_chunks(&[], 5), Vec::new());
        // 10^5 tasks under Slurm's default limit: 100 array jobs.
        let all: Vec<usize> = (0..100_000).collect();
        assert_eq!(array_chunks(&all, 1001).len(), 100);
    }

    #[test]
    fn array_specs_are_ranges() {
        assert_eq!(array_spec(&[0, 1, 2, 4, 6, 7]), "0-2,4,6-7");
        assert_eq!(array_spec(&[3]), "3");
    }

    #[test]
    fn the_limit_is_read_from_scontrol() {
        let config = "Configuration data as of 2026-12-07T10:00:00\nMaxArraySize            = 5\nMaxJobCount             = 10000\n";
        assert_eq!(parse_max_array_size(config), Some(5));
        assert_eq!(parse_max_array_size("MaxJobCount = 3\n"), None);
        let chosen = SlurmOptions {
            max_array_size: 7,
            ..SlurmOptions::default()
        };
        assert_eq!(max_array_size(&chosen), 7);
    }
}
