//! The run report: per stage, what came in, what went out, what was dropped and why, how long
//! it took and how much memory the process peaked at. Printed as a table and kept in
//! `RUN/report.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StageReport {
    pub stage: String,
    /// `ran`, `current` (skipped: inputs unchanged), or `tasks` (this process ran some
    /// tasks; the barrier is still to come).
    pub status: String,
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
    pub wall_seconds: f64,
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
}

impl RunReport {
    pub fn summary_table(&self) -> String {
        let mut out = format!(
            "{:<14} {:<8} {:>7} {:>10} {:>10} {:>9} {:>8} {:>9}\n",
            "stage", "status", "units", "rows in", "rows out", "dropped", "wall s", "peak MiB"
        );
        for s in &self.stages {
            let rows: u64 = s.rows_out.values().sum();
            let dropped: u64 = s.dropped.values().sum();
            let rows_in: u64 = s.rows_in.values().sum();
            out.push_str(&format!(
                "{:<14} {:<8} {:>7} {:>10} {:>10} {:>9} {:>8.1} {:>9.0}\n",
                s.stage, s.status, s.units, rows_in, rows, dropped, s.wall_seconds, s.peak_rss_mib
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

pub use corpus_core::memory::peak_rss_mib;
