//! Stage `crawl`: the GitHub API's view of the recipe's repositories into `repos` (its own
//! parts: stars, licence, fork parent, renames) and `pulls` (merged PRs with the issues they
//! close), plus a bare mirror of each repository for `extract`. One unit per repository.
//!
//! Resumption: every response goes to the response cache as it arrives, and a crawl session
//! (`_work/crawl.session`, removed when the stage completes) serves what it already fetched
//! without asking again, so a killed or budget-limited crawl continues where it stopped. A
//! later crawl revalidates the cache with ETags. `offline = true` rebuilds both tables from
//! the cache alone.

use corpus_core::drop_reason::DropReason;
use corpus_core::schema::names;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::client::now_secs;
use crate::{
    Client, ClientOptions, CrawlError, CrawlSettings, MirrorSource, Tokens, crawl_repo_with,
};
use corpus_core::benchmark::BenchmarkRepos;
use corpus_core::crawl_cache::ResponseCache;
use corpus_core::recipe::Recipe;
use corpus_core::repo_name::normalize;
use corpus_core::rows::{DropRow, PullRow, RepoRow};

use crate::mirror_budget::MirrorBudget;
use corpus_stage::disk::folder_bytes;
use corpus_stage::error::{Result, StageError};
use corpus_stage::stage::{InputsBuilder, Stage, StageContext, StageInputs, StageSpec, UnitOutput};

const NAME: &str = "crawl";
const SESSION_FILE: &str = "crawl.session";

#[derive(Default)]
pub struct CrawlStage {
    client: OnceLock<Client>,
    names: OnceLock<Vec<String>>,
    /// Canonical name → the other listed names that resolve to it (old names of a renamed
    /// or transferred repository).
    aliases: OnceLock<BTreeMap<String, Vec<String>>>,
    /// Units start in parallel: one of them builds the client (and the demo set).
    init: std::sync::Mutex<()>,
    /// Under `[inputs] mirror_budget_gib`: a fetch waits until its mirror fits.
    budget: Option<std::sync::Arc<MirrorBudget>>,
}

fn stage_err(e: CrawlError) -> StageError {
    StageError::stage(NAME, e.to_string())
}

/// Where the response cache is: the recipe's folder, else `RUN/crawl_cache`.
pub fn cache_dir(ctx: &StageContext) -> PathBuf {
    match &ctx.recipe.crawl.cache {
        Some(dir) => ctx.recipe.resolve(dir),
        None => ctx.run.root.join("crawl_cache"),
    }
}

/// Where the mirrors are: the recipe's folder, else `RUN/mirrors`.
pub fn mirrors_dir(ctx: &StageContext) -> PathBuf {
    match &ctx.recipe.crawl.mirrors {
        Some(dir) => ctx.recipe.resolve(dir),
        None => ctx.run.root.join("mirrors"),
    }
}

fn session_path(ctx: &StageContext) -> PathBuf {
    ctx.run.root.join("_work").join(SESSION_FILE)
}

/// The Unix second this crawl session started (written on first use).
fn session_start(ctx: &StageContext) -> Result<i64> {
    let path = session_path(ctx);
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(start) = text.trim().parse::<i64>()
    {
        return Ok(start);
    }
    let start = now_secs();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| corpus_core::Error::io_path("create", dir, e))?;
    }
    corpus_core::manifest::write_atomically(&path, start.to_string().as_bytes())?;
    Ok(start)
}

