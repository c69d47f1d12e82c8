//! The deterministic engine (no model): a trajectory per PR and variant in which the agent
//! searches with words of the problem text, opens what the search shows (0–2 real
//! distractors, each rejected with a fact from what it saw, then the PR's files), and replays
//! the PR's commits as `str_replace_editor` edits whose final state must equal the head
//! blobs byte for byte. Every observation is the emulator's; nothing is executed or invented.
//! A PR it cannot serve is a [`Drop`] with a stable reason.

use corpus_core::drop_reason::DropReason;
use std::collections::BTreeSet;

use corpus_agentless::prose::clean_commit_message;
use corpus_agentless::search_replace::str_replace_blocks;
use git2::{Oid, Repository};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::emulator::Emulator;
use crate::emulator::editor::EditorCall;
use crate::emulator::windowed::WindowState;
use crate::leak::LeakGuard;
use crate::snapshot::{Kind, Snapshot};
use crate::tools::ToolFamily;
use crate::trajectory::{Action, Phase, Step, ThoughtSource, Trajectory};

pub const ROOT: &str = "/testbed";

/// Every fixed word of the engine's thoughts and commands: they come from this file, not from
/// the PR, so they can never leak its answer (the slots filled from observations are checked).
pub const TEMPLATE_WORDS: &str = "The problem mentions Let me search the repository for it \
    I'll start by finding where appears in the code Searching for should show which files are \
    involved is among the matches let look at appears there on line the file has lines In but \
    nothing there is about the problem so it needs no change matches let open it grep testbed \
    search_dir The change is complete Next change";
const MAX_GREP_LINES: usize = 40;

/// A PR as the engine needs it.
pub struct PrInput<'a> {
    pub repo: &'a str,
    pub pr_number: i64,
    pub base_sha: &'a str,
    pub head_sha: &'a str,
    pub problem: &'a str,
    pub diff: &'a str,
    /// The PR's commits in order: (sha, message, the commit's diff as extraction wrote it).
    pub commits: Vec<(String, String, String)>,
    pub has_merge_in_branch: bool,
    /// A PR editing a file larger than this (before or after) is dropped (`file_too_large`),
    /// as extraction leaves such files out of patches.
    pub max_file_bytes: usize,
}

/// Why a PR yields no trajectory (a `drops` reason and a detail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drop {
    pub reason: DropReason,
    pub detail: String,
}

fn drop(reason: DropReason, detail: impl Into<String>) -> Drop {
    Drop {
        reason,
        detail: detail.into(),
    }
}

/// Identifier-like words of the problem text, code spans first, each once.
fn search_terms(problem: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    static WORD: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re =
        WORD.get_or_init(|| regex::Regex::new(r"[A-Za-z_][A-Za-z0-9_]{3,}").expect("static regex"));
    let words = |text: &str| -> Vec<String> {
        re.find_iter(text).map(|m| m.as_str().to_string()).collect()
    };
    let spans: Vec<String> = problem
        .split('`')
        .skip(1)
        .step_by(2)
        .flat_map(words)
        .collect();
    let rest = words(problem);
    const COMMON: &[&str] = &[
        "this", "that", "with", "when", "from", "have", "should", "would", "there", "which",
        "what", "does", "into", "like", "some", "then", "than", "they", "will", "also", "only",
        "error", "file", "code", "issue", "using", "used", "fails", "fixed", "because", "while",
        "where", "after", "before", "these", "those", "other", "about", "being", "value",
    ];
    // Identifier-looking words (underscores, inner capitals) before plain words.
    let (mut shaped, mut plain): (Vec<String>, Vec<String>) = rest
        .into_iter()
        .partition(|w| w.contains('_') || w.chars().skip(1).any(|c| c.is_ascii_uppercase()));
    let mut ordered = spans;
    ordered.append(&mut shaped);
    ordered.append(&mut plain);
    for w in ordered {
        if COMMON.contains(&w.to_lowercase().as_str()) {
            continue;
        }
        if seen.insert(w.clone()) {
            out.push(w);
        }
    }
    out
}

/// A seeded choice in `0..n`.
fn pick(seed: u64, label: &str, n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (xxh3_64_with_seed(label.as_bytes(), seed) % n as u64) as usize
    }
}

/// Paths (relative) named in `grep -rn`/`-rl` output of `.`, in order, once each. A binary
/// file that matches is a hit too: `-rl` lists it, `-rn` says `grep: ./PATH: binary file
/// matches`.
fn hit_paths(output: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    output
        .lines()
        .filter_map(|l| {
            l.strip_prefix("grep: ./")
                .and_then(|rest| rest.strip_suffix(": binary file matches"))
                .or_else(|| l.strip_prefix("./")?.split(':').next())
        })
        .filter(|p| seen.insert(p.to_string()))
        .map(str::to_string)
        .collect()
}

