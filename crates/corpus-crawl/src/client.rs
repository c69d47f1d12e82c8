//! The HTTP side of the crawl: GET a GitHub API URL and get its JSON body, through the
//! response cache, within rate limits, over several tokens, with retries.
//!
//! - A URL already fetched in this crawl session is served from the cache with no request
//!   (that is how a killed crawl resumes where it stopped); an older one is revalidated with
//!   `If-None-Match` (a 304 costs no quota on GitHub).
//! - `x-ratelimit-remaining` / `x-ratelimit-reset` are read on every response: a spent token
//!   rests until its reset while the others go on; with all spent, the crawl waits.
//! - `retry-after` (secondary limits, 429) is honoured; 5xx, timeouts, closed connections,
//!   HTML pages and truncated JSON are retried with exponential backoff and jitter.
//! - Redirects (a renamed repository) are returned to the caller, which records the rename.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use corpus_core::crawl_cache::{CacheEntry, ResponseCache};
use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use http_body_util::BodyExt;
use octocrab::Octocrab;

use crate::error::{CrawlError, Result};
use crate::links::{next_link, relative_url};
use crate::tokens::Tokens;

/// How a [`Client`] behaves.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub api_url: String,
    pub offline: bool,
    pub max_requests: u64,
    pub deadline: Option<Instant>,
    pub retry_base: Duration,
    pub max_retries: u32,
    pub timeout: Duration,
    /// Cached responses confirmed at or after this Unix second are used without a request.
    pub fresh_since: i64,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            api_url: "https://api.github.com".into(),
            offline: false,
            max_requests: 0,
            deadline: None,
            retry_base: Duration::from_millis(1000),
            max_retries: 8,
            timeout: Duration::from_secs(30),
            fresh_since: i64::MAX,
        }
    }
}

/// A response the caller gets: a JSON body, or a redirect.
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL asked, relative to the API base.
    pub url: String,
    pub status: u16,
    pub body: String,
    /// The next page, relative to the API base.
    pub next: Option<String>,
    /// Where a redirect points, relative to the API base.
    pub location: Option<String>,
}

impl Response {
    fn from_entry(entry: CacheEntry) -> Self {
        Self {
            url: entry.url,
            status: entry.status,
            body: entry.body,
            next: entry.next,
            location: entry.location,
        }
    }

    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 307 | 308)
    }

    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.body).map_err(|e| CrawlError::Shape {
            url: self.url.clone(),
            message: format!("not JSON: {e}"),
        })
    }
}

/// What the client did, for the report and the progress line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests sent (retries included).
    pub requests: u64,
    pub retries: u64,
    /// Answers 304: the cached body was still right.
    pub not_modified: u64,
    /// URLs served from this session's cache with no request.
    pub from_cache: u64,
    /// Waits for a rate limit (primary reset or `retry-after`).
    pub rate_limit_waits: u64,
    /// The lowest core `x-ratelimit-remaining` seen last, over the tokens.
    pub remaining: Option<u64>,
}

/// GitHub counts requests against separate quotas (`x-ratelimit-resource`): the REST API's
/// core quota, the search API's (30 a minute), GraphQL's points. A spent search quota must
/// not stop the crawl's other requests, so each token keeps one state per resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    Core,
    Search,
    Graphql,
}