/// The crawl's client for a run: API URL, budgets and retries from the recipe, tokens from
/// the environment, responses cached in the run's (or the recipe's) cache for this session.
pub fn crawl_client(ctx: &StageContext) -> Result<Client> {
    let c = &ctx.recipe.crawl;
    let api_url = std::env::var("GITHUB_API_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| c.api_url.clone());
    let options = ClientOptions {
        api_url,
        offline: c.offline,
        max_requests: c.max_requests,
        deadline: (c.max_minutes > 0.0)
            .then(|| Instant::now() + Duration::from_secs_f64(c.max_minutes * 60.0)),
        retry_base: Duration::from_millis(c.retry_base_ms),
        max_retries: c.max_retries,
        timeout: Duration::from_secs_f64(c.timeout_secs),
        fresh_since: session_start(ctx)?,
    };
    let tokens = if c.offline {
        Tokens::default()
    } else {
        Tokens::from_env()
    };
    if tokens.is_empty() && !c.offline {
        tracing::warn!(
            "crawl: no GITHUB_TOKEN or GITHUB_TOKENS; unauthenticated requests get 60 an hour"
        );
    }
    Client::new(options, ResponseCache::new(&cache_dir(ctx)), tokens).map_err(stage_err)
}

/// Every repository the recipe's `[crawl] search` matches (sliced past 1,000 results),
/// through the crawl's client and cache: `swe-corpus discover`.
pub fn discover_search(
    ctx: &StageContext,
) -> Result<(Vec<crate::Discovered>, crate::DiscoverStats)> {
    let search = ctx.recipe.crawl.search.as_ref().ok_or_else(|| {
        StageError::Usage("the recipe has no [crawl.search] to discover repositories with".into())
    })?;
    crate::discover(&crawl_client(ctx)?, search).map_err(stage_err)
}

impl CrawlStage {
    /// The stage whose fetches wait on `budget` and report their sizes to it.
    pub fn with_budget(budget: std::sync::Arc<MirrorBudget>) -> Self {
        Self {
            budget: Some(budget),
            ..Default::default()
        }
    }

    fn client(&self, ctx: &StageContext) -> Result<&Client> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let _init = self.init.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let client = crawl_client(ctx)?;
        Ok(self.client.get_or_init(|| client))
    }

    /// The repositories to crawl: the recipe's list, its file, then its search, once.
    fn names(&self, ctx: &StageContext) -> Result<&Vec<String>> {
        if let Some(n) = self.names.get() {
            return Ok(n);
        }
        let c = &ctx.recipe.crawl;
        let mut names: BTreeSet<String> = BTreeSet::new();
        let mut bad = Vec::new();
        let mut listed: Vec<String> = c.repos.clone();
        if let Some(file) = &c.repos_file {
            let path = ctx.recipe.resolve(file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                StageError::Usage(format!("[crawl] repos_file {}: {e}", path.display()))
            })?;
            listed.extend(
                text.lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                    .filter(|l| !l.is_empty()),
            );
        }
        for name in listed {
            match normalize(&name) {
                Some(n) => {
                    names.insert(n);
                }
                None => bad.push(name),
            }
        }
        if !bad.is_empty() {
            return Err(StageError::Usage(format!(
                "[crawl] these are not owner/name: {}",
                bad.join(", ")
            )));
        }
        if let Some(search) = &c.search {
            let (found, stats) = crate::discover(self.client(ctx)?, search).map_err(stage_err)?;
            tracing::info!(
                "crawl: the search found {} repositories in {} slices ({} pages)",
                found.len(),
                stats.slices,
                stats.pages
            );
            names.extend(found.into_iter().map(|d| d.name));
        }
        let listed: Vec<String> = names.into_iter().collect();
        let canonical = self.canonical_names(ctx, &listed)?;
        let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, canonical) in listed.iter().zip(&canonical) {
            let entry = aliases.entry(canonical.clone()).or_default();
            if name != canonical {
                entry.push(name.clone());
            }
        }
        let names: Vec<String> = aliases.keys().cloned().collect();
        let _ = self.aliases.set(aliases);
        Ok(self.names.get_or_init(|| names))
    }

    /// The canonical name of each listed name, asked in parallel (the first request of each
    /// repository's crawl, cached): names that GitHub redirects to one repository become one
    /// unit. A benchmark name is not asked; a name that cannot be resolved stays as listed,
    /// and its unit says why.
    fn canonical_names(&self, ctx: &StageContext, listed: &[String]) -> Result<Vec<String>> {
        let benchmark = BenchmarkRepos::from_options(&ctx.recipe.decontam);
        let client = self.client(ctx)?;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let resolved: std::sync::Mutex<Vec<(usize, Result<String>)>> = Default::default();
        let workers = listed.len().clamp(1, RESOLVE_WORKERS);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(name) = listed.get(i) else { break };
                        let canonical = if benchmark.matches(name, []).is_some() {
                            Ok(name.clone())
                        } else {
                            match crate::canonical_name(client, name) {
                                Ok(found) => Ok(found.unwrap_or_else(|| name.clone())),
                                Err(CrawlError::Http { .. } | CrawlError::Shape { .. }) => {
                                    Ok(name.clone())
                                }
                                Err(e) => Err(stage_err(e)),
                            }
                        };
                        resolved
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((i, canonical));
                    }
                });
            }
        });
        let mut resolved = resolved.into_inner().unwrap_or_else(|p| p.into_inner());
        resolved.sort_by_key(|(i, _)| *i);
        resolved.into_iter().map(|(_, name)| name).collect()
    }

    fn aliases_of(&self, name: &str) -> Vec<String> {
        self.aliases
            .get()
            .and_then(|a| a.get(name))
            .cloned()
            .unwrap_or_default()
    }
}

