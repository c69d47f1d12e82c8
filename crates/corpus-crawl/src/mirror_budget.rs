//! The mirror budget's accounting: which mirrors are on disk and how big, a fetch admitted
//! only when its estimated size fits, and the peak.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};

use serde::{Deserialize, Serialize};

/// What the mirror budget saw in one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MirrorStats {
    /// The budget, bytes.
    pub budget_bytes: u64,
    /// The most bytes of mirrors on disk at once (measured sizes; estimates while a fetch
    /// was still under way).
    pub peak_bytes: u64,
    /// Mirrors fetched (or updated) in this run, and their measured bytes.
    pub fetched: u64,
    pub fetched_bytes: u64,
    /// Mirrors a killed run left on disk, taken over by this one.
    pub found: u64,
    /// Mirrors removed once every stage that reads them was done.
    pub evicted: u64,
    /// Fetches admitted alone because their estimate alone exceeded the budget.
    pub oversized: u64,
    /// The group's wall time and the process's peak memory during it (the stages' own
    /// reports then hold their units' processor seconds).
    #[serde(default)]
    pub wall_seconds: f64,
    #[serde(default)]
    pub peak_rss_mib: f64,
}

#[derive(Default)]
struct State {
    /// Repository → bytes held (an estimate until the fetch ends, then the measured size).
    held: BTreeMap<String, u64>,
    stats: MirrorStats,
}

impl State {
    fn total(&self) -> u64 {
        self.held.values().sum()
    }

    fn note_peak(&mut self) {
        let total = self.total();
        self.stats.peak_bytes = self.stats.peak_bytes.max(total);
    }
}

/// At most `limit` bytes of mirrors at a time. A fetch waits until its estimate fits beside
/// the mirrors on disk; one that cannot fit even alone waits until it is alone.
pub struct MirrorBudget {
    limit: u64,
    state: Mutex<State>,
    freed: Condvar,
}

impl MirrorBudget {
    pub fn new(limit: u64) -> Self {
        let state = State {
            stats: MirrorStats {
                budget_bytes: limit,
                ..Default::default()
            },
            ..Default::default()
        };
        Self {
            limit,
            state: Mutex::new(state),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait until `estimate` bytes for `repo` fit, then hold them. A repository already held
    /// (a mirror left by a killed run) is not waited for again. An unknown size counts as
    /// the whole budget.
    pub fn admit(&self, repo: &str, estimate: Option<u64>) {
        let want = estimate.unwrap_or(self.limit);
        let mut state = self.lock();
        if state.held.contains_key(repo) {
            return;
        }
        while !state.held.is_empty() && state.total() + want > self.limit {
            state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        if want > self.limit {
            state.stats.oversized += 1;
        }
        state.held.insert(repo.to_string(), want);
        state.note_peak();
    }

    /// The fetch of `repo` ended: its measured size replaces the estimate.
    pub fn settle(&self, repo: &str, bytes: u64) {
        let mut state = self.lock();
        state.held.insert(repo.to_string(), bytes);
        state.stats.fetched += 1;
        state.stats.fetched_bytes += bytes;
        state.note_peak();
        drop(state);
        self.freed.notify_all();
    }

    /// A mirror found on disk when the run starts (left by a killed run).
    pub fn adopt(&self, repo: &str, bytes: u64) {
        let mut state = self.lock();
        state.held.insert(repo.to_string(), bytes);
        state.stats.found += 1;
        state.note_peak();
    }

    /// The mirror of `repo` is gone (evicted, or its fetch failed).
    pub fn release(&self, repo: &str, evicted: bool) {
        let mut state = self.lock();
        if state.held.remove(repo).is_some() && evicted {
            state.stats.evicted += 1;
        }
        drop(state);
        self.freed.notify_all();
    }

    pub fn stats(&self) -> MirrorStats {
        self.lock().stats.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_fetch_waits_until_its_estimate_fits() {
        let budget = Arc::new(MirrorBudget::new(100));
        budget.admit("a/one", Some(60));
        budget.settle("a/one", 70);
        let waiting = {
            let budget = budget.clone();
            std::thread::spawn(move || {
                budget.admit("a/two", Some(40));
                budget.settle("a/two", 40);
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiting.is_finished(), "70 + 40 > 100: it waits");
        budget.release("a/one", true);
        waiting.join().expect("join");
        let stats = budget.stats();
        assert_eq!(stats.peak_bytes, 70);
        assert_eq!((stats.fetched, stats.evicted), (2, 1));
    }

    #[test]
    fn an_oversized_or_unknown_mirror_goes_alone() {
        let budget = MirrorBudget::new(100);
        budget.admit("a/huge", Some(500));
        budget.settle("a/huge", 480);
        budget.release("a/huge", true);
        budget.admit("a/unknown", None);
        budget.settle("a/unknown", 10);
        budget.admit("a/small", Some(20));
        let stats = budget.stats();
        assert_eq!(stats.oversized, 1);
        // The estimate counts while the fetch runs.
        assert_eq!(stats.peak_bytes, 500);
    }

    #[test]
    fn a_mirror_held_already_is_not_waited_for() {
        let budget = MirrorBudget::new(100);
        budget.adopt("a/left", 90);
        budget.admit("a/left", Some(90));
        assert_eq!(budget.stats().peak_bytes, 90);
    }
}
