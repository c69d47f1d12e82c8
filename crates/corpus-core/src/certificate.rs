//! The decontamination certificate of a run's shards: the registry version and families
//! checked, the cutoff, the latest merge the shards hold, and the samples removed per family
//! and reason, summed from `decontam_report`.

use std::collections::BTreeMap;

use crate::benchmark::{BenchmarkRepos, family_of_instance, registry_version};
use crate::manifest::DecontamCertificate;
use crate::recipe::DecontamOptions;

/// One line of `decontam_report`, the columns a certificate needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    pub stage: String,
    pub reason: String,
    pub matched: String,
    pub samples: u64,
}

/// Reasons whose `matched` is a benchmark repository.
const REPO_REASONS: &[&str] = &[
    "swe_bench_repo",
    "benchmark_repo",
    "benchmark_fork",
    "benchmark_root",
];

/// The family a report line counts for.
fn family_of(line: &ReportLine, repos: &BenchmarkRepos) -> String {
    if line.reason == "after_cutoff" {
        return "cutoff".to_string();
    }
    if REPO_REASONS.contains(&line.reason.as_str()) {
        // The recipe's `extra_repos` are `extra` in the registry's map; any other repository
        // came from a benchmark file.
        return repos
            .family_of(&line.matched.to_ascii_lowercase())
            .unwrap_or("benchmark_files")
            .to_string();
    }
    family_of_instance(&line.matched)
        .unwrap_or("benchmark_files")
        .to_string()
}

/// The certificate of a run made with `options`, from its report lines and the latest merge
/// (seconds, UTC) its shards hold.
pub fn certificate(
    options: &DecontamOptions,
    lines: &[ReportLine],
    latest_merged_at: Option<i64>,
) -> DecontamCertificate {
    let families = options.families();
    let repos = BenchmarkRepos::from_options(options);
    let mut dropped: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut repos_skipped: BTreeMap<String, u64> = BTreeMap::new();
    for line in lines {
        let family = family_of(line, &repos);
        if line.stage == "extract" {
            *repos_skipped.entry(family).or_default() += 1;
        } else {
            *dropped
                .entry(family)
                .or_default()
                .entry(line.reason.clone())
                .or_default() += line.samples;
        }
    }
    let day = |secs: i64| crate::days::format(secs.div_euclid(86_400));
    let mut certificate = DecontamCertificate {
        registry: registry_version(&families),
        families: families.iter().map(|f| f.to_string()).collect(),
        cutoff: options.cutoff.clone(),
        latest_merged_at: latest_merged_at.map(day),
        dropped,
        repos_skipped,
        digest: String::new(),
    };
    certificate.digest = certificate.compute_digest();
    certificate
}

/// What is wrong with a certificate for a run made with `options`: it must name the recipe's
/// families, registry version and cutoff, hold its own digest, and keep the cutoff.
pub fn problems(options: &DecontamOptions, certificate: &DecontamCertificate) -> Vec<String> {
    let mut out = Vec::new();
    let families: Vec<String> = options.families().iter().map(|f| f.to_string()).collect();
    if certificate.families != families {
        out.push(format!(
            "certificate checked families [{}], the recipe asks for [{}]",
            certificate.families.join(", "),
            families.join(", ")
        ));
    }
    let registry = registry_version(&options.families());
    if certificate.registry != registry {
        out.push(format!(
            "certificate registry {}, this build's is {registry}",
            certificate.registry
        ));
    }
    if certificate.cutoff != options.cutoff {
        out.push(format!(
            "certificate cutoff {:?}, the recipe's is {:?}",
            certificate.cutoff, options.cutoff
        ));
    }
    if let (Some(cutoff), Some(latest)) = (&certificate.cutoff, &certificate.latest_merged_at)
        && latest >= cutoff
    {
        out.push(format!(
            "the shards hold a PR merged {latest}, on or after the cutoff {cutoff}"
        ));
    }
    if certificate.digest != certificate.compute_digest() {
        out.push("certificate digest does not match its contents".to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(stage: &str, reason: &str, matched: &str, samples: u64) -> ReportLine {
        ReportLine {
            stage: stage.into(),
            reason: reason.into(),
            matched: matched.into(),
            samples,
        }
    }

    #[test]
    fn counts_per_family_and_reason_and_checks_itself() {
        let options = DecontamOptions {
            cutoff: Some("2025-01-01".into()),
            ..Default::default()
        };
        let lines = [
            line("extract", "swe_bench_repo", "psf/requests", 0),
            line("decontaminate", "benchmark_root", "psf/requests", 3),
            line("decontaminate", "benchmark_repo", "ansible/ansible", 2),
            line(
                "decontaminate",
                "benchmark_instance_id",
                "django__django-11099",
                1,
            ),
            line("decontaminate", "benchmark_content", "acme__widgets-10", 4),
            line("decontaminate", "after_cutoff", "2025-01-01", 5),
        ];
        let latest = crate::days::parse("2024-12-31").map(|d| d * 86_400);
        let c = certificate(&options, &lines, latest);
        assert_eq!(c.repos_skipped.get("swe-bench"), Some(&1));
        assert_eq!(c.dropped["swe-bench"]["benchmark_root"], 3);
        assert_eq!(c.dropped["swe-bench"]["benchmark_instance_id"], 1);
        assert_eq!(c.dropped["swe-bench-pro"]["benchmark_repo"], 2);
        assert_eq!(c.dropped["benchmark_files"]["benchmark_content"], 4);
        assert_eq!(c.dropped["cutoff"]["after_cutoff"], 5);
        assert_eq!(c.latest_merged_at.as_deref(), Some("2024-12-31"));
        assert_eq!(c.families.len(), 6);
        assert!(problems(&options, &c).is_empty());

        let mut late = certificate(&options, &lines, latest.map(|t| t + 86_400));
        assert!(problems(&options, &late)[0].contains("on or after the cutoff"));
        late.cutoff = None;
        let found = problems(&options, &late).join("\n");
        assert!(
            found.contains("certificate cutoff") && found.contains("digest"),
            "{found}"
        );
        let other = DecontamOptions {
            benchmarks: Some(vec!["swe-bench".into()]),
            cutoff: Some("2025-01-01".into()),
            ..Default::default()
        };
        assert!(problems(&other, &c)[0].contains("families"));
    }
}
