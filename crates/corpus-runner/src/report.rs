//! The run report: per stage, what came in, what went out, what was dropped and why, how long
//! it took and how much memory the process peaked at. Printed as a table and kept in
//! `RUN/report.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

corpus_core::code_enum! {
    /// What a run did with a stage.
    StageOutcome {
        /// Its units ran (those not done before) and its barrier wrote the tables.
        Ran = "ran",
        /// Skipped: its inputs and configuration are unchanged.
        Current = "current",
        /// This process ran some tasks; the barrier is still to come.
        Tasks = "tasks",
    }
}

// The enum comes from a macro, which has no `#[default]` to derive with.
#[allow(clippy::derivable_impls)]
impl Default for StageOutcome {
    fn default() -> Self {
        StageOutcome::Ran
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StageReport {
    pub stage: String,
    pub status: StageOutcome,
    pub units: u64,
    pub units_run: u64,
    /// Rows of the input tables when the stage started.
    #[serde(default)]
    pub rows_in: BTreeMap<String, u64>,
    pub rows_out: BTreeMap<String, u64>,
    pub dropped: BTreeMap<String, u64>,
    /// Tokens of the dropped rows by reason, where the stage counted them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dropped_tokens: BTreeMap<String, u64>,
    /// What else the stage counted, summed over its units (synthesize: `*_tried`,
    /// `*_kept`, `model_replies`, `model_completion_tokens`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counters: BTreeMap<String, u64>,
    pub wall_seconds: f64,
    /// Processor seconds of this process in the stage (every thread): its cost in cores.
    #[serde(default)]
    pub cpu_seconds: f64,
    /// The process's peak resident memory during the stage (the peak is started over at
    /// each stage where the kernel allows, so this is the stage's own).
    pub peak_rss_mib: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunReport {
    pub recipe: String,
    pub tool_version: String,
    pub tool_commit: String,
    pub stages: Vec<StageReport>,
    /// Tokens of the shards per source and split, when the run has shards.
    #[serde(default)]
    pub tokens: Option<corpus_core::manifest::TokenSummary>,
    /// The mirror budget's account, when the recipe has one and the crawl ran under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirrors: Option<crate::mirror_budget::MirrorStats>,
    /// What the recipe leaves open that a user should decide (no decontamination cutoff).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl RunReport {
    /// The warnings, one `warning:` line each.
    pub fn warning_lines(&self) -> String {
        self.warnings
            .iter()
            .map(|w| format!("warning: {w}\n"))
            .collect()
    }

    pub fn summary_table(&self) -> String {
        let mut out = format!(
            "{:<14} {:<8} {:>7} {:>10} {:>10} {:>9} {:>8} {:>8} {:>9}\n",
            "stage",
            "status",
            "units",
            "rows in",
            "rows out",
            "dropped",
            "wall s",
            "cpu s",
            "peak MiB"
        );
        for s in &self.stages {
            let rows: u64 = s.rows_out.values().sum();
            let dropped: u64 = s.dropped.values().sum();
            let rows_in: u64 = s.rows_in.values().sum();
            out.push_str(&format!(
                "{:<14} {:<8} {:>7} {:>10} {:>10} {:>9} {:>8.1} {:>8.1} {:>9.0}\n",
                s.stage,
                s.status,
                s.units,
                rows_in,
                rows,
                dropped,
                s.wall_seconds,
                s.cpu_seconds,
                s.peak_rss_mib
            ));
            for (table, n) in &s.rows_in {
                out.push_str(&format!("    in  {table:<20} {n:>10} rows\n"));
            }
            for (table, n) in &s.rows_out {
                out.push_str(&format!("    out {table:<20} {n:>10} rows\n"));
            }
            for (reason, n) in &s.dropped {
                match s.dropped_tokens.get(reason) {
                    Some(tokens) => out.push_str(&format!(
                        "    dropped {reason:<24} {n:>10}  ({tokens} tokens)\n"
                    )),
                    None => out.push_str(&format!("    dropped {reason:<24} {n:>10}\n")),
                }
            }
            out.push_str(&counter_lines(&s.counters));
        }
        if let Some(tokens) = &self.tokens {
            out.push_str(&format!(
                "tokens in shards ({}, sha256 {}):\n",
                tokens.tokenizer,
                &tokens.tokenizer_sha256.get(..12).unwrap_or("")
            ));
            for (source, splits) in &tokens.per_source {
                for (split, n) in splits {
                    out.push_str(&format!("    {source:<20} {split:<10} {n:>14}\n"));
                }
            }
            out.push_str(&format!("    {:<31} {:>14}\n", "total", tokens.total));
        }
        out
    }
}

/// A stage's counters, one a line; a `X_kept` next to its `X_tried` becomes a share kept.
fn counter_lines(counters: &BTreeMap<String, u64>) -> String {
    let mut out = String::new();
    for (name, n) in counters {
        if let Some(kind) = name.strip_suffix("_kept")
            && let Some(tried) = counters.get(&format!("{kind}_tried"))
        {
            let share = if *tried > 0 {
                format!("{:.1}%", 100.0 * *n as f64 / *tried as f64)
            } else {
                "n/a".to_string()
            };
            out.push_str(&format!(
                "    {kind:<32} {n:>10} kept of {tried} tried ({share})\n"
            ));
        } else if !name
            .strip_suffix("_tried")
            .is_some_and(|kind| counters.contains_key(&format!("{kind}_kept")))
        {
            out.push_str(&format!("    {name:<32} {n:>10}\n"));
        }
    }
    out
}

pub use corpus_core::memory::{cpu_seconds, peak_rss_mib, reset_peak_rss};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_and_tried_counters_become_a_share() {
        let counters: BTreeMap<String, u64> = [
            ("agentic_kept", 3),
            ("agentic_tried", 4),
            ("model_completion_tokens", 1200),
            ("reasoning_kept", 0),
            ("reasoning_tried", 0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let lines = counter_lines(&counters);
        assert!(
            lines.contains("agentic") && lines.contains("3 kept of 4 tried (75.0%)"),
            "{lines}"
        );
        assert!(lines.contains("0 kept of 0 tried (n/a)"), "{lines}");
        assert!(
            lines.contains("model_completion_tokens") && lines.contains("1200"),
            "{lines}"
        );
        assert!(!lines.contains("agentic_tried"), "{lines}");
    }
}