/// Paths (relative) listed by `search_dir` (`ROOT/PATH (k matches)` rows).
fn search_dir_paths(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix(ROOT)?.strip_prefix('/'))
        .filter_map(|l| l.rsplit_once(" (").map(|(p, _)| p.to_string()))
        .collect()
}

/// The first line of `content` (a `cat -n` view) mentioning `term`: (number, text).
/// [`first_mention`] of a file's bytes as their lossy text: the term is looked up in the
/// bytes and only its line is decoded. The same answer, since a term without line breaks or
/// U+FFFD matches the lossy text exactly where it matches the bytes, and lines break at `\n`,
/// which no invalid sequence spans.
fn first_mention_in(bytes: &[u8], term: &str) -> Option<(usize, String)> {
    if term.is_empty() || term.contains(['\n', '\r', '\u{fffd}']) {
        return first_mention(&String::from_utf8_lossy(bytes), term);
    }
    let at = memchr::memmem::find(bytes, term.as_bytes())?;
    let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
    let number = memchr::memchr_iter(b'\n', &bytes[..start]).count() + 1;
    Some((
        number,
        String::from_utf8_lossy(&bytes[start..end])
            .trim()
            .to_string(),
    ))
}

fn first_mention(repo_text: &str, term: &str) -> Option<(usize, String)> {
    repo_text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(term))
        .map(|(i, l)| (i + 1, l.trim().to_string()))
}

pub(crate) struct Builder<'r> {
    pub(crate) emulator: Emulator<'r>,
    pub(crate) family: ToolFamily,
    /// The windowed tools' open file and window (the `kimi_dev` family).
    pub(crate) window: WindowState,
    pub(crate) steps: Vec<Step>,
    pub(crate) guard: LeakGuard,
}

impl Builder<'_> {
    fn explore(
        &mut self,
        thought: String,
        action: Action,
        observation: String,
    ) -> Result<(), Drop> {
        self.guard
            .check_exploration(&thought, &action)
            .map_err(|token| {
                drop(
                    DropReason::Leak,
                    format!("exploration would use `{token}`, found only in the PR's added lines"),
                )
            })?;
        self.guard.saw(&observation);
        self.steps.push(Step {
            thought,
            thought_source: ThoughtSource::Template,
            action,
            observation,
            observation_source: "emulator".into(),
            phase: Phase::Explore,
        });
        Ok(())
    }

    fn shell(&mut self, thought: String, command: &str) -> Result<String, Drop> {
        let output = self
            .emulator
            .run_shell(command)
            .ok_or_else(|| drop(DropReason::UnsupportedCommand, command.to_string()))?;
        self.explore(
            thought,
            Action::new("bash", &[("command", command)]),
            output.clone(),
        )?;
        Ok(output)
    }

    /// The files the family's search tool lists for `term`, without recording a step.
    fn hits(&self, term: &str) -> Vec<String> {
        match self.family {
            ToolFamily::SweAgent => hit_paths(
                &self
                    .emulator
                    .run_shell(&format!("grep -rl {term} ."))
                    .unwrap_or_default(),
            ),
            ToolFamily::KimiDev => search_dir_paths(
                &self
                    .emulator
                    .windowed(&mut WindowState::default(), &format!("search_dir {term}"))
                    .unwrap_or_default(),
            ),
        }
    }

    /// The output of a Kimi-Dev windowed command; one the emulator cannot run drops the
    /// trajectory (`unsupported_command`, with `detail`).
    fn windowed(&mut self, command: &str, detail: String) -> Result<String, Drop> {
        self.emulator
            .windowed(&mut self.window, command)
            .ok_or_else(|| drop(DropReason::UnsupportedCommand, detail))
    }

    /// Search the repository for `term` with the family's tool (`command` is the `grep`
    /// line the `swe_agent` family runs); returns the files it lists.
    fn search(&mut self, thought: String, term: &str, command: &str) -> Result<Vec<String>, Drop> {
        match self.family {
            ToolFamily::SweAgent => Ok(hit_paths(&self.shell(thought, command)?)),
            ToolFamily::KimiDev => {
                let command = format!("search_dir {term}");
                let output = self.windowed(&command, command.clone())?;
                self.explore(
                    thought,
                    Action::new("search_dir", &[("search_term", term)]),
                    output.clone(),
                )?;
                Ok(search_dir_paths(&output))
            }
        }
    }

    pub(crate) fn view(&mut self, thought: String, path: &str) -> Result<String, Drop> {
        let absolute = format!("{ROOT}/{path}");
        let (action, output) = match self.family {
            ToolFamily::SweAgent => {
                let result = self.emulator.editor(&EditorCall::View {
                    path: absolute.clone(),
                    view_range: None,
                });
                (
                    Action::new(
                        "str_replace_editor",
                        &[("command", "view"), ("path", &absolute)],
                    ),
                    result.output,
                )
            }
            ToolFamily::KimiDev => {
                let output =
                    self.windowed(&format!("open \"{absolute}\""), format!("open {absolute}"))?;
                (Action::new("open", &[("path", &absolute)]), output)
            }
        };
        self.explore(thought, action, output.clone())?;
        Ok(output)
    }
}