impl Resource {
    /// The quota a request (URL relative to the API base, or the GraphQL cache key) counts
    /// against.
    pub fn of(url: &str) -> Self {
        if url.starts_with("/search/") {
            Resource::Search
        } else if url.starts_with("/graphql") {
            Resource::Graphql
        } else {
            Resource::Core
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Quota {
    remaining: Option<u64>,
    /// Unix second when the quota comes back.
    reset: Option<i64>,
}

struct Slot {
    octo: Octocrab,
    quotas: std::collections::BTreeMap<Resource, Quota>,
}

impl Slot {
    fn quota(&mut self, resource: Resource) -> &mut Quota {
        self.quotas.entry(resource).or_default()
    }
}

struct State {
    slots: Vec<Slot>,
    next_slot: usize,
    stats: ClientStats,
}

pub struct Client {
    base: String,
    options: ClientOptions,
    cache: ResponseCache,
    tokens: Tokens,
    runtime: tokio::runtime::Runtime,
    state: Mutex<State>,
}

/// What one attempt gave.
enum Attempt {
    Done(Response),
    /// Retry after this long; `quota` says it was a rate limit (not counted as a failure).
    Retry {
        wait: Duration,
        why: String,
        quota: bool,
    },
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Client {
    pub fn new(options: ClientOptions, cache: ResponseCache, tokens: Tokens) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| CrawlError::Usage(format!("start the HTTP runtime: {e}")))?;
        let base = options.api_url.trim_end_matches('/').to_string();
        let mut slots = Vec::new();
        {
            let _guard = runtime.enter();
            let build = |token: Option<&String>| -> Result<Octocrab> {
                let mut builder = Octocrab::builder()
                    .base_uri(base.as_str())
                    .map_err(|e| CrawlError::Usage(format!("api_url `{base}`: {e}")))?
                    .set_connect_timeout(Some(options.timeout))
                    .set_read_timeout(Some(options.timeout));
                if let Some(token) = token {
                    builder = builder.personal_token(token.clone());
                }
                // The builder's error text never holds the token.
                builder
                    .build()
                    .map_err(|e| CrawlError::Usage(format!("HTTP client: {e}")))
            };
            if tokens.is_empty() {
                slots.push(build(None)?);
            } else {
                for t in tokens.values() {
                    slots.push(build(Some(t))?);
                }
            }
        }
        let slots = slots
            .into_iter()
            .map(|octo| Slot {
                octo,
                quotas: Default::default(),
            })
            .collect();
        Ok(Self {
            base,
            options,
            cache,
            tokens,
            runtime,
            state: Mutex::new(State {
                slots,
                next_slot: 0,
                stats: ClientStats::default(),
            }),
        })
    }

    pub fn stats(&self) -> ClientStats {
        self.lock().stats.clone()
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// GET `url` (relative to the API base): a 2xx JSON body or a redirect; 404 and 410 are
    /// [`CrawlError::NotFound`].
    pub fn get(&self, url: &str) -> Result<Response> {
        self.send(url, None)
    }

    pub fn is_offline(&self) -> bool {
        self.options.offline
    }

    /// Whether requests carry a token (GraphQL answers only those).
    pub fn has_tokens(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// POST a GraphQL query. The cache keys it by the query's hash (`/graphql#HASH`), so a
    /// resumed or offline crawl gets the same answer.
    pub fn graphql(&self, query: &str) -> Result<Response> {
        let body = serde_json::json!({ "query": query });
        let key = format!("/graphql#{}", corpus_core::hash::id128(query.as_bytes()));
        self.send(&key, Some(&body))
    }

    fn send(&self, url: &str, body: Option<&serde_json::Value>) -> Result<Response> {
        let cached = self.cache.get(url)?;
        if let Some(entry) = &cached
            && (self.options.offline || entry.fetched_at >= self.options.fresh_since)
        {
            self.lock().stats.from_cache += 1;
            return finish(Response::from_entry(entry.clone()));
        }
        if self.options.offline {
            return Err(CrawlError::Offline(url.to_string()));
        }
        let mut failures = 0u32;
        loop {
            self.check_budget(url)?;
            let (slot, wait) = self.pick_slot(Resource::of(url));
            if let Some(wait) = wait {
                self.lock().stats.rate_limit_waits += 1;
                tracing::info!(
                    "every token is out of quota; waiting {}s for the reset",
                    wait.as_secs()
                );
                self.sleep(wait, url)?;
                continue;
            }
            match self.attempt(slot, url, body, cached.as_ref(), failures)? {
                Attempt::Done(response) => return finish(response),
                Attempt::Retry { wait, why, quota } => {
                    if quota {
                        self.lock().stats.rate_limit_waits += 1;
                    } else {
                        failures += 1;
                        if failures > self.options.max_retries {
                            return Err(CrawlError::GaveUp {
                                url: url.to_string(),
                                attempts: failures,
                                last: why,
                            });
                        }
                        self.lock().stats.retries += 1;
                    }
                    tracing::debug!("GET {url}: {why}; retrying in {} ms", wait.as_millis());
                    self.sleep(wait, url)?;
                }
            }
        }
    }

    fn check_budget(&self, url: &str) -> Result<()> {
        let sent = self.lock().stats.requests;
        if self.options.max_requests > 0 && sent >= self.options.max_requests {
            return Err(CrawlError::Budget(format!(
                "{sent} requests made, the recipe's max_requests; next was GET {url}"
            )));
        }
        if let Some(deadline) = self.options.deadline
            && Instant::now() >= deadline
        {
            return Err(CrawlError::Budget(format!(
                "the recipe's max_minutes is up; next was GET {url}"
            )));
        }
        Ok(())
    }

    /// Sleep, unless that would pass the deadline.
    fn sleep(&self, wait: Duration, url: &str) -> Result<()> {
        if let Some(deadline) = self.options.deadline
            && Instant::now() + wait > deadline
        {
            return Err(CrawlError::Budget(format!(
                "the recipe's max_minutes would pass while waiting {}s; next was GET {url}",
                wait.as_secs()
            )));
        }
        std::thread::sleep(wait);
        Ok(())
    }

    /// A token with quota left for `resource`, round robin; or how long until the first
    /// reset.
    fn pick_slot(&self, resource: Resource) -> (usize, Option<Duration>) {
        let mut state = self.lock();
        let now = now_secs();
        let n = state.slots.len();
        for step in 0..n {
            let i = (state.next_slot + step) % n;
            let quota = state.slots[i].quota(resource);
            if quota.reset.is_some_and(|r| r <= now) {
                *quota = Quota::default();
            }
            if quota.remaining != Some(0) {
                state.next_slot = (i + 1) % n;
                return (i, None);
            }
        }
        let reset = state
            .slots
            .iter_mut()
            .filter_map(|s| s.quota(resource).reset)
            .min()
            .unwrap_or(now + 1);
        // One second past the reset: GitHub's clock and ours differ by a little.
        let wait = Duration::from_secs((reset - now).max(0) as u64 + 1);
        (0, Some(wait))
    }

    fn attempt(
        &self,
        slot: usize,
        url: &str,
        body: Option<&serde_json::Value>,
        cached: Option<&CacheEntry>,
        failures: u32,
    ) -> Result<Attempt> {
        let octo = self.lock().slots[slot].octo.clone();
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            HeaderName::from_static("x-github-api-version"),
            HeaderValue::from_static("2022-11-28"),
        );
        if let Some(etag) = cached.and_then(|c| c.etag.as_deref())
            && let Ok(value) = HeaderValue::from_str(etag)
        {
            headers.insert(http::header::IF_NONE_MATCH, value);
        }
        let full = match body {
            Some(_) => self.graphql_url(),
            None => format!("{}{}", self.base, url),
        };
        let timeout = self.options.timeout;
        self.lock().stats.requests += 1;
        let sent = self.runtime.block_on(async {
            tokio::time::timeout(timeout, async {
                let response = match body {
                    Some(body) => octo._post(full.as_str(), Some(body)).await?,
                    None => octo._get_with_headers(full.as_str(), Some(headers)).await?,
                };
                let (parts, body) = response.into_parts();
                let bytes: Bytes = body.collect().await?.to_bytes();
                Ok::<_, octocrab::Error>((parts, bytes))
            })
            .await
        });
        let (parts, bytes) = match sent {
            Err(_) => {
                return Ok(self.backoff(
                    url,
                    format!("no answer in {}s", timeout.as_secs_f64()),
                    failures,
                ));
            }
            Ok(Err(e)) => {
                let why = self.tokens.redact(&format!("connection: {e}"));
                return Ok(self.backoff(url, why, failures));
            }
            Ok(Ok(got)) => got,
        };
        let status = parts.status.as_u16();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let remaining = header("x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok());
        let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok());
        // The quota the answer speaks of: GitHub names it; else the one the URL counts on.
        let resource = match header("x-ratelimit-resource").as_deref() {
            Some("search") => Resource::Search,
            Some("graphql") => Resource::Graphql,
            Some(_) => Resource::Core,
            None => Resource::of(url),
        };
        {
            let mut state = self.lock();
            if remaining.is_some() {
                *state.slots[slot].quota(resource) = Quota { remaining, reset };
            }
            state.stats.remaining = state
                .slots
                .iter_mut()
                .filter_map(|s| s.quota(Resource::Core).remaining)
                .min();
        }
        let body = String::from_utf8_lossy(&bytes).into_owned();
        let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
        match status {
            200..=299 => {
                if let Err(why) = check_json(&parts.headers, &body) {
                    return Ok(self.backoff(url, why, failures));
                }
                let next = header("link").and_then(|l| next_link(&l, &self.base));
                let entry = CacheEntry {
                    url: url.to_string(),
                    status,
                    etag: header("etag"),
                    next,
                    location: None,
                    fetched_at: now_secs(),
                    body,
                };
                self.cache.put(&entry)?;
                Ok(Attempt::Done(Response::from_entry(entry)))
            }
            304 => match cached {
                Some(entry) => {
                    let mut entry = entry.clone();
                    entry.fetched_at = now_secs();
                    self.cache.put(&entry)?;
                    self.lock().stats.not_modified += 1;
                    Ok(Attempt::Done(Response::from_entry(entry)))
                }
                None => Ok(self.backoff(url, "304 without a cached body".into(), failures)),
            },
            301 | 302 | 307 | 308 => {
                let location = header("location")
                    .map(|l| relative_url(&l, &self.base))
                    .ok_or_else(|| CrawlError::Shape {
                        url: url.to_string(),
                        message: format!("HTTP {status} without a Location"),
                    })?;
                let entry = CacheEntry {
                    url: url.to_string(),
                    status,
                    etag: None,
                    next: None,
                    location: Some(location),
                    fetched_at: now_secs(),
                    body: String::new(),
                };
                self.cache.put(&entry)?;
                Ok(Attempt::Done(Response::from_entry(entry)))
            }
            404 | 410 | 451 => {
                // Recorded too, so an offline replay ends the same way.
                let entry = CacheEntry {
                    url: url.to_string(),
                    status,
                    etag: None,
                    next: None,
                    location: None,
                    fetched_at: now_secs(),
                    body: String::new(),
                };
                self.cache.put(&entry)?;
                Ok(Attempt::Done(Response::from_entry(entry)))
            }
            403 | 429 => {
                if let Some(secs) = retry_after {
                    return Ok(Attempt::Retry {
                        wait: Duration::from_secs(secs.max(1)),
                        why: format!("HTTP {status} with retry-after {secs}s (secondary limit)"),
                        quota: true,
                    });
                }
                if remaining == Some(0) {
                    // The token is spent: the next pick moves on or waits for the reset.
                    return Ok(Attempt::Retry {
                        wait: Duration::ZERO,
                        why: format!("HTTP {status}: token out of quota"),
                        quota: true,
                    });
                }
                if status == 429 || body.to_ascii_lowercase().contains("rate limit") {
                    // A rate limit whatever the headers say (a proxy may strip them, or another
                    // client spent the token): this token rests until the reset it was sent,
                    // else a minute (GitHub's advice without retry-after), and the next pick
                    // moves on to another token or waits.
                    let now = now_secs();
                    let until = reset.filter(|r| *r > now && *r <= now + 3_600);
                    *self.lock().slots[slot].quota(resource) = Quota {
                        remaining: Some(0),
                        reset: Some(until.unwrap_or(now + 60)),
                    };
                    return Ok(Attempt::Retry {
                        wait: Duration::ZERO,
                        why: format!("HTTP {status}: rate limit ({})", short(&body)),
                        quota: true,
                    });
                }
                Err(CrawlError::Http {
                    url: url.to_string(),
                    status,
                    message: self.tokens.redact(&short(&body)),
                })
            }
            500..=599 => Ok(self.backoff(url, format!("HTTP {status}"), failures)),
            _ => Err(CrawlError::Http {
                url: url.to_string(),
                status,
                message: self.tokens.redact(&short(&body)),
            }),
        }
    }

    /// GitHub's GraphQL endpoint: `/graphql` beside the REST base, or `/api/graphql` on
    /// GitHub Enterprise (whose REST base ends in `/api/v3`).
    fn graphql_url(&self) -> String {
        match self.base.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{}/graphql", self.base),
        }
    }

    /// Exponential backoff with jitter (deterministic per URL and failure count).
    fn backoff(&self, url: &str, why: String, failures: u32) -> Attempt {
        let base = self.options.retry_base.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << failures.min(6));
        let salt = xxhash_rust::xxh3::xxh3_64(format!("{url}#{failures}").as_bytes());
        let jittered = exp / 2 + salt % (exp / 2 + 1);
        Attempt::Retry {
            wait: Duration::from_millis(jittered.min(60_000)),
            why,
            quota: false,
        }
    }
}

/// Not-found answers become errors; the rest goes to the caller.
fn finish(response: Response) -> Result<Response> {
    if matches!(response.status, 404 | 410 | 451) {
        return Err(CrawlError::NotFound {
            url: response.url,
            status: response.status,
        });
    }
    Ok(response)
}

/// An HTML error page or a cut-off body where JSON was expected.
fn check_json(headers: &HeaderMap, body: &str) -> std::result::Result<(), String> {
    let kind = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if kind.contains("text/html") || body.trim_start().starts_with('<') {
        return Err("an HTML page where JSON was expected".into());
    }
    serde_json::from_str::<serde::de::IgnoredAny>(body)
        .map(|_| ())
        .map_err(|e| format!("truncated or invalid JSON ({e})"))
}

fn short(body: &str) -> String {
    let text: String = body.chars().take(200).collect();
    text.replace('\n', " ")
}
