//! Repository lists users bring, turned into the crawl's `repos_file`: GH Archive's hourly
//! event files (`YYYY-MM-DD-H.json.gz`), where each repository counts its pull requests
//! closed (and merged, where the event still says so), and CSV exports (BigQuery's, or any
//! with a repository column). No request is made.
//!
//! GH Archive trimmed its `PullRequestEvent` payloads in late 2025: only the repository name,
//! the PR number and the action are relied on; `payload.pull_request.merged` (or
//! `merged_at`) counts a merge when the older, full payload carries it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Deserialize;

use crate::error::{CrawlError, Result};

/// What a list knows of one repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoCount {
    /// Distinct pull requests closed (merged or not).
    pub closed: u64,
    /// Distinct pull requests known to be merged (full payloads, or a CSV count).
    pub merged: u64,
}

/// What reading the archives met.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveStats {
    pub files: u64,
    pub events: u64,
    /// Lines that were not JSON, or events without a repository name or PR number.
    pub bad_lines: u64,
    /// Closed PRs whose payload said nothing about a merge (the trimmed shape).
    pub merge_unknown: u64,
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    repo: Option<EventRepo>,
    payload: Option<Payload>,
}

#[derive(Deserialize)]
struct EventRepo {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Payload {
    action: Option<String>,
    number: Option<u64>,
    pull_request: Option<PullPayload>,
}

#[derive(Deserialize)]
struct PullPayload {
    number: Option<u64>,
    merged: Option<bool>,
    merged_at: Option<String>,
}

fn io(path: &Path, e: std::io::Error) -> CrawlError {
    CrawlError::Usage(format!("{}: {e}", path.display()))
}

/// Count closed and merged PRs per repository over GH Archive files (gzip JSON lines, or
/// plain JSON lines when the name does not end in `.gz`). A PR closed in several hours (or
/// reopened and closed again) counts once.
pub fn count_gharchive(
    paths: &[std::path::PathBuf],
) -> Result<(BTreeMap<String, RepoCount>, ArchiveStats)> {
    let mut closed: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    let mut merged: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    let mut stats = ArchiveStats::default();
    for path in paths {
        let file = std::fs::File::open(path).map_err(|e| io(path, e))?;
        let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
            Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
        } else {
            Box::new(BufReader::new(file))
        };
        stats.files += 1;
        for line in reader.split(b'\n') {
            let line = line.map_err(|e| io(path, e))?;
            // Only pull request events are parsed; the rest is skipped unread.
            if !contains(&line, b"\"PullRequestEvent\"") {
                continue;
            }
            let Ok(event) = serde_json::from_slice::<Event>(&line) else {
                stats.bad_lines += 1;
                continue;
            };
            if event.kind != "PullRequestEvent" {
                continue;
            }
            stats.events += 1;
            let repo = event
                .repo
                .and_then(|r| r.name)
                .and_then(|n| corpus_core::repo_name::normalize(&n));
            let Some(payload) = event.payload else {
                stats.bad_lines += 1;
                continue;
            };
            let number = payload
                .number
                .or_else(|| payload.pull_request.as_ref().and_then(|p| p.number));
            let (Some(repo), Some(number)) = (repo, number) else {
                stats.bad_lines += 1;
                continue;
            };
            if payload.action.as_deref() != Some("closed") {
                continue;
            }
            closed.entry(repo.clone()).or_default().insert(number);
            match payload.pull_request.map(|p| (p.merged, p.merged_at)) {
                Some((Some(true), _)) | Some((_, Some(_))) => {
                    merged.entry(repo).or_default().insert(number);
                }
                Some((Some(false), _)) => {}
                _ => stats.merge_unknown += 1,
            }
        }
    }
    let counts = closed
        .into_iter()
        .map(|(repo, numbers)| {
            let merged = merged.get(&repo).map_or(0, BTreeSet::len) as u64;
            let count = RepoCount {
                closed: numbers.len() as u64,
                merged,
            };
            (repo, count)
        })
        .collect();
    Ok((counts, stats))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Column names that hold the repository in common exports.
const REPO_COLUMNS: &[&str] = &["repo_name", "repo", "full_name", "repository", "name"];
/// Column names that hold a count of merged PRs.
const COUNT_COLUMNS: &[&str] = &["merged", "merged_prs", "prs", "count", "n"];

/// Repositories of a CSV export with a header row: the first column named like a
/// repository (`repo_name`, `repo`, `full_name`, …), and a count column when there is one
/// (`merged_prs`, `count`, …). Rows whose repository is not `owner/name` are an error that
/// names the line.
pub fn read_csv_list(path: &Path) -> Result<BTreeMap<String, RepoCount>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| CrawlError::Usage(format!("{}: {e}", path.display())))?;
    let headers = reader
        .headers()
        .map_err(|e| CrawlError::Usage(format!("{}: {e}", path.display())))?
        .clone();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&h.trim().to_ascii_lowercase().as_str()))
    };
    let repo_column = find(REPO_COLUMNS).ok_or_else(|| {
        CrawlError::Usage(format!(
            "{}: no repository column (one of {})",
            path.display(),
            REPO_COLUMNS.join(", ")
        ))
    })?;
    let count_column = find(COUNT_COLUMNS);
    let mut out: BTreeMap<String, RepoCount> = BTreeMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record =
            record.map_err(|e| CrawlError::Usage(format!("{}:{line}: {e}", path.display())))?;
        let raw = record.get(repo_column).unwrap_or("").trim();
        let repo = corpus_core::repo_name::normalize(raw).ok_or_else(|| {
            CrawlError::Usage(format!(
                "{}:{line}: `{raw}` is not owner/name",
                path.display()
            ))
        })?;
        let count = count_column
            .and_then(|c| record.get(c))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let entry = out.entry(repo).or_default();
        entry.merged += count;
        entry.closed += count;
    }
    Ok(out)
}

/// The list as the crawl's `repos_file` reads it: one `owner/name` a line, most PRs first
/// (merged, then closed, then name), each with its counts as a comment.
pub fn render_list(counts: &BTreeMap<String, RepoCount>, min_prs: u64) -> String {
    let mut rows: Vec<(&String, &RepoCount)> = counts
        .iter()
        .filter(|(_, c)| c.merged.max(c.closed) >= min_prs)
        .collect();
    rows.sort_by(|a, b| {
        (b.1.merged, b.1.closed)
            .cmp(&(a.1.merged, a.1.closed))
            .then_with(|| a.0.cmp(b.0))
    });
    rows.iter()
        .map(|(repo, c)| format!("{repo}  # {} merged, {} closed PRs\n", c.merged, c.closed))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_render_most_prs_first_with_their_counts() {
        let counts: BTreeMap<String, RepoCount> = [
            (
                "a/small".to_string(),
                RepoCount {
                    closed: 3,
                    merged: 1,
                },
            ),
            (
                "b/big".to_string(),
                RepoCount {
                    closed: 9,
                    merged: 7,
                },
            ),
            (
                "c/tie".to_string(),
                RepoCount {
                    closed: 9,
                    merged: 7,
                },
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            render_list(&counts, 2),
            "b/big  # 7 merged, 9 closed PRs\nc/tie  # 7 merged, 9 closed PRs\na/small  # 1 merged, 3 closed PRs\n"
        );
        assert_eq!(render_list(&counts, 5).lines().count(), 2);
    }
}
