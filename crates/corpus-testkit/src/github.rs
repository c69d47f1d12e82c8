//! A mock GitHub REST API on 127.0.0.1 for tests and benchmarks: the JSON shapes the crawl
//! reads, `Link` pagination, ETags and 304s, a primary rate limit per token that resets,
//! and scripted faults (secondary limits with `retry-after`, 502s, HTML pages, truncated
//! JSON, a request that hangs). It counts every request it answers.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::http::{Request, read_request, spawn_accept_loop, wake};

#[derive(Debug, Clone, Default)]
pub struct MockPull {
    pub number: i64,
    pub title: String,
    pub body: String,
    pub user: Option<String>,
    pub bot: bool,
    pub merged: bool,
    pub merged_at: String,
    pub base_ref: String,
    pub base_sha: String,
    pub head_sha: String,
    pub merge_sha: String,
    pub labels: Vec<String>,
    pub review_comments: Vec<String>,
    /// Issues linked in GitHub's UI (GraphQL `closingIssuesReferences`), not in the text.
    pub closes: Vec<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct MockIssue {
    pub title: String,
    pub body: String,
    pub comments: Vec<String>,
    /// GitHub serves PRs on the issues endpoint too, with a `pull_request` key.
    pub is_pull_request: bool,
    /// The issue answers 403 (not a rate limit: access refused to this one resource).
    pub forbidden: bool,
    /// Its comments answer 403.
    pub forbidden_comments: bool,
}

#[derive(Debug, Clone, Default)]
pub struct MockRepo {
    pub full_name: String,
    pub id: i64,
    pub stars: i64,
    pub license: Option<String>,
    pub default_branch: String,
    pub fork_parent: Option<String>,
    pub archived: bool,
    pub language: String,
    /// `YYYY-MM-DD` the repository was created (the search's `created:` qualifier); empty:
    /// 2015-06-01.
    pub created: String,
    /// Old names that answer 301 to `/repositories/ID`.
    pub renamed_from: Vec<String>,
    pub clone_url: Option<String>,
    pub pulls: Vec<MockPull>,
    pub issues: BTreeMap<i64, MockIssue>,
}

/// Faults, by the number of the request (1-based, over the whole server).
#[derive(Debug, Clone, Default)]
pub struct MockFaults {
    /// Requests each token may make per window before 403 with remaining 0.
    pub quota_per_window: Option<u64>,
    /// The search API's own quota per token per window (GitHub: 30 a minute), counted apart
    /// from the rest; None: search requests count against `quota_per_window`.
    pub search_quota_per_window: Option<u64>,
    pub window_secs: u64,
    /// Leave the rate-limit headers off successful answers (another client shares the
    /// token, say), so the client learns of the limit only from the 403.
    pub hide_remaining: bool,
    pub secondary_limit_at: Vec<u64>,
    /// A 403 whose body says "rate limit" with no rate-limit header at all.
    pub bare_rate_limit_at: Vec<u64>,
    pub bad_gateway_at: Vec<u64>,
    pub html_at: Vec<u64>,
    pub truncated_at: Vec<u64>,
    /// Requests answered only after this long (the client should time out and retry).
    pub hang_at: Vec<u64>,
    pub hang_for: Duration,
}

#[derive(Default)]
struct Counters {
    requests: u64,
    by_path: HashMap<String, u64>,
    authorizations: Vec<String>,
    /// (token, window start) → requests in that window.
    quota: HashMap<String, (u64, u64)>,
    not_modified: u64,
    rate_limited: u64,
}

struct Shared {
    repos: Vec<MockRepo>,
    faults: MockFaults,
    base: String,
    counters: Mutex<Counters>,
    stop: AtomicBool,
}

/// A running mock server; it stops when dropped.
pub struct MockGitHub {
    shared: Arc<Shared>,
    url: String,
}

impl MockGitHub {
    pub fn start(repos: Vec<MockRepo>, faults: MockFaults) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            repos,
            faults,
            base: url.clone(),
            counters: Mutex::new(Counters::default()),
            stop: AtomicBool::new(false),
        });
        spawn_accept_loop(listener, shared.clone(), |s| &s.stop, serve);
        Ok(Self { shared, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn requests(&self) -> u64 {
        self.counters().requests
    }

    /// Requests per path (query left out).
    pub fn requests_to(&self, path: &str) -> u64 {
        self.counters().by_path.get(path).copied().unwrap_or(0)
    }

    pub fn not_modified(&self) -> u64 {
        self.counters().not_modified
    }

    pub fn rate_limited(&self) -> u64 {
        self.counters().rate_limited
    }

    /// Every distinct `Authorization` header seen.
    pub fn authorizations(&self) -> Vec<String> {
        self.counters().authorizations.clone()
    }

    fn counters(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.shared
            .counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for MockGitHub {
    fn drop(&mut self) {
        wake(&self.shared.stop, self.url.trim_start_matches("http://"));
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(value: &Value) -> Self {
        Self {
            status: 200,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: value.to_string(),
        }
    }

    fn status(status: u16, message: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: json!({ "message": message }).to_string(),
        }
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn serve(shared: &Shared, stream: TcpStream) -> std::io::Result<()> {
    let Request {
        target,
        headers,
        body,
    } = read_request(&stream)?;
    let auth = headers.get("authorization").cloned().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    let (number, quota_left, reset) = {
        let mut c = shared.counters.lock().unwrap_or_else(|p| p.into_inner());
        c.requests += 1;
        *c.by_path.entry(path.to_string()).or_default() += 1;
        if !auth.is_empty() && !c.authorizations.contains(&auth) {
            c.authorizations.push(auth.clone());
        }
        let n = c.requests;
        let search =
            path.starts_with("/search/") && shared.faults.search_quota_per_window.is_some();
        let quota = if search {
            shared.faults.search_quota_per_window
        } else {
            shared.faults.quota_per_window
        };
        match quota {
            Some(quota) => {
                let window = shared.faults.window_secs.max(1);
                let start = now() / window * window;
                let key = if search {
                    format!("search {auth}")
                } else {
                    auth.clone()
                };
                let entry = c.quota.entry(key).or_insert((start, 0));
                if entry.0 != start {
                    *entry = (start, 0);
                }
                entry.1 += 1;
                let used = entry.1;
                // Negative: over the quota.
                (n, Some(quota as i64 - used as i64), start + window)
            }
            None => (n, None, now() + 3600),
        }
    };
    let f = &shared.faults;
    let mut reply = if quota_left.is_some_and(|l| l < 0) {
        shared
            .counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .rate_limited += 1;
        let mut r = Reply::status(403, "API rate limit exceeded for this token.");
        r.headers.push(("x-ratelimit-remaining".into(), "0".into()));
        r.headers
            .push(("x-ratelimit-reset".into(), reset.to_string()));
        r
    } else if f.secondary_limit_at.contains(&number) {
        let mut r = Reply::status(
            403,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        );
        r.headers.push(("retry-after".into(), "1".into()));
        r
    } else if f.bare_rate_limit_at.contains(&number) {
        Reply::status(403, "API rate limit exceeded for installation ID 1.")
    } else if f.bad_gateway_at.contains(&number) {
        Reply::status(502, "Server Error")
    } else if f.html_at.contains(&number) {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "text/html".into())],
            body: "<!DOCTYPE html><html><body>Unicorn! This page is taking too long to load.</body></html>".into(),
        }
    } else {
        if f.hang_at.contains(&number) {
            std::thread::sleep(f.hang_for);
        }
        let mut r = if path == "/graphql" {
            graphql(shared, &body, !auth.is_empty())
        } else {
            route(shared, path, query)
        };
        if f.truncated_at.contains(&number) && r.status == 200 {
            let cut = r.body.len() / 2;
            r.body.truncate(cut);
        }
        r
    };
    let resource = if path.starts_with("/search/") {
        "search"
    } else if path == "/graphql" {
        "graphql"
    } else {
        "core"
    };
    let bare = f.bare_rate_limit_at.contains(&number);
    if !bare {
        reply
            .headers
            .push(("x-ratelimit-resource".into(), resource.into()));
    }
    if bare || (shared.faults.hide_remaining && reply.status != 403) {
        // Nothing said: the client must cope with the 403 when it comes.
    } else if let Some(left) = quota_left.filter(|l| *l >= 0) {
        reply
            .headers
            .push(("x-ratelimit-remaining".into(), left.to_string()));
        reply
            .headers
            .push(("x-ratelimit-reset".into(), reset.to_string()));
    } else if quota_left.is_none() {
        reply
            .headers
            .push(("x-ratelimit-remaining".into(), "4999".into()));
        reply
            .headers
            .push(("x-ratelimit-reset".into(), reset.to_string()));
    }
    if reply.status == 200 && !reply.body.starts_with('<') {
        let etag = format!(
            "W/\"{:016x}\"",
            xxhash_rust::xxh3::xxh3_64(reply.body.as_bytes())
        );
        if headers.get("if-none-match") == Some(&etag) {
            shared
                .counters
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .not_modified += 1;
            reply.status = 304;
            reply.body.clear();
        }
        reply.headers.push(("etag".into(), etag));
    }
    let reason = match reply.status {
        200 => "OK",
        301 => "Moved Permanently",
        304 => "Not Modified",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        502 => "Bad Gateway",
        _ => "Other",
    };
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", reply.status);
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        reply.body.len()
    ));
    let mut stream = stream;
    stream.write_all(out.as_bytes())?;
    stream.write_all(reply.body.as_bytes())?;
    stream.flush()
}