/// The search chain that found a PR's files: what localization reasoning is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub problem: String,
    /// One search or more, each finding changed files the earlier ones did not.
    pub searches: Vec<Search>,
    /// The PR's diff (for the leak check of text written from the evidence).
    pub diff: String,
}

/// One search of the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The word of the problem text searched for.
    pub term: String,
    /// `grep -rn TERM .` (or `grep -rl` when that prints too many lines) and its output.
    pub command: String,
    pub output: String,
    /// Every hit the PR does not change, each with its first line holding the term.
    pub others: Vec<(String, String)>,
    /// Changed files the search found, each with its first line holding the term.
    pub found: Vec<(String, String)>,
}

/// The grep an agent runs for `term` and what it prints: `grep -rn`, or `grep -rl` when
/// that would print more than [`MAX_GREP_LINES`] lines.
fn shown_grep(emulator: &Emulator, term: &str) -> (String, String) {
    let lines_cmd = format!("grep -rn {term} .");
    let lines = emulator.run_shell(&lines_cmd).unwrap_or_default();
    if lines.lines().count() <= MAX_GREP_LINES {
        return (lines_cmd, lines);
    }
    let files_cmd = format!("grep -rl {term} .");
    let files = emulator.run_shell(&files_cmd).unwrap_or_default();
    (files_cmd, files)
}

/// A search as evidence: the `grep` the agent would run and a fact about every hit.
fn search_evidence(b: &Builder, gold: &BTreeSet<String>, term: &str, hits: &[String]) -> Search {
    let (command, output) = shown_grep(&b.emulator, term);
    let mention = |path: &str| {
        let bytes = b.emulator.snapshot.read(path).unwrap_or_default();
        match first_mention_in(&bytes, term) {
            Some((n, line)) => format!("`{term}` appears there on line {n} (`{line}`)"),
            None => format!("`{term}` appears there"),
        }
    };
    let files = |keep_gold: bool| -> Vec<(String, String)> {
        hits.iter()
            .filter(|p| {
                gold.contains(*p) == keep_gold && b.emulator.snapshot.kind(p) == Some(Kind::File)
            })
            .map(|p| (p.clone(), mention(p)))
            .collect()
    };
    Search {
        term: term.to_string(),
        command,
        output,
        others: files(false),
        found: files(true),
    }
}

/// What the engine made of one PR and variant: the exploration's evidence (kept even when
/// the replay fails: reasoning needs no replay) and the trajectory.
pub struct Outcome {
    pub evidence: Result<Evidence, Drop>,
    pub trajectory: Result<Trajectory, Drop>,
}

/// One replay to make: a PR of a repository, which variant, in which tool family.
#[derive(Clone)]
pub struct Replay<'a> {
    pub repo: &'a Repository,
    pub pr: &'a PrInput<'a>,
    pub seed: u64,
    /// Distinct variants differ in search term, distractors and phrasing.
    pub variant: u32,
    pub family: ToolFamily,
    /// Tool results shared across variants and PRs of one base tree.
    pub cache: Option<std::sync::Arc<crate::emulator::ResultCache>>,
}

/// The trajectory of a replay, with the evidence its exploration gathered.
pub fn synthesize(replay: &Replay) -> Outcome {
    let mut evidence = None;
    let trajectory = run(replay, &mut evidence);
    let evidence = match (evidence, &trajectory) {
        (Some(e), _) => Ok(e),
        (None, Err(d)) => Err(d.clone()),
        (None, Ok(_)) => Err(drop(
            DropReason::NoEvidence,
            "the exploration found no file",
        )),
    };
    Outcome {
        evidence,
        trajectory,
    }
}

/// The evidence of a replay's exploration alone (what reasoning needs), without replaying
/// the PR's commits: the same evidence [`synthesize`] gives.
pub fn explore(replay: &Replay) -> Result<Evidence, Drop> {
    let mut evidence = None;
    let mut p = prepare(replay)?;
    explore_deterministic(&mut p, replay.pr, &mut evidence)?;
    evidence.ok_or_else(|| drop(DropReason::NoEvidence, "the exploration found no file"))
}

