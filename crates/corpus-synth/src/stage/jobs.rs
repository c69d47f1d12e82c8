//! Running an engine over one repository's PRs and variants. The deterministic engine runs
//! in order and stops a PR's variants once both kinds failed; the model engine runs every
//! (PR, variant) on `concurrency` threads (each with its own repository handle) and gives
//! the results back in order, so the rows do not depend on which request finished first.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::emulator::ResultCache;
use crate::engine::{Drop, PrInput, Replay, explore, synthesize};
use crate::model::ModelEngine;
use crate::model::chat::ChatError;
use crate::reasoning::localization_reasoning;
use crate::tools::ToolFamily;
use crate::trajectory::Trajectory;
use corpus_agentless::samples::Localization;
use corpus_core::identity::{Role, SampleKind};

use super::rows::Reasoning;

/// A PR as the engines need it (owned: jobs cross threads).
pub struct PrData {
    pub number: i64,
    pub base_sha: String,
    pub head_sha: String,
    pub problem: String,
    pub diff: String,
    pub commits: Vec<(String, String, String)>,
    pub has_merge_in_branch: bool,
    /// `format`'s localization tasks the reasoning answers.
    pub tasks: Vec<(SampleKind, Localization)>,
    /// Chosen for agent trajectories (`[synthesize] agentic_share`).
    pub agentic: bool,
    /// Chosen for localization reasoning (`[synthesize] reasoning_share`).
    pub reasoning: bool,
}

impl PrData {
    pub fn input<'a>(&'a self, repo: &'a str, max_file_bytes: usize) -> PrInput<'a> {
        PrInput {
            repo,
            pr_number: self.number,
            base_sha: &self.base_sha,
            head_sha: &self.head_sha,
            problem: &self.problem,
            diff: &self.diff,
            commits: self.commits.clone(),
            has_merge_in_branch: self.has_merge_in_branch,
            max_file_bytes,
        }
    }

    fn prompts(&self) -> impl Iterator<Item = (SampleKind, &String, &Vec<String>)> {
        self.tasks.iter().filter_map(|(kind, l)| match l {
            Localization::Prompt { prompt, files } => Some((*kind, prompt, files)),
            _ => None,
        })
    }

    /// Whether its reasoning is wanted: chosen, with a localization task to answer.
    pub fn wants_reasoning(&self) -> bool {
        self.reasoning && self.prompts().next().is_some()
    }

    /// Whether any work is wanted of it.
    pub fn wanted(&self) -> bool {
        self.agentic || self.wants_reasoning()
    }
}

/// What one variant gave; None where the kind was not attempted.
pub struct VariantResult {
    pub variant: u32,
    pub trajectory: Option<Result<Trajectory, Drop>>,
    pub reasoning: Option<Reasoning>,
}

pub struct Context<'a> {
    pub repo_name: &'a str,
    pub path: &'a str,
    pub seed: u64,
    pub variants: u32,
    pub family: ToolFamily,
    pub max_file_bytes: usize,
    pub cache: Arc<ResultCache>,
}

impl Context<'_> {
    /// Variant `variant` of a PR, in this run's family, sharing its tool-result cache.
    fn replay<'a>(
        &self,
        repo: &'a crate::Repository,
        input: &'a PrInput<'a>,
        variant: u32,
    ) -> Replay<'a> {
        Replay {
            repo,
            pr: input,
            seed: self.seed,
            variant,
            family: self.family,
            cache: Some(self.cache.clone()),
        }
    }
}