/// Requests in flight while listed names are resolved.
const RESOLVE_WORKERS: usize = 8;

/// The repository's row with the listed names that resolved to it as aliases.
fn with_aliases(mut row: RepoRow, listed: Vec<String>) -> RepoRow {
    row.aliases.extend(listed);
    row.aliases.sort();
    row.aliases.dedup();
    row
}

fn mirror_if_wanted(
    ctx: &StageContext,
    repo: &str,
    source: MirrorSource<'_>,
    branch: Option<&str>,
    budget: Option<&MirrorBudget>,
) -> crate::Result<Option<PathBuf>> {
    let c = &ctx.recipe.crawl;
    let dir = mirrors_dir(ctx);
    let existing = crate::mirror::mirror_path(&dir, repo);
    if c.offline || !c.mirror {
        return Ok(existing.exists().then_some(existing));
    }
    let Some(url) = source.clone_url else {
        return Ok(None);
    };
    let Some(budget) = budget else {
        return crate::mirror::update_mirror(&dir, repo, url, branch).map(Some);
    };
    let estimate = source.size_kib.map(|kib| kib.max(0) as u64 * 1024);
    budget.admit(repo, estimate);
    match crate::mirror::update_mirror(&dir, repo, url, branch) {
        Ok(path) => {
            budget.settle(repo, folder_bytes(&path));
            Ok(Some(path))
        }
        Err(e) => {
            budget.release(repo, false);
            Err(e)
        }
    }
}