fn run(replay: &Replay, evidence: &mut Option<Evidence>) -> Result<Trajectory, Drop> {
    let &Replay {
        repo, pr, variant, ..
    } = replay;
    let mut p = prepare(replay)?;
    let (named, distractors) = explore_deterministic(&mut p, pr, evidence)?;
    finish(repo, pr, p, variant, "deterministic", named, distractors)
}

/// Steps 1–3: search with a word of the problem text, reject real distractors, open the
/// PR's files the search found. Returns the named files and the distractors.
fn explore_deterministic(
    p: &mut Prepared,
    pr: &PrInput,
    evidence: &mut Option<Evidence>,
) -> Result<(Vec<String>, Vec<String>), Drop> {
    let seed = p.seed;
    let gold = &p.gold;
    let b = &mut p.b;
    // 1. Search with a word of the problem text whose hits include a changed file.
    let terms = search_terms(pr.problem);
    let mut candidates: Vec<(String, Vec<String>)> = Vec::new();
    // Only words a changed file holds at base can find it: read those files once, then search
    // the whole tree for at most four such words.
    let gold_texts: Vec<_> = gold
        .iter()
        .filter_map(|p| b.emulator.snapshot.read_shared(p))
        .collect();
    for term in terms.iter().take(200) {
        if b.guard.is_added_only(term) || term.contains('\'') {
            continue;
        }
        let finder = memchr::memmem::Finder::new(term.as_bytes());
        let in_gold = gold_texts.iter().any(|t| finder.find(t).is_some());
        if !in_gold {
            continue;
        }
        let hits = b.hits(term);
        if hits.iter().any(|h| gold.contains(h)) && hits.len() <= 30 {
            candidates.push((term.clone(), hits));
        }
        if candidates.len() >= 4 {
            break;
        }
    }
    if candidates.is_empty() {
        return Err(drop(
            DropReason::GoldFileNeverFound,
            "no word of the problem text finds a file the PR changes",
        ));
    }
    let (term, hits) = candidates[pick(seed, "term", candidates.len())].clone();
    let (command, _) = shown_grep(&b.emulator, &term);
    let openers = [
        format!("The problem mentions `{term}`. Let me search the repository for it."),
        format!("I'll start by finding where `{term}` appears in the code."),
        format!("Searching for `{term}` should show which files are involved."),
    ];
    let listed = b.search(
        openers[pick(seed, "opener", openers.len())].clone(),
        &term,
        &command,
    )?;
    if listed != hits {
        return Err(drop(
            DropReason::SearchMismatch,
            format!("`{term}`: the recorded search lists other files than the candidate search"),
        ));
    }
    // 2. Up to two distractors among the hits, each rejected with what the view showed.
    let others: Vec<String> = hits
        .iter()
        .filter(|h| !gold.contains(*h))
        .cloned()
        .collect();
    let wanted = pick(seed, "distractors", 3).min(others.len());
    let mut distractors: Vec<(String, String)> = Vec::new();
    for k in 0..wanted {
        let path = others[(pick(seed, "distractor", others.len()) + k) % others.len()].clone();
        if distractors.iter().any(|(p, _)| *p == path)
            || b.emulator.snapshot.kind(&path) != Some(Kind::File)
        {
            continue;
        }
        let view = b.view(
            format!("`{path}` is among the matches; let me look at it."),
            &path,
        )?;
        let bytes = b.emulator.snapshot.read(&path).unwrap_or_default();
        let fact = match first_mention_in(&bytes, &term) {
            Some((n, line)) => format!("`{term}` appears there on line {n} (`{line}`)"),
            None => format!(
                "the file has {} lines",
                view.lines().count().saturating_sub(1)
            ),
        };
        distractors.push((path, fact));
    }
    // 3. Open each changed file the search found.
    let found: Vec<String> = hits.iter().filter(|h| gold.contains(*h)).cloned().collect();
    let mut named = Vec::new();
    let mut pending_rejections: Vec<String> = distractors
        .iter()
        .map(|(p, fact)| {
            format!(
                "In `{p}`, {fact}, but nothing there is about the problem, so it needs no change."
            )
        })
        .collect();
    for path in &found {
        let mut thought = pending_rejections.join(" ");
        pending_rejections.clear();
        if !thought.is_empty() {
            thought.push(' ');
        }
        thought.push_str(&format!("`{path}` matches `{term}`; let me open it."));
        b.view(thought, path)?;
        named.push(path.clone());
    }
    // The evidence: a search (each variant starts from another candidate word, so variants
    // differ), then other candidate searches while they find changed files the earlier ones
    // missed (a PR changing two files often needs two words).
    let (first_term, first_hits) = &candidates[p.variant as usize % candidates.len()];
    let mut searches = vec![search_evidence(&*b, gold, first_term, first_hits)];
    let mut covered: BTreeSet<String> = first_hits
        .iter()
        .filter(|h| gold.contains(*h))
        .cloned()
        .collect();
    loop {
        let best = candidates
            .iter()
            .filter(|(t, _)| !searches.iter().any(|s| s.term == *t))
            .map(|(t, h)| {
                (
                    h.iter()
                        .filter(|p| gold.contains(*p) && !covered.contains(*p))
                        .count(),
                    t,
                    h,
                )
            })
            .filter(|(n, _, _)| *n > 0)
            .max_by_key(|(n, _, _)| *n);
        let Some((_, t, h)) = best else {
            break;
        };
        covered.extend(h.iter().filter(|p| gold.contains(*p)).cloned());
        searches.push(search_evidence(&*b, gold, t, h));
    }
    *evidence = Some(Evidence {
        problem: pr.problem.to_string(),
        searches,
        diff: pr.diff.to_string(),
    });
    Ok((named, distractors.into_iter().map(|(p, _)| p).collect()))
}

