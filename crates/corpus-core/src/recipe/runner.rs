//! The recipe's `[tables]`, `[runner]` and `[slurm]` sections: part sizes and how the
//! stages are executed.

use serde::{Deserialize, Serialize};

/// Sizes of table parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TableOptions {
    /// A part closes once it holds this many MiB of (uncompressed) data.
    pub max_part_mib: u64,
    /// Row groups flush at this many MiB of encoded data.
    pub row_group_mib: u64,
    /// Or at this many rows.
    pub row_group_rows: u64,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            max_part_mib: 256,
            row_group_mib: 32,
            row_group_rows: 8192,
        }
    }
}

impl TableOptions {
    pub fn writer_options(&self) -> crate::table::WriterOptions {
        crate::table::WriterOptions {
            max_part_bytes: self.max_part_mib.max(1) << 20,
            max_row_group_bytes: (self.row_group_mib.max(1) << 20) as usize,
            max_row_group_rows: self.row_group_rows.max(1) as usize,
            ..Default::default()
        }
    }
}

/// How the runner executes the stages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunnerOptions {
    /// Tasks per stage (0: one per core). Output bytes do not depend on it.
    #[serde(default)]
    pub tasks: usize,
}

/// Resources of the Slurm jobs (`swe-corpus run --executor slurm`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlurmOptions {
    /// Partition to submit to (default: the cluster's default partition).
    pub partition: Option<String>,
    /// CPUs per task (`--cpus-per-task`).
    pub cpus_per_task: u32,
    /// Memory per task (`--mem`, e.g. "8G").
    pub mem: Option<String>,
    /// Time limit per task (`--time`, e.g. "04:00:00").
    pub time: Option<String>,
    /// Further `sbatch` arguments, e.g. ["--account=research"].
    pub extra_args: Vec<String>,
    /// The cluster's `MaxArraySize` (0: ask `scontrol show config`). A stage with more tasks
    /// is submitted as several array jobs.
    pub max_array_size: usize,
    /// Units per array element (0: `--tasks` as given). A stage whose units are known when
    /// it is submitted gets ceil(units / units_per_task) tasks.
    pub units_per_task: usize,
    /// How many times a failed task is run again inside its job before the job fails (and
    /// Slurm cancels the rest of the run).
    pub max_retries: u32,
}

impl Default for SlurmOptions {
    fn default() -> Self {
        Self {
            partition: None,
            cpus_per_task: 1,
            mem: None,
            time: None,
            extra_args: Vec::new(),
            max_array_size: 0,
            units_per_task: 0,
            max_retries: 2,
        }
    }
}