/// Each PR's (number, base sha, head sha), the ranges read from its mirror.
fn ranges_of(pulls: &[PullRow]) -> Vec<(i64, String, String)> {
    pulls
        .iter()
        .map(|p| (p.pr_number, p.base_sha.clone(), p.head_sha.clone()))
        .collect()
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

const SPEC: StageSpec = StageSpec {
    name: NAME,
    outputs: &[names::REPOS, names::PULLS],
    // Its inputs are the recipe and GitHub, not tables.
    reads: &[],
};

impl Stage for CrawlStage {
    fn spec(&self) -> &'static StageSpec {
        &SPEC
    }

    fn inputs(&self, ctx: &StageContext) -> Result<StageInputs> {
        let c = &ctx.recipe.crawl;
        let mut builder = InputsBuilder::new(Recipe::section_hash(&(c, &ctx.recipe.decontam)));
        builder.hidden(
            "registry",
            corpus_core::benchmark::registry_digest().as_bytes(),
        );
        // The folders are in the section (no run path here: the bytes must not depend on
        // where the run directory is).
        if c.enabled
            && let Some(file) = &c.repos_file
        {
            let path = ctx.recipe.resolve(file);
            builder.hidden("repos_file", &std::fs::read(&path).unwrap_or_default());
        }
        Ok(builder.finish())
    }

    fn units(&self, ctx: &StageContext) -> Result<Vec<String>> {
        if !ctx.recipe.crawl.enabled {
            return Ok(Vec::new());
        }
        Ok(self.names(ctx)?.clone())
    }

    fn run_unit(&self, ctx: &StageContext, key: &str, out: &mut UnitOutput) -> Result<()> {
        let client = self.client(ctx)?;
        let settings = CrawlSettings {
            per_page: ctx.recipe.crawl.per_page,
            linked_issues: ctx.recipe.crawl.linked_issues,
            review_comments: ctx.recipe.crawl.review_comments,
            graphql: ctx.recipe.crawl.graphql,
        };
        let benchmark = BenchmarkRepos::from_options(&ctx.recipe.decontam);
        // Between the PR list and the linked issues: mirror the repository, and read each
        // PR's commit messages from it (closing keywords there count too).
        let mut mirror_and_messages = |row: &mut RepoRow,
                                       source: MirrorSource<'_>,
                                       pulls: &[PullRow]|
         -> crate::Result<BTreeMap<i64, String>> {
            let path = mirror_if_wanted(
                ctx,
                &row.repo,
                source,
                row.default_branch.as_deref(),
                self.budget.as_deref(),
            )?;
            row.path = path.as_deref().map(display);
            let Some(path) = path else {
                return Ok(BTreeMap::new());
            };
            corpus_git::history::pr_commit_messages(&path, &ranges_of(pulls)).map_err(|e| {
                CrawlError::Mirror {
                    repo: row.repo.clone(),
                    message: e.to_string(),
                }
            })
        };
        let crawled =
            match crawl_repo_with(client, key, &settings, &benchmark, &mut mirror_and_messages) {
                Ok(crawled) => crawled,
                // Access refused for this repository alone: record it and go on.
                Err(CrawlError::Http {
                    url,
                    status,
                    message,
                }) if status == 403 => {
                    out.write_drops(&[DropRow::new(NAME, DropReason::RepoUnavailable)
                        .repo(key)
                        .detail(format!("GET {url}: HTTP {status}: {message}"))])?;
                    return Ok(());
                }
                // Budget, offline cache miss, a server that keeps failing: the unit is not done,
                // so the next run asks again; nothing partial is written.
                Err(e) => return Err(stage_err(e)),
            };
        match crawled {
            Err((row, skipped)) => {
                out.write_drops(&[DropRow::new(NAME, skipped.reason)
                    .repo(&row.repo)
                    .detail(skipped.detail)])?;
                let row = with_aliases(row, self.aliases_of(key));
                out.write(names::REPOS, &RepoRow::batch(&[row])?)?;
            }
            Ok(mut crawl) => {
                // The list API has no file counts: the mirror gives them.
                if let Some(path) = crawl.repo.path.clone() {
                    let ranges = ranges_of(&crawl.pulls);
                    let counts = corpus_git::history::pr_changed_files(Path::new(&path), &ranges)
                        .map_err(|e| StageError::stage(NAME, e.to_string()))?;
                    for pull in &mut crawl.pulls {
                        if pull.changed_files.is_none() {
                            pull.changed_files = counts.get(&pull.pr_number).copied();
                        }
                    }
                }
                tracing::info!(
                    "crawl {}: {} merged PRs of {} closed over {} pages, {} linked issues; so far {}",
                    crawl.repo.repo,
                    crawl.stats.merged_prs,
                    crawl.stats.closed_prs,
                    crawl.stats.pages,
                    crawl.stats.linked_issues,
                    self.progress().unwrap_or_default()
                );
                let lost: Vec<DropRow> = crawl
                    .lost_links
                    .iter()
                    .map(|l| {
                        DropRow::new(NAME, DropReason::LinkedIssueUnavailable)
                            .repo(&crawl.repo.repo)
                            .pr(Some(l.pr_number))
                            .detail(format!("issue #{}: {}", l.issue, l.detail))
                    })
                    .collect();
                out.write_drops(&lost)?;
                for chunk in crawl.pulls.chunks(512) {
                    out.write(names::PULLS, &PullRow::batch(chunk)?)?;
                }
                let row = with_aliases(crawl.repo, self.aliases_of(key));
                out.write(names::REPOS, &RepoRow::batch(&[row])?)?;
            }
        }
        Ok(())
    }

    fn progress(&self) -> Option<String> {
        let stats = self.client.get()?.stats();
        Some(format!(
            "{} requests ({} retried, {} waits for quota), {} from cache, {} not modified{}",
            stats.requests,
            stats.retries,
            stats.rate_limit_waits,
            stats.from_cache,
            stats.not_modified,
            stats
                .remaining
                .map(|r| format!(", quota left {r}"))
                .unwrap_or_default()
        ))
    }

    fn finish_outputs(&self, ctx: &StageContext) -> Result<()> {
        // The session ends with the stage: the next crawl revalidates with ETags.
        let path = session_path(ctx);
        if path.exists() {
            std::fs::remove_file(&path)
                .map_err(|e| corpus_core::Error::io_path("remove", &path, e))?;
        }
        Ok(())
    }
}