/// A PR made ready for an engine: its commits' trees and changed paths, the gold files, and a
/// builder over the base snapshot.
pub(crate) struct Prepared<'r> {
    pub(crate) b: Builder<'r>,
    pub(crate) gold: BTreeSet<String>,
    changes: Vec<(git2::Tree<'r>, Vec<(String, git2::Delta)>)>,
    head: Oid,
    /// The variant's own seed.
    pub(crate) seed: u64,
    pub(crate) variant: u32,
}

pub(crate) fn prepare<'r>(replay: &Replay<'r>) -> Result<Prepared<'r>, Drop> {
    let &Replay {
        repo,
        pr,
        seed,
        variant,
        family,
        ref cache,
    } = replay;
    if pr.has_merge_in_branch {
        return Err(drop(
            DropReason::MergeInBranch,
            "the PR's branch has merge commits: its commits do not replay in order",
        ));
    }
    if pr.commits.is_empty() {
        return Err(drop(
            DropReason::NoCommits,
            "the PR has no commits of its own",
        ));
    }
    let oid =
        |sha: &str| Oid::from_str(sha).map_err(|e| drop(DropReason::BadSha, format!("{sha}: {e}")));
    let base = oid(pr.base_sha)?;
    let head = oid(pr.head_sha)?;
    let snapshot = Snapshot::at_commit(repo, base)
        .map_err(|e| drop(DropReason::MissingObjects, e.to_string()))?;
    let mut emulator = Emulator::new(snapshot, ROOT);
    if let Some(cache) = cache {
        emulator = emulator.with_cache(cache.clone());
    }
    // Each commit's tree and changed paths (sorted), computed once for the gold files and the
    // replay. The gold files are every path the commits change, so files extraction left out
    // of the patch are replayed too.
    let mut changes: Vec<(git2::Tree, Vec<(String, git2::Delta)>)> = Vec::new();
    for (sha, _, _) in &pr.commits {
        changes.push(commit_paths(repo, sha, cache.as_deref())?);
    }
    let gold: BTreeSet<String> = changes
        .iter()
        .flat_map(|(_, paths)| paths.iter().map(|(p, _)| p.clone()))
        .collect();
    let seed = seed ^ u64::from(variant).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut b = Builder {
        emulator,
        family,
        window: WindowState::default(),
        steps: Vec::new(),
        guard: fresh_guard(pr, cache.as_deref()),
    };
    b.guard.saw(TEMPLATE_WORDS);
    Ok(Prepared {
        b,
        gold,
        changes,
        head,
        seed,
        variant,
    })
}