/// The deterministic engine: reasoning from the exploration's evidence. A PR not chosen for
/// trajectories is only explored (its evidence is the same: exploring comes before the
/// replay and never depends on it).
pub fn deterministic(ctx: &Context, repo: &crate::Repository, pr: &PrData) -> Vec<VariantResult> {
    let input = pr.input(ctx.repo_name, ctx.max_file_bytes);
    let mut out = Vec::new();
    for variant in 0..ctx.variants {
        let replay = ctx.replay(repo, &input, variant);
        let (trajectory, evidence) = if pr.agentic {
            let outcome = synthesize(&replay);
            (Some(outcome.trajectory), outcome.evidence)
        } else {
            (None, explore(&replay))
        };
        let reasoning = pr.wants_reasoning().then(|| {
            evidence.map(|evidence| {
                pr.prompts()
                    .map(|(kind, prompt, files)| {
                        // Every localization kind has a role.
                        let role = kind.role().unwrap_or(Role::BugFixer);
                        (
                            kind.code(),
                            prompt.clone(),
                            localization_reasoning(&evidence, files, role),
                        )
                    })
                    .collect()
            })
        });
        let both_failed = trajectory.as_ref().is_none_or(|t| t.is_err())
            && reasoning.as_ref().is_none_or(|r| r.is_err());
        out.push(VariantResult {
            variant,
            trajectory,
            reasoning,
        });
        if both_failed {
            break; // later variants fail the same way
        }
    }
    out
}

/// The model engine over every PR and variant, `concurrency` at a time; the first endpoint
/// error (in job order) stops the unit.
pub fn model(
    ctx: &Context,
    engine: &ModelEngine,
    prs: &[PrData],
    explorer: bool,
    reasoner: bool,
    concurrency: usize,
) -> Result<Vec<Vec<VariantResult>>, String> {
    let jobs: Vec<(usize, u32)> = prs
        .iter()
        .enumerate()
        .flat_map(|(i, _)| (0..ctx.variants).map(move |v| (i, v)))
        .collect();
    let results: Vec<Mutex<Option<Result<VariantResult, ChatError>>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let open_error: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..concurrency.clamp(1, jobs.len().max(1)) {
            scope.spawn(|| {
                let repo = match crate::open_repository(ctx.path) {
                    Ok(r) => r,
                    Err(e) => {
                        if let Ok(mut slot) = open_error.lock() {
                            *slot = Some(format!("open {}: {e}", ctx.path));
                        }
                        failed.store(true, Ordering::Relaxed);
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= jobs.len() || failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let (pr_index, variant) = jobs[i];
                    let result = one_model_job(
                        ctx,
                        engine,
                        &repo,
                        &prs[pr_index],
                        variant,
                        explorer && prs[pr_index].agentic,
                        reasoner && prs[pr_index].reasoning,
                    );
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    if let Some(e) = open_error.lock().ok().and_then(|mut e| e.take()) {
        return Err(e);
    }
    let mut out: Vec<Vec<VariantResult>> = prs.iter().map(|_| Vec::new()).collect();
    for (slot, (pr_index, _)) in results.into_iter().zip(&jobs) {
        match slot.into_inner().ok().flatten() {
            Some(Ok(r)) => out[*pr_index].push(r),
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("a job did not run (an earlier job failed)".into()),
        }
    }
    Ok(out)
}

fn one_model_job(
    ctx: &Context,
    engine: &ModelEngine,
    repo: &crate::Repository,
    pr: &PrData,
    variant: u32,
    explorer: bool,
    reasoner: bool,
) -> Result<VariantResult, ChatError> {
    let trajectory = if explorer {
        let input = pr.input(ctx.repo_name, ctx.max_file_bytes);
        Some(engine.trajectory(&ctx.replay(repo, &input, variant))?)
    } else {
        None
    };
    let reasoning = if reasoner && pr.wants_reasoning() {
        let mut answers = Vec::new();
        for (kind, prompt, files) in pr.prompts() {
            let answer = engine.reasoning(prompt, files, ctx.seed, variant, kind.code())?;
            answers.push((kind.code(), prompt.clone(), answer));
        }
        Some(Ok(answers))
    } else {
        None
    };
    Ok(VariantResult {
        variant,
        trajectory,
        reasoning,
    })
}
