//! The cutoff date: live benchmarks are built from PRs merged after a date, so a corpus keeps
//! only PRs merged before it. A sample is dated by its PR's merge time (or, for a commit run
//! without a PR, by the merge time of the patch with its base commit).

use std::collections::HashMap;

/// Merge times (seconds since 1970-01-01 UTC) of one repository's PRs and patches.
#[derive(Debug, Default)]
pub struct MergeDates {
    by_pr: HashMap<i64, i64>,
    by_base: HashMap<String, i64>,
}

impl MergeDates {
    pub fn add(&mut self, pr_number: Option<i64>, base_sha: &str, merged_at: i64) {
        match pr_number {
            // A PR's patch and its commit pack share one merge; the later one wins if not.
            Some(pr) => {
                let at = self.by_pr.entry(pr).or_insert(merged_at);
                *at = (*at).max(merged_at);
            }
            None => {
                let at = self
                    .by_base
                    .entry(base_sha.to_string())
                    .or_insert(merged_at);
                *at = (*at).max(merged_at);
            }
        }
    }

    /// When the sample's PR (or patch) was merged, if known.
    pub fn merged_at(&self, pr_number: Option<i64>, base_sha: &str) -> Option<i64> {
        match pr_number {
            Some(pr) => self.by_pr.get(&pr).copied(),
            None => self.by_base.get(base_sha).copied(),
        }
    }
}

/// Whether a merge at `merged_at` falls on or after the cutoff (both in seconds, UTC).
pub fn after_cutoff(merged_at: i64, cutoff: i64) -> bool {
    merged_at >= cutoff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_by_pr_and_by_base_and_the_boundary_day() {
        let mut dates = MergeDates::default();
        dates.add(Some(7), "b1", 100);
        dates.add(Some(7), "b1", 50);
        dates.add(None, "b2", 300);
        assert_eq!(dates.merged_at(Some(7), "zz"), Some(100));
        assert_eq!(dates.merged_at(None, "b2"), Some(300));
        assert_eq!(dates.merged_at(Some(8), "b2"), None);
        let day = 20_000 * 86_400;
        assert!(after_cutoff(day, day), "on the cutoff day is dropped");
        assert!(!after_cutoff(day - 1, day), "the second before is kept");
    }
}