/// Steps 4–5 and the end: replay the PR's commits as edits, check the files equal the head
/// blobs byte for byte, finish.
pub(crate) fn finish(
    repo: &Repository,
    pr: &PrInput,
    p: Prepared,
    variant: u32,
    engine: &str,
    named: Vec<String>,
    distractors: Vec<String>,
) -> Result<Trajectory, Drop> {
    let Prepared {
        mut b,
        gold,
        changes,
        head,
        seed,
        ..
    } = p;
    let family = b.family;
    // Exploring never edits: a PR's replay is the same for every variant, made once.
    let shared = b
        .emulator
        .shared()
        .filter(|_| !b.emulator.snapshot.is_edited())
        .cloned();
    match shared {
        Some(shared) => {
            let key = replay_key(pr, family);
            let replayed = match shared.replays.get(&key) {
                Some(replayed) => replayed,
                None => {
                    let start = b.steps.len();
                    let replayed = replay_commits(repo, pr, &mut b, &changes, &gold, head)
                        .map(|()| b.steps.split_off(start));
                    shared.replays.put(key, replayed.clone());
                    replayed
                }
            };
            b.steps.extend(replayed?);
        }
        None => replay_commits(repo, pr, &mut b, &changes, &gold, head)?,
    }
    b.steps.push(Step {
        thought: "The change is complete.".into(),
        thought_source: ThoughtSource::Template,
        action: Action::new(family.finish_tool(), &[]),
        observation: String::new(),
        observation_source: "emulator".into(),
        phase: Phase::Edit,
    });
    Ok(Trajectory {
        repo: pr.repo.to_string(),
        pr_number: pr.pr_number,
        base_sha: pr.base_sha.to_string(),
        variant,
        engine: engine.into(),
        seed,
        tool_family: family.name().into(),
        problem: pr.problem.to_string(),
        steps: b.steps,
        named_files: named,
        gold_files: gold.into_iter().collect(),
        distractor_files: distractors,
        final_patch: pr.diff.to_string(),
    })
}

/// What a replay depends on: the PR's base, head and commits, the tool family and the size
/// limit.
fn replay_key(pr: &PrInput, family: ToolFamily) -> String {
    let mut commits = corpus_core::hash::Fingerprint::new();
    for (sha, message, diff) in &pr.commits {
        commits
            .field("sha", sha.as_bytes())
            .field("message", message.as_bytes())
            .field("diff", diff.as_bytes());
    }
    format!(
        "{}\0{}\0{}\0{}\0{}\0{}\0{}",
        pr.repo,
        pr.pr_number,
        pr.base_sha,
        pr.head_sha,
        family.name(),
        pr.max_file_bytes,
        commits.finish()
    )
}