fn query_param(query: &str, key: &str) -> Option<u64> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

/// A page of `items` with GitHub's `Link` header.
fn paged(shared: &Shared, path: &str, query: &str, items: Vec<Value>) -> Reply {
    let per_page = query_param(query, "per_page").unwrap_or(30).clamp(1, 100) as usize;
    let page = query_param(query, "page").unwrap_or(1).max(1) as usize;
    let pages = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut reply = Reply::json(&Value::Array(slice));
    let keep: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.starts_with("page=") && !kv.is_empty())
        .collect();
    let link = |p: usize, rel: &str| {
        format!(
            "<{}{}?{}&page={p}>; rel=\"{rel}\"",
            shared.base,
            path,
            keep.join("&")
        )
    };
    let mut links = Vec::new();
    if page < pages {
        links.push(link(page + 1, "next"));
        links.push(link(pages, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
        links.push(link(page - 1, "prev"));
    }
    if !links.is_empty() {
        reply.headers.push(("link".into(), links.join(", ")));
    }
    reply
}

/// A local repository's packed and loose objects in KiB, as `git count-objects` counts them
/// (GitHub's `size` is of the same kind); None when the URL is not a local repository.
fn local_size_kib(path: &str) -> Option<i64> {
    if !std::path::Path::new(path).is_dir() {
        return None;
    }
    let out = std::process::Command::new("git")
        .args(["-C", path, "count-objects", "-v"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> i64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    out.status
        .success()
        .then(|| field("size:") + field("size-pack:"))
}

fn repo_json(shared: &Shared, r: &MockRepo) -> Value {
    let (owner, _) = r.full_name.split_once('/').unwrap_or(("", ""));
    let mut v = json!({
        "id": r.id,
        "full_name": r.full_name,
        "owner": { "login": owner, "type": "Organization" },
        "private": false,
        "fork": r.fork_parent.is_some(),
        "url": format!("{}/repos/{}", shared.base, r.full_name),
        "clone_url": r.clone_url.clone().unwrap_or_else(|| format!("https://github.com/{}.git", r.full_name)),
        "stargazers_count": r.stars,
        "language": r.language,
        "archived": r.archived,
        "default_branch": r.default_branch,
        "license": r.license.as_ref().map(|l| json!({ "key": l.to_ascii_lowercase(), "spdx_id": l })),
    });
    // GitHub's `size` is the repository's packed size in KiB: a local clone URL gives it.
    if let Some(kib) = r.clone_url.as_deref().and_then(local_size_kib) {
        v["size"] = json!(kib);
    }
    if let Some(parent) = &r.fork_parent {
        v["parent"] = json!({ "full_name": parent });
        v["source"] = json!({ "full_name": parent });
    }
    v
}

fn pull_json(shared: &Shared, repo: &MockRepo, p: &MockPull) -> Value {
    json!({
        "url": format!("{}/repos/{}/pulls/{}", shared.base, repo.full_name, p.number),
        "number": p.number,
        "state": "closed",
        "title": p.title,
        "body": if p.body.is_empty() { Value::Null } else { Value::String(p.body.clone()) },
        "user": p.user.as_ref().map(|u| json!({ "login": u, "type": if p.bot { "Bot" } else { "User" } })),
        "labels": p.labels.iter().map(|l| json!({ "name": l })).collect::<Vec<_>>(),
        "created_at": p.merged_at,
        "closed_at": p.merged_at,
        "merged_at": if p.merged { Value::String(p.merged_at.clone()) } else { Value::Null },
        "merge_commit_sha": p.merge_sha,
        "base": { "ref": p.base_ref, "sha": p.base_sha, "repo": { "full_name": repo.full_name } },
        "head": { "ref": format!("pr-{}", p.number), "sha": p.head_sha },
    })
}

/// The one GraphQL query the crawl sends: closing references of PRs by number.
fn graphql(shared: &Shared, body: &[u8], authorized: bool) -> Reply {
    if !authorized {
        return Reply::status(401, "This endpoint requires you to be authenticated.");
    }
    let query = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("query").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let repo_re =
        regex::Regex::new(r#"repository\(owner: "([^"]+)", name: "([^"]+)"\)"#).expect("regex");
    let pr_re = regex::Regex::new(r"pr(\d+): pullRequest\(number: (\d+)\)").expect("regex");
    let Some(caps) = repo_re.captures(&query) else {
        return Reply::json(&json!({ "errors": [{ "message": "Parse error" }] }));
    };
    let full = format!("{}/{}", &caps[1], &caps[2]).to_ascii_lowercase();
    let Some(repo) = shared
        .repos
        .iter()
        .find(|r| r.full_name.to_ascii_lowercase() == full)
    else {
        return Reply::json(
            &json!({ "data": { "repository": null }, "errors": [{ "type": "NOT_FOUND" }] }),
        );
    };
    let mut fields = serde_json::Map::new();
    for c in pr_re.captures_iter(&query) {
        let n: i64 = c[2].parse().unwrap_or(-1);
        let value = match repo.pulls.iter().find(|p| p.number == n) {
            Some(p) => {
                json!({ "closingIssuesReferences": { "nodes": p.closes.iter().map(|i| json!({
                "number": i, "repository": { "nameWithOwner": repo.full_name } })).collect::<Vec<_>>() } })
            }
            None => Value::Null,
        };
        fields.insert(format!("pr{}", &c[1]), value);
    }
    Reply::json(&json!({ "data": { "repository": Value::Object(fields) } }))
}

fn route(shared: &Shared, path: &str, query: &str) -> Reply {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let find = |owner: &str, name: &str| {
        let full = format!("{owner}/{name}").to_ascii_lowercase();
        shared
            .repos
            .iter()
            .find(|r| r.full_name.to_ascii_lowercase() == full)
    };
    match parts.as_slice() {
        ["repositories", id] => shared
            .repos
            .iter()
            .find(|r| r.id.to_string() == *id)
            .map(|r| Reply::json(&repo_json(shared, r)))
            .unwrap_or_else(|| Reply::status(404, "Not Found")),
        ["repos", owner, name] => {
            if let Some(r) = find(owner, name) {
                return Reply::json(&repo_json(shared, r));
            }
            let old = format!("{owner}/{name}").to_ascii_lowercase();
            match shared.repos.iter().find(|r| r.renamed_from.contains(&old)) {
                Some(r) => Reply {
                    status: 301,
                    headers: vec![(
                        "location".into(),
                        format!("{}/repositories/{}", shared.base, r.id),
                    )],
                    body: json!({ "message": "Moved Permanently" }).to_string(),
                },
                None => Reply::status(404, "Not Found"),
            }
        }
        ["repos", owner, name, "pulls"] => match find(owner, name) {
            Some(r) => {
                let items = r.pulls.iter().map(|p| pull_json(shared, r, p)).collect();
                paged(shared, path, query, items)
            }
            None => Reply::status(404, "Not Found"),
        },
        ["repos", owner, name, "issues", number] => {
            let Some(r) = find(owner, name) else {
                return Reply::status(404, "Not Found");
            };
            let n: i64 = number.parse().unwrap_or(-1);
            match r.issues.get(&n) {
                Some(issue) if issue.forbidden => {
                    Reply::status(403, "Resource not accessible by integration")
                }
                Some(issue) => {
                    let mut v = json!({
                        "number": n,
                        "title": issue.title,
                        "body": issue.body,
                        "comments": issue.comments.len(),
                        "state": "closed",
                    });
                    if issue.is_pull_request {
                        v["pull_request"] = json!({ "url": format!("{}/repos/{}/pulls/{n}", shared.base, r.full_name) });
                    }
                    Reply::json(&v)
                }
                None => Reply::status(404, "Not Found"),
            }
        }
        ["repos", owner, name, "issues", number, "comments"] => {
            let n: i64 = number.parse().unwrap_or(-1);
            match find(owner, name).and_then(|r| r.issues.get(&n)) {
                Some(issue) if issue.forbidden_comments => {
                    Reply::status(403, "Resource not accessible by integration")
                }
                Some(issue) => {
                    let items = issue
                        .comments
                        .iter()
                        .enumerate()
                        .map(|(i, body)| json!({ "id": i + 1, "body": body, "user": { "login": "commenter" } }))
                        .collect();
                    paged(shared, path, query, items)
                }
                None => Reply::status(404, "Not Found"),
            }
        }
        ["repos", owner, name, "pulls", number, "comments"] => {
            let n: i64 = number.parse().unwrap_or(-1);
            match find(owner, name).and_then(|r| r.pulls.iter().find(|p| p.number == n)) {
                Some(pull) => {
                    let items = pull
                        .review_comments
                        .iter()
                        .enumerate()
                        .map(|(i, body)| json!({ "id": i + 1, "body": body, "path": "src/lib.py", "user": { "login": "reviewer" } }))
                        .collect();
                    paged(shared, path, query, items)
                }
                None => Reply::status(404, "Not Found"),
            }
        }
        ["search", "repositories"] => search(shared, path, query),
        _ => Reply::status(404, "Not Found"),
    }
}

/// What a search's `q` asks for: `language:`, `stars:>=N` or `stars:A..B`, `created:D0..D1`
/// (`pushed:` is accepted and not checked: every mock repository counts as recently pushed).
#[derive(Default)]
struct SearchQuery {
    language: Option<String>,
    stars: (u64, u64),
    created: Option<(String, String)>,
}

fn parse_search(q: &str) -> SearchQuery {
    let mut parsed = SearchQuery {
        stars: (0, u64::MAX),
        ..Default::default()
    };
    for term in q.split('+').flat_map(|t| t.split(' ')) {
        if let Some(lang) = term.strip_prefix("language:") {
            parsed.language = Some(lang.to_ascii_lowercase());
        } else if let Some(stars) = term.strip_prefix("stars:") {
            if let Some(lo) = stars.strip_prefix(">=") {
                parsed.stars = (lo.parse().unwrap_or(0), u64::MAX);
            } else if let Some((lo, hi)) = stars.split_once("..") {
                parsed.stars = (lo.parse().unwrap_or(0), hi.parse().unwrap_or(u64::MAX));
            }
        } else if let Some(range) = term.strip_prefix("created:")
            && let Some((d0, d1)) = range.split_once("..")
        {
            parsed.created = Some((d0.to_string(), d1.to_string()));
        }
    }
    parsed
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// GitHub's repository search: matching repositories, most stars first (then by name), in
/// pages, and never past the first 1,000 results (422 beyond, as GitHub answers).
fn search(shared: &Shared, path: &str, query: &str) -> Reply {
    let q = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("q="))
        .map(percent_decode)
        .unwrap_or_default();
    let wanted = parse_search(&q);
    let mut found: Vec<&MockRepo> = shared
        .repos
        .iter()
        .filter(|r| {
            let created = if r.created.is_empty() {
                "2015-06-01"
            } else {
                r.created.as_str()
            };
            let stars = r.stars.max(0) as u64;
            wanted
                .language
                .as_ref()
                .is_none_or(|l| r.language.to_ascii_lowercase() == *l)
                && (wanted.stars.0..=wanted.stars.1).contains(&stars)
                && wanted
                    .created
                    .as_ref()
                    .is_none_or(|(d0, d1)| d0.as_str() <= created && created <= d1.as_str())
        })
        .collect();
    found.sort_by(|a, b| b.stars.cmp(&a.stars).then(a.full_name.cmp(&b.full_name)));
    let total = found.len();
    let per_page = query_param(query, "per_page").unwrap_or(30).clamp(1, 100) as usize;
    let page = query_param(query, "page").unwrap_or(1).max(1) as usize;
    if (page - 1) * per_page >= 1000 {
        return Reply::status(422, "Only the first 1000 search results are available");
    }
    let reachable: Vec<Value> = found
        .iter()
        .take(1000)
        .map(|r| repo_json(shared, r))
        .collect();
    let mut reply = paged(shared, path, query, reachable);
    let items: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    reply.body =
        json!({ "total_count": total, "incomplete_results": false, "items": items }).to_string();
    reply
}
