//! The projection as the terminal shows it.

use std::fmt::Write;

use corpus_mix::readable_count as count;

use super::Projection;

impl Projection {
    pub fn render(&self) -> String {
        let m = &self.measured;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "measured: {} repositories, {} PRs ({:.1} per repository), {} tokens in shards",
            m.repos,
            m.prs,
            m.prs as f64 / m.repos.max(1) as f64,
            count(m.shard_tokens)
        );
        let _ = writeln!(
            out,
            "\n{:<22} {:>12} {:>10} {:>12} {:>12}",
            "source", "tokens/PR", "budget", "distinct", "PRs needed"
        );
        for s in &self.sources {
            let _ = writeln!(
                out,
                "{:<22} {:>12.1} {:>10} {:>12} {:>12}",
                s.source,
                s.tokens_per_pr,
                s.target.map(count).unwrap_or_else(|| "-".into()),
                s.unique_needed.map(count).unwrap_or_else(|| "-".into()),
                s.prs_needed.map(count).unwrap_or_else(|| "-".into()),
            );
        }
        let _ = writeln!(
            out,
            "\nneeded: {} PRs (set by {}), {} repositories at {:.1} PRs each; the mix writes {} \
             tokens",
            count(self.prs_needed),
            self.binding_source.as_deref().unwrap_or("no budget"),
            count(self.repos_needed),
            self.prs_per_repo,
            count(self.output_tokens)
        );
        let _ = writeln!(
            out,
            "\n{:<14} {:>12} {:>10} {:>12} {:>12}",
            "stage", "measured s", "scale", "core-hours", "peak MiB"
        );
        for s in &self.stages {
            let _ = writeln!(
                out,
                "{:<14} {:>12.1} {:>10.1} {:>12.1} {:>12.0}",
                s.stage, s.measured_cpu_seconds, s.scale, s.core_hours, s.peak_rss_mib
            );
        }
        let _ = writeln!(
            out,
            "{:<14} {:>12} {:>10} {:>12.1}\n{:<14} {:>12} {:>10} {:>12.1}",
            "total", "", "", self.core_hours, "after crawl", "", "", self.core_hours_after_crawl
        );
        let _ = writeln!(
            out,
            "\ndisk: tables {}, mirrors {}, at rest {}, at peak {}",
            bytes(self.table_bytes),
            bytes(self.mirror_bytes),
            bytes(self.disk_at_rest),
            bytes(self.disk_at_peak)
        );
        if let (Some(requests), Some(hours), Some(rate)) =
            (self.api_requests, self.token_hours, &m.requests)
        {
            let _ = writeln!(
                out,
                "GitHub API: {} requests, {:.0} token-hours at {} an hour ({:.3} per PR, {:.1} \
                 per repository: {})",
                count(requests),
                hours,
                super::REQUESTS_PER_TOKEN_HOUR,
                rate.per_pr,
                rate.per_repo,
                rate.source
            );
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

pub(super) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(512), "512.0 B");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
        assert_eq!(bytes(5 << 40), "5.0 TiB");
    }
}