/// Steps 4–5: replay the commits as edits onto `b` (each message is the thought of its first
/// edit), then check the edited files equal the head's byte for byte.
fn replay_commits(
    repo: &Repository,
    pr: &PrInput,
    b: &mut Builder,
    changes: &[(git2::Tree, Vec<(String, git2::Delta)>)],
    gold: &BTreeSet<String>,
    head: Oid,
) -> Result<(), Drop> {
    let family = b.family;
    for ((_, message, commit_diff), (after_tree, paths)) in pr.commits.iter().zip(changes) {
        // Each file's section of the commit's diff gives the changed regions without a new diff.
        let sections: std::collections::HashMap<String, String> =
            corpus_agentless::packs::split_diff(commit_diff)
                .into_iter()
                .collect();
        let cleaned = clean_commit_message(message).trim().to_string();
        // An empty message gets a template thought, which the leak rules do not exempt.
        let (mut thought, message_source) = if cleaned.is_empty() {
            ("Next change.".to_string(), ThoughtSource::Template)
        } else {
            (cleaned, ThoughtSource::CommitMessage)
        };
        for (path, status) in paths.iter().cloned() {
            let after = match status {
                git2::Delta::Deleted => {
                    return Err(drop(
                        DropReason::DeletedFile,
                        format!("{path} is deleted: the tools cannot delete"),
                    ));
                }
                git2::Delta::Renamed | git2::Delta::Copied | git2::Delta::Typechange => {
                    return Err(drop(DropReason::RenamedFile, format!("{path}: {status:?}")));
                }
                _ => blob_at(repo, after_tree, &path)
                    .ok_or_else(|| drop(DropReason::MissingObjects, path.clone()))?,
            };
            if after.contains(&0) {
                return Err(drop(DropReason::BinaryFile, path));
            }
            let before = b.emulator.snapshot.read(&path);
            let before_len = before.as_ref().map_or(0, Vec::len);
            if after.len().max(before_len) > pr.max_file_bytes {
                return Err(drop(
                    DropReason::FileTooLarge,
                    format!("{path}: over {} bytes", pr.max_file_bytes),
                ));
            }
            let after =
                String::from_utf8(after).map_err(|_| drop(DropReason::NonUtf8, path.clone()))?;
            let absolute = format!("{ROOT}/{path}");
            let calls: Vec<EditorCall> = match before {
                None => vec![EditorCall::Create {
                    path: absolute.clone(),
                    file_text: after.clone(),
                }],
                Some(before) => {
                    let before = String::from_utf8(before)
                        .map_err(|_| drop(DropReason::NonUtf8, path.clone()))?;
                    if before.contains('\t') || after.contains('\t') {
                        return Err(drop(
                            DropReason::TabsInEditedFile,
                            format!("{path}: the editor expands tabs in the whole file"),
                        ));
                    }
                    if before.contains('\r') || after.contains('\r') {
                        return Err(drop(
                            DropReason::CrlfInEditedFile,
                            format!("{path}: the editor rewrites line ends"),
                        ));
                    }
                    let section = sections.get(&path).map(String::as_str);
                    let compute = || {
                        let patch = section
                            .map(str::to_string)
                            .or_else(|| libgit2_patch(&path, &before, &after));
                        str_replace_blocks(&path, &before, &after, patch.as_deref())
                    };
                    match b.emulator.shared() {
                        Some(shared) => shared
                            .edits
                            .blocks(&path, &before, &after, section, compute),
                        None => compute(),
                    }
                    .map_err(|e| drop(e.reason(), format!("{path}: {e}")))?
                    .into_iter()
                    .map(|block| EditorCall::StrReplace {
                        path: absolute.clone(),
                        old_str: block.search,
                        new_str: block.replace,
                    })
                    .collect()
                }
            };
            // A file in a directory the base lacks: the editor creates no directories, so
            // the agent makes them first with `mkdir -p` (the `kimi_dev` tools cannot).
            let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
            if matches!(calls.first(), Some(EditorCall::Create { .. }))
                && b.emulator.snapshot.follow(parent).is_none()
            {
                if family == ToolFamily::KimiDev {
                    return Err(drop(
                        DropReason::NewDirectory,
                        format!("{path}: the kimi_dev tools cannot make the directory {parent}"),
                    ));
                }
                let command = format!("mkdir -p {ROOT}/{parent}");
                let output = b
                    .emulator
                    .mkdir(&command)
                    .ok_or_else(|| drop(DropReason::UnsupportedCommand, command.clone()))?;
                if !output.is_empty() {
                    return Err(drop(
                        DropReason::ReplayMismatch,
                        format!("{path}: {}", output.trim_end()),
                    ));
                }
                let action = Action::new("bash", &[("command", &command)]);
                b.steps
                    .push(edit_step(&mut thought, message_source, action, output));
            }
            for call in calls {
                let result = b.emulator.editor(&call);
                if !result.ok {
                    return Err(drop(
                        DropReason::ReplayMismatch,
                        format!("{path}: {}", result.output.trim_end()),
                    ));
                }
                let action = editor_action(&call, family);
                b.steps.push(edit_step(
                    &mut thought,
                    message_source,
                    action,
                    result.output,
                ));
            }
        }
    }
    // 5. The replayed state must be the head's, byte for byte.
    let head_tree = repo
        .find_commit(head)
        .and_then(|c| c.tree())
        .map_err(|e| drop(DropReason::MissingObjects, e.to_string()))?;
    for path in gold {
        let expected = blob_at(repo, &head_tree, path);
        if b.emulator.snapshot.read(path) != expected {
            return Err(drop(
                DropReason::ReplayMismatch,
                format!("{path} differs from the head after the replay"),
            ));
        }
    }
    Ok(())
}

/// A step of the replay. A commit's message is the thought of its first step only (taken
/// from `thought`, which is left empty).
fn edit_step(
    thought: &mut String,
    message_source: ThoughtSource,
    action: Action,
    observation: String,
) -> Step {
    let (thought, thought_source) = if thought.is_empty() {
        (String::new(), ThoughtSource::Template)
    } else {
        (std::mem::take(thought), message_source)
    };
    Step {
        thought,
        thought_source,
        action,
        observation,
        observation_source: "emulator".into(),
        phase: Phase::Edit,
    }
}

/// The PR's leak guard before anything is seen: built from its problem text and diff once,
/// then copied for its other variants.
fn fresh_guard(pr: &PrInput, cache: Option<&crate::emulator::ResultCache>) -> LeakGuard {
    let Some(cache) = cache else {
        return LeakGuard::new(pr.problem, pr.diff);
    };
    let key = format!(
        "{}\0{}\0{}\0{}",
        pr.repo,
        pr.pr_number,
        corpus_core::hash::id128(pr.problem.as_bytes()),
        corpus_core::hash::id128(pr.diff.as_bytes())
    );
    if let Some(guard) = cache.guard.get(&key) {
        return guard;
    }
    let guard = LeakGuard::new(pr.problem, pr.diff);
    cache.guard.put(key, guard.clone());
    guard
}

