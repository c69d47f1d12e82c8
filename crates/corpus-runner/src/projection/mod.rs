//! The projection: a finished run's measured rates (tokens per PR per source, processor
//! seconds per stage, bytes per table, mirror bytes per repository) scaled to what a recipe's
//! budget asks. Every figure is a measurement of the run times a ratio; nothing is assumed
//! but what the output says it assumed.

use corpus_core::schema::names;
mod measure;
mod render;

use std::collections::BTreeMap;

use corpus_core::recipe::MixOptions;
use serde::Serialize;

pub use measure::measure;

/// GitHub's primary quota: requests an hour per token.
pub const REQUESTS_PER_TOKEN_HOUR: f64 = 5_000.0;

/// Stages whose work follows the tokens the mix writes rather than the PRs read.
const TOKEN_SCALED_STAGES: &[&str] = &["mix", "shard", "export"];
/// Tables (and the exports) that hold the mixed tokens, repeats included.
const TOKEN_SCALED_TABLES: &[&str] = &[names::MIXTURE, names::SHARDS];

/// What one stage cost in the measured run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StageCost {
    pub stage: String,
    pub cpu_seconds: f64,
    pub wall_seconds: f64,
    pub peak_rss_mib: f64,
}

/// Where the request rate of the crawl comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRate {
    pub per_pr: f64,
    pub per_repo: f64,
    pub source: String,
}

/// What the run measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Measured {
    pub repos: u64,
    /// PRs extracted (merge and squash PRs; direct commits are not PRs).
    pub prs: u64,
    /// Training tokens per source in `tokenized` (validation left out: it is not mixed).
    pub train_tokens: BTreeMap<String, u64>,
    /// Tokens the run's shards hold (0 when the run did not shard).
    pub shard_tokens: u64,
    pub stages: Vec<StageCost>,
    /// Bytes per table folder, and of `exports/`.
    pub table_bytes: BTreeMap<String, u64>,
    pub export_bytes: u64,
    pub mirror_bytes: u64,
    /// Stages the report shows as skipped (`current`): their cost is not in it.
    pub unmeasured_stages: Vec<String>,
    /// Repositories whose PRs gave no tokens (a benchmark's own, removed whole): left out of
    /// the PR and repository counts, while the stages' cost still holds their work.
    pub repos_without_tokens: Vec<String>,
    pub requests: Option<RequestRate>,
}

/// One source of the target recipe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceNeed {
    pub source: String,
    pub tokens_per_pr: f64,
    /// The recipe's budget for the source, if it gives one.
    pub target: Option<u64>,
    /// Distinct tokens the budget needs at the recipe's repeat cap.
    pub unique_needed: Option<u64>,
    /// PRs that give those tokens at the measured rate (None: no budget, or no tokens measured).
    pub prs_needed: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageProjection {
    pub stage: String,
    pub measured_cpu_seconds: f64,
    pub scale: f64,
    pub core_hours: f64,
    pub peak_rss_mib: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    pub measured: Measured,
    pub sources: Vec<SourceNeed>,
    /// The source whose budget needs the most PRs.
    pub binding_source: Option<String>,
    pub prs_needed: u64,
    pub prs_per_repo: f64,
    pub repos_needed: u64,
    /// Tokens the mix writes at the target (budgets, plus sources taken as they are).
    pub output_tokens: u64,
    pub stages: Vec<StageProjection>,
    pub core_hours: f64,
    /// Core-hours of every stage but the crawl (cloning and the API are not processor-bound).
    pub core_hours_after_crawl: f64,
    pub table_bytes: u64,
    pub mirror_bytes: u64,
    /// Tables and exports at the end of the run.
    pub disk_at_rest: u64,
    /// At rest, plus the mirrors (all of them, or the mirror budget when the recipe has
    /// one), plus the largest table a second time (a stage's units sit beside its table
    /// until the barrier).
    pub disk_at_peak: u64,
    pub api_requests: Option<u64>,
    pub token_hours: Option<f64>,
    /// What the figures rest on that the run could not measure.
    pub notes: Vec<String>,
}

/// How to read the run's rates.
#[derive(Debug, Clone, Default)]
pub struct ProjectOptions {
    /// PRs per repository among the repositories to be crawled (default: the run's own).
    pub prs_per_repo: Option<f64>,
    /// The target recipe's `[inputs] mirror_budget_gib`, in bytes: the mirrors on disk at
    /// once (otherwise all of them are).
    pub mirror_budget_bytes: Option<u64>,
    /// The share of PRs the measured run synthesized for a source, by source name
    /// (`[synthesize] agentic_share`, `reasoning_share`).
    pub synthesized_shares: BTreeMap<String, (&'static str, f64)>,
}

/// The `[synthesize]` key and value that chose the PRs of each synthetic source in `recipe`.
pub fn synthesized_shares(
    recipe: &corpus_core::recipe::Recipe,
) -> BTreeMap<String, (&'static str, f64)> {
    use corpus_core::identity::SampleKind;
    let options = &recipe.synthesize;
    [
        (
            SampleKind::SyntheticAgentic,
            "agentic_share",
            options.agentic_share,
        ),
        (
            SampleKind::SyntheticReasoning,
            "reasoning_share",
            options.reasoning_share,
        ),
    ]
    .into_iter()
    .map(|(kind, key, share)| (kind.code().to_string(), (key, share)))
    .collect()
}

/// For a synthetic source that needs fewer PRs than the binding one: the share of PRs that
/// would give it enough, so the stage makes no work the mix leaves out.
fn share_notes(
    sources: &[SourceNeed],
    prs_needed: u64,
    options: &ProjectOptions,
    notes: &mut Vec<String>,
) {
    for source in sources {
        let (Some(needed), Some((key, share))) = (
            source.prs_needed,
            options.synthesized_shares.get(&source.source),
        ) else {
            continue;
        };
        if needed >= prs_needed {
            continue;
        }
        let enough = share * needed as f64 / prs_needed as f64;
        notes.push(format!(
            "{} needs {} of the {} PRs: [synthesize] {key} = {:.3} (the run's {share} times \
             {:.3}) gives it enough and makes nothing the mix leaves out; leave a margin, \
             the rate varies between repositories",
            source.source,
            corpus_mix::readable_count(needed),
            corpus_mix::readable_count(prs_needed),
            (enough * 1000.0).ceil() / 1000.0,
            needed as f64 / prs_needed as f64,
        ));
    }
}

/// Scale `measured` to `mix`.
pub fn project(measured: Measured, mix: &MixOptions, options: &ProjectOptions) -> Projection {
    let mut notes = Vec::new();
    let prs = measured.prs.max(1) as f64;
    let mut sources = Vec::new();
    let mut output_tokens: u64 = 0;
    for source in &mix.sources {
        let measured_tokens = measured
            .train_tokens
            .get(&source.name)
            .copied()
            .unwrap_or(0);
        let tokens_per_pr = measured_tokens as f64 / prs;
        let unique_needed = source
            .tokens
            .map(|t| (t as f64 / mix.max_repeat.max(1.0)).ceil() as u64);
        let prs_needed = match unique_needed {
            Some(_) if measured_tokens == 0 => {
                notes.push(format!(
                    "source {} has no tokens in the run: it cannot be projected",
                    source.name
                ));
                None
            }
            Some(u) => Some((u as f64 / tokens_per_pr).ceil() as u64),
            None => None,
        };
        sources.push(SourceNeed {
            source: source.name.clone(),
            tokens_per_pr,
            target: source.tokens,
            unique_needed,
            prs_needed,
        });
    }
    let binding = sources
        .iter()
        .filter_map(|s| s.prs_needed.map(|n| (n, s.source.clone())))
        .max();
    let prs_needed = binding.as_ref().map(|(n, _)| *n).unwrap_or(measured.prs);
    if binding.is_none() {
        notes.push("no source has a token budget: the projection is the run itself".into());
    }
    share_notes(&sources, prs_needed, options, &mut notes);
    let pr_scale = prs_needed as f64 / prs;
    for (source, need) in mix.sources.iter().zip(&sources) {
        output_tokens += match (source.tokens, source.repeat) {
            (Some(t), _) => t,
            (None, repeat) => {
                (need.tokens_per_pr * prs_needed as f64 * repeat.unwrap_or(1.0)) as u64
            }
        };
    }
    for (name, tokens) in &measured.train_tokens {
        if !mix.sources.iter().any(|s| &s.name == name) {
            output_tokens += (*tokens as f64 * pr_scale) as u64;
        }
    }
    let token_scale = if measured.shard_tokens > 0 {
        output_tokens as f64 / measured.shard_tokens as f64
    } else {
        pr_scale
    };
    let prs_per_repo = options
        .prs_per_repo
        .unwrap_or(measured.prs as f64 / measured.repos.max(1) as f64)
        .max(f64::MIN_POSITIVE);
    let repos_needed = (prs_needed as f64 / prs_per_repo).ceil() as u64;
    let stages: Vec<StageProjection> = measured
        .stages
        .iter()
        .map(|s| {
            let scale = if TOKEN_SCALED_STAGES.contains(&s.stage.as_str()) {
                token_scale
            } else {
                pr_scale
            };
            StageProjection {
                stage: s.stage.clone(),
                measured_cpu_seconds: s.cpu_seconds,
                scale,
                core_hours: s.cpu_seconds * scale / 3600.0,
                peak_rss_mib: s.peak_rss_mib,
            }
        })
        .collect();
    let core_hours = stages.iter().map(|s| s.core_hours).sum();
    let core_hours_after_crawl = stages
        .iter()
        .filter(|s| s.stage != "crawl")
        .map(|s| s.core_hours)
        .sum();
    let scaled_tables: Vec<u64> = measured
        .table_bytes
        .iter()
        .map(|(table, bytes)| {
            let scale = if TOKEN_SCALED_TABLES.contains(&table.as_str()) {
                token_scale
            } else {
                pr_scale
            };
            (*bytes as f64 * scale) as u64
        })
        .collect();
    let table_bytes: u64 = scaled_tables.iter().sum();
    let largest_table = scaled_tables.iter().copied().max().unwrap_or(0);
    let export_bytes = (measured.export_bytes as f64 * token_scale) as u64;
    let mirror_bytes =
        (measured.mirror_bytes as f64 / measured.repos.max(1) as f64 * repos_needed as f64) as u64;
    let disk_at_rest = table_bytes + export_bytes;
    let mirrors_at_once = match options.mirror_budget_bytes {
        Some(budget) if budget < mirror_bytes => {
            notes.push(format!(
                "mirrors: {} in all, fetched once each, at most {} on disk at a time \
                 ([inputs] mirror_budget_gib)",
                render::bytes(mirror_bytes),
                render::bytes(budget)
            ));
            budget
        }
        _ => mirror_bytes,
    };
    let disk_at_peak = disk_at_rest + mirrors_at_once + largest_table;
    let api_requests = measured
        .requests
        .as_ref()
        .map(|r| (r.per_pr * prs_needed as f64 + r.per_repo * repos_needed as f64).ceil() as u64);
    let token_hours = api_requests.map(|n| n as f64 / REQUESTS_PER_TOKEN_HOUR);
    if !measured.unmeasured_stages.is_empty() {
        notes.push(format!(
            "stages skipped as current in the report, their cost not measured: {} (rerun \
             with --from to measure them)",
            measured.unmeasured_stages.join(", ")
        ));
    }
    if !measured.repos_without_tokens.is_empty() {
        notes.push(format!(
            "{} repositories gave no tokens and are left out of the rates (a benchmark's own \
             repository is removed whole): {}; the stages' cost still holds their work, so \
             the core-hours are high by that share",
            measured.repos_without_tokens.len(),
            measured.repos_without_tokens.join(", ")
        ));
    }
    if options.prs_per_repo.is_none() {
        notes.push(format!(
            "{prs_per_repo:.1} PRs per repository is the run's own; repositories found by \
             discovery have fewer (pass --prs-per-repo from `swe-corpus discover`'s counts)"
        ));
    }
    Projection {
        sources,
        binding_source: binding.map(|(_, s)| s),
        prs_needed,
        prs_per_repo,
        repos_needed,
        output_tokens,
        stages,
        core_hours,
        core_hours_after_crawl,
        table_bytes,
        mirror_bytes,
        disk_at_rest,
        disk_at_peak,
        api_requests,
        token_hours,
        notes,
        measured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corpus_core::recipe::MixSource;

    fn source(name: &str, tokens: Option<u64>, repeat: Option<f64>) -> MixSource {
        MixSource {
            name: name.into(),
            tokens,
            repeat,
            variants: 1,
            stage: "format".into(),
        }
    }

    fn measured() -> Measured {
        Measured {
            repos: 10,
            prs: 1_000,
            train_tokens: [("agentless", 2_000_000), ("synthetic", 8_000_000)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            shard_tokens: 10_000_000,
            stages: vec![
                StageCost {
                    stage: "extract".into(),
                    cpu_seconds: 36.0,
                    wall_seconds: 20.0,
                    peak_rss_mib: 500.0,
                },
                StageCost {
                    stage: "shard".into(),
                    cpu_seconds: 3.6,
                    wall_seconds: 2.0,
                    peak_rss_mib: 300.0,
                },
            ],
            table_bytes: [("patches", 1_000), ("shards", 4_000)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            export_bytes: 2_000,
            mirror_bytes: 50_000,
            unmeasured_stages: Vec::new(),
            repos_without_tokens: Vec::new(),
            requests: Some(RequestRate {
                per_pr: 0.2,
                per_repo: 2.0,
                source: "test".into(),
            }),
        }
    }

    #[test]
    fn the_source_needing_most_prs_sets_the_scale() {
        let mix = MixOptions {
            total_tokens: Some(1_000_000_000),
            max_repeat: 4.0,
            allow_shortfall: false,
            sources: vec![
                // 2,000 tokens per PR; 400M at 4 repeats = 100M distinct = 50,000 PRs.
                source("agentless", Some(400_000_000), None),
                // 8,000 per PR; 600M / 4 = 150M distinct = 18,750 PRs.
                source("synthetic", Some(600_000_000), None),
            ],
        };
        let p = project(
            measured(),
            &mix,
            &ProjectOptions {
                prs_per_repo: Some(50.0),
                ..Default::default()
            },
        );
        assert_eq!(p.binding_source.as_deref(), Some("agentless"));
        assert_eq!(p.prs_needed, 50_000);
        assert_eq!(p.sources[1].prs_needed, Some(18_750));
        assert_eq!(p.repos_needed, 1_000);
        assert_eq!(p.output_tokens, 1_000_000_000);
        // extract follows the PRs (x50), shard the tokens written (x100).
        assert!((p.stages[0].core_hours - 36.0 * 50.0 / 3600.0).abs() < 1e-9);
        assert!((p.stages[1].core_hours - 3.6 * 100.0 / 3600.0).abs() < 1e-9);
        assert_eq!(p.table_bytes, 1_000 * 50 + 4_000 * 100);
        assert_eq!(p.disk_at_rest, 450_000 + 200_000);
        // 5,000 bytes of mirror per repository, 1,000 repositories.
        assert_eq!(p.mirror_bytes, 5_000_000);
        assert_eq!(p.disk_at_peak, 650_000 + 5_000_000 + 400_000);
        assert_eq!(p.api_requests, Some(10_000 + 2_000));
        assert_eq!(p.token_hours, Some(12_000.0 / 5_000.0));
        assert!(p.notes.is_empty(), "{:?}", p.notes);
        // Under a mirror budget the peak holds the budget's worth of mirrors, not all.
        let bounded = project(
            measured(),
            &mix,
            &ProjectOptions {
                prs_per_repo: Some(50.0),
                mirror_budget_bytes: Some(1_000_000),
                ..Default::default()
            },
        );
        assert_eq!(bounded.mirror_bytes, 5_000_000);
        assert_eq!(bounded.disk_at_peak, 650_000 + 1_000_000 + 400_000);
        assert!(bounded.notes[0].contains("at most"), "{:?}", bounded.notes);
        // A synthetic source needing fewer PRs than the binding one: the share that suffices
        // (the run synthesized half its PRs; 18,750 of 50,000 needed).
        let shared = project(
            measured(),
            &mix,
            &ProjectOptions {
                synthesized_shares: [("synthetic".to_string(), ("agentic_share", 0.5))]
                    .into_iter()
                    .collect(),
                ..Default::default()
            },
        );
        let notes = shared.notes.join("\n");
        assert!(
            notes.contains("synthetic needs 18750 of the 50000 PRs: [synthesize] agentic_share = 0.188 (the run's 0.5 times 0.375)"),
            "{notes}"
        );
        assert!(!notes.contains("agentless needs"), "{notes}");
    }

    #[test]
    fn a_source_the_run_lacks_is_named_not_guessed() {
        let mix = MixOptions {
            total_tokens: None,
            max_repeat: 2.0,
            allow_shortfall: true,
            sources: vec![
                source("agentless", Some(4_000_000), None),
                source("commit_packs", Some(1_000_000), None),
                source("synthetic", None, Some(1.5)),
            ],
        };
        let mut m = measured();
        m.unmeasured_stages = vec!["extract".into()];
        m.requests = None;
        let p = project(m, &mix, &ProjectOptions::default());
        // 4M / 2 = 2M distinct at 2,000 per PR.
        assert_eq!(p.prs_needed, 1_000);
        assert_eq!(p.sources[1].prs_needed, None);
        // Budgets, then the repeated source at the PRs needed.
        assert_eq!(p.output_tokens, 4_000_000 + 1_000_000 + 12_000_000);
        assert_eq!(p.repos_needed, 10);
        assert_eq!(p.api_requests, None);
        let notes = p.notes.join("\n");
        assert!(notes.contains("commit_packs has no tokens"), "{notes}");
        assert!(notes.contains("extract"), "{notes}");
        assert!(notes.contains("--prs-per-repo"), "{notes}");
    }
}