/// A commit's tree and the paths it changes (sorted), from the PR's earlier variant when
/// there was one.
fn commit_paths<'r>(
    repo: &'r Repository,
    sha: &str,
    cache: Option<&crate::emulator::ResultCache>,
) -> Result<(git2::Tree<'r>, Vec<(String, git2::Delta)>), Drop> {
    if let Some((tree, paths)) = cache.and_then(|c| c.changes.get(sha)) {
        let tree = repo
            .find_tree(tree)
            .map_err(|e| drop(DropReason::MissingObjects, e.to_string()))?;
        return Ok((tree, paths));
    }
    let (tree, diff) = commit_change(repo, sha)?;
    let mut paths: Vec<(String, git2::Delta)> = diff
        .deltas()
        .filter_map(|d| {
            d.new_file()
                .path()
                .or(d.old_file().path())
                .map(|p| (p.to_string_lossy().into_owned(), d.status()))
        })
        .collect();
    paths.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(cache) = cache {
        cache.changes.put(sha, (tree.id(), paths.clone()));
    }
    Ok((tree, paths))
}

/// A commit's tree and its diff from its first parent.
fn commit_change<'r>(
    repo: &'r Repository,
    sha: &str,
) -> Result<(git2::Tree<'r>, git2::Diff<'r>), Drop> {
    let missing = |e: git2::Error| drop(DropReason::MissingObjects, e.to_string());
    let oid = Oid::from_str(sha).map_err(|e| drop(DropReason::BadSha, format!("{sha}: {e}")))?;
    let commit = repo.find_commit(oid).map_err(missing)?;
    let before = commit.parent(0).and_then(|p| p.tree()).map_err(missing)?;
    let after = commit.tree().map_err(missing)?;
    let diff = repo
        .diff_tree_to_tree(Some(&before), Some(&after), None)
        .map_err(missing)?;
    Ok((after, diff))
}

/// The file's unified diff by libgit2 (for files extraction left out of the commit's diff).
fn libgit2_patch(path: &str, before: &str, after: &str) -> Option<String> {
    let mut patch = git2::Patch::from_buffers(
        before.as_bytes(),
        Some(std::path::Path::new(path)),
        after.as_bytes(),
        Some(std::path::Path::new(path)),
        None,
    )
    .ok()?;
    let buf = patch.to_buf().ok()?;
    let text = std::str::from_utf8(&buf).ok()?.to_string();
    Some(if text.starts_with("diff --git ") {
        text
    } else {
        format!("diff --git a/{path} b/{path}\n{text}")
    })
}

fn blob_at(repo: &Repository, tree: &git2::Tree, path: &str) -> Option<Vec<u8>> {
    let entry = tree.get_path(std::path::Path::new(path)).ok()?;
    repo.find_blob(entry.id())
        .ok()
        .map(|b| b.content().to_vec())
}

/// An edit as the family calls it (`kimi_dev` has one tool per editor command).
fn editor_action(call: &EditorCall, family: ToolFamily) -> Action {
    let action = swe_agent_editor_action(call);
    match family {
        ToolFamily::SweAgent => action,
        ToolFamily::KimiDev => Action {
            tool: action.argument("command").unwrap_or("view").to_string(),
            arguments: action
                .arguments
                .into_iter()
                .filter(|(k, _)| k != "command")
                .collect(),
        },
    }
}

fn swe_agent_editor_action(call: &EditorCall) -> Action {
    match call {
        EditorCall::StrReplace {
            path,
            old_str,
            new_str,
        } => Action::new(
            "str_replace_editor",
            &[
                ("command", "str_replace"),
                ("path", path),
                ("old_str", old_str),
                ("new_str", new_str),
            ],
        ),
        EditorCall::Create { path, file_text } => Action::new(
            "str_replace_editor",
            &[
                ("command", "create"),
                ("path", path),
                ("file_text", file_text),
            ],
        ),
        EditorCall::Insert {
            path,
            insert_line,
            new_str,
        } => Action::new(
            "str_replace_editor",
            &[
                ("command", "insert"),
                ("path", path),
                ("insert_line", &insert_line.to_string()),
                ("new_str", new_str),
            ],
        ),
        EditorCall::View { path, .. } => {
            Action::new("str_replace_editor", &[("command", "view"), ("path", path)])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{first_mention, first_mention_in};

    #[test]
    fn a_mention_in_bytes_is_the_mention_in_their_lossy_text() {
        let files: [&[u8]; 6] = [
            b"import os\nclass Widget:\n    def resize(self):\n",
            b"a\r\nWidget here\r\nWidget again",
            b"bad \xff\xfe byte\n\xe2\x80 Widget \xc3\n",
            b"Widget",
            b"",
            b"\n\n  Widget\t\n",
        ];
        for file in files {
            for term in ["Widget", "resize", "missing", "\u{fffd}", "a\nb"] {
                assert_eq!(
                    first_mention_in(file, term),
                    first_mention(&String::from_utf8_lossy(file), term),
                    "{:?} in {file:?}",
                    term
                );
            }
        }
    }
}
