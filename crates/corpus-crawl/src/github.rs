//! What the crawl asks GitHub for one repository, and the rows it makes of the answers:
//! the repository's metadata (following a rename), every merged PR through the paginated
//! list, and the issues each PR closes, with their comments.

use corpus_core::drop_reason::DropReason;
use corpus_core::identity::Origin;
use std::collections::{BTreeMap, BTreeSet};

use corpus_core::benchmark::BenchmarkRepos;
use corpus_core::rows::{LinkedIssue, PullRow, RepoRow};
use serde_json::Value;

use crate::client::{Client, Response};
use crate::error::{CrawlError, Result};
use crate::links::{closing_references, parse_time};

/// How much to ask for.
#[derive(Debug, Clone)]
pub struct CrawlSettings {
    pub per_page: u32,
    pub linked_issues: bool,
    pub review_comments: bool,
    /// Ask GraphQL for each PR's closing references too (needs a token; offline, the
    /// recorded answers are used when there are any).
    pub graphql: bool,
}

/// Counts for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoCrawlStats {
    pub pages: u64,
    pub closed_prs: u64,
    pub merged_prs: u64,
    pub linked_issues: u64,
    /// `Fixes #N` where #N is a pull request, not an issue.
    pub linked_pull_requests: u64,
    pub missing_issues: u64,
    /// Linked issues (or their comments) that answered 403: each costs its link only.
    pub refused_issues: u64,
    pub review_comments: u64,
}

/// A link a PR lost because its issue could not be read (HTTP 403 on the issue or its
/// comments); the PR keeps its other links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostLink {
    pub pr_number: i64,
    pub issue: i64,
    pub detail: String,
}

/// One repository as the API describes it.
#[derive(Debug, Clone, Default)]
pub struct RepoCrawl {
    pub repo: RepoRow,
    pub pulls: Vec<PullRow>,
    pub clone_url: Option<String>,
    pub stats: RepoCrawlStats,
    pub lost_links: Vec<LostLink>,
}

/// Why a repository gave no PRs (a drop, not an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub reason: DropReason,
    pub detail: String,
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    cur.as_str()
}

/// The row of a repository left out, marked with why, and the drop that says so.
fn skip(mut row: RepoRow, reason: DropReason, detail: String) -> (RepoRow, Skipped) {
    row.skipped_reason = Some(reason.code().to_string());
    (row, Skipped { reason, detail })
}

/// GET a URL, following redirects (at most five); returns the final answer and the URLs
/// that redirected.
fn get_following(client: &Client, url: &str) -> Result<(Response, Vec<String>)> {
    let mut url = url.to_string();
    let mut hops = Vec::new();
    for _ in 0..5 {
        let response = client.get(&url)?;
        match (&response.location, response.is_redirect()) {
            (Some(next), true) => {
                hops.push(url);
                url = next.clone();
            }
            _ => return Ok((response, hops)),
        }
    }
    Err(CrawlError::Shape {
        url,
        message: "more than five redirects".into(),
    })
}

/// Where a repository's mirror comes from: the clone URL and the API's estimate of its size.
#[derive(Debug, Clone, Copy, Default)]
pub struct MirrorSource<'a> {
    pub clone_url: Option<&'a str>,
    /// The API's `size`, in KiB (roughly the packed repository).
    pub size_kib: Option<i64>,
}

/// More text per PR number in which to look for closing keywords (commit messages, read
/// from the mirror); the hook may also fill in the row (the mirror's path).
pub type ExtraTexts<'a> =
    dyn FnMut(&mut RepoRow, MirrorSource<'_>, &[PullRow]) -> Result<BTreeMap<i64, String>> + 'a;

/// Crawl `name`: metadata first, then (unless it is a benchmark repository by name or fork
/// parent) its merged PRs and their linked issues.
pub fn crawl_repo(
    client: &Client,
    name: &str,
    settings: &CrawlSettings,
    benchmark: &BenchmarkRepos,
) -> Result<std::result::Result<RepoCrawl, (RepoRow, Skipped)>> {
    crawl_repo_with(client, name, settings, benchmark, &mut |_, _, _| {
        Ok(BTreeMap::new())
    })
}

/// [`crawl_repo`] with a hook that runs between the PR list and the linked issues: it gets
/// the row, the clone URL and the PRs, and returns more text per PR to search for closing
/// keywords (the stage mirrors the repository there and reads each PR's commit messages).
pub fn crawl_repo_with(
    client: &Client,
    name: &str,
    settings: &CrawlSettings,
    benchmark: &BenchmarkRepos,
    extra: &mut ExtraTexts<'_>,
) -> Result<std::result::Result<RepoCrawl, (RepoRow, Skipped)>> {
    let mut row = RepoRow {
        repo: name.to_string(),
        origin: Origin::Crawl.code().into(),
        ..Default::default()
    };
    if let Some(matched) = benchmark.matches(name, []) {
        return Ok(Err(skip(
            row,
            DropReason::SweBenchRepo,
            format!("benchmark repository {matched}, skipped by name before any request"),
        )));
    }
    let meta = match get_following(client, &format!("/repos/{name}")) {
        Ok((response, _)) => response.json()?,
        Err(CrawlError::NotFound { status, .. }) => {
            let detail = format!("GET /repos/{name}: HTTP {status}");
            return Ok(Err(skip(row, DropReason::RepoNotFound, detail)));
        }
        Err(e) => return Err(e),
    };
    let full_name = str_at(&meta, &["full_name"])
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| CrawlError::Shape {
            url: format!("/repos/{name}"),
            message: "no full_name".into(),
        })?;
    if full_name != name {
        // Renamed (or transferred): the row keeps the name asked as an alias.
        row.repo = full_name.clone();
        row.aliases = vec![name.to_string()];
    }
    row.default_branch = str_at(&meta, &["default_branch"]).map(str::to_string);
    row.stars = meta.get("stargazers_count").and_then(Value::as_i64);
    row.license = str_at(&meta, &["license", "spdx_id"]).map(str::to_string);
    row.archived = meta.get("archived").and_then(Value::as_bool);
    row.fork_parent = str_at(&meta, &["parent", "full_name"])
        .or_else(|| str_at(&meta, &["source", "full_name"]))
        .map(str::to_ascii_lowercase);
    let parents: Vec<&str> = [
        str_at(&meta, &["parent", "full_name"]),
        str_at(&meta, &["source", "full_name"]),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let Some(matched) = benchmark.matches(&full_name, parents.iter().copied()) {
        return Ok(Err(skip(
            row,
            DropReason::SweBenchRepo,
            format!("benchmark repository {matched} (name or fork parent), skipped before its PRs"),
        )));
    }
    let clone_url = str_at(&meta, &["clone_url"]).map(str::to_string);
    let size_kib = meta.get("size").and_then(Value::as_i64);
    let mut stats = RepoCrawlStats::default();
    let mut pulls: BTreeMap<i64, PullRow> = BTreeMap::new();
    let mut url = Some(format!(
        "/repos/{full_name}/pulls?state=closed&sort=created&direction=asc&per_page={}",
        settings.per_page
    ));
    while let Some(page_url) = url.take() {
        let response = client.get(&page_url)?;
        stats.pages += 1;
        let page = response.json()?;
        let items = page.as_array().ok_or_else(|| CrawlError::Shape {
            url: page_url.clone(),
            message: "a pull list that is not an array".into(),
        })?;
        for item in items {
            stats.closed_prs += 1;
            if let Some(pull) = pull_row(&full_name, item) {
                // A PR seen twice (pages shifted under us) is kept once.
                pulls.insert(pull.pr_number, pull);
            }
        }
        url = response.next;
    }
    stats.merged_prs = pulls.len() as u64;
    let list: Vec<PullRow> = pulls.values().cloned().collect();
    let source = MirrorSource {
        clone_url: clone_url.as_deref(),
        size_kib,
    };
    let extra_texts = extra(&mut row, source, &list)?;
    let graphql_refs = if settings.linked_issues
        && settings.graphql
        && (client.has_tokens() || client.is_offline())
    {
        closing_references_graphql(client, &full_name, &list)?
    } else {
        BTreeMap::new()
    };
    let mut lost_links = Vec::new();
    if settings.linked_issues {
        let mut issues: BTreeMap<i64, Option<LinkedIssue>> = BTreeMap::new();
        let mut refused: BTreeMap<i64, String> = BTreeMap::new();
        for pull in pulls.values_mut() {
            let more = extra_texts
                .get(&pull.pr_number)
                .map(String::as_str)
                .unwrap_or("");
            let mut refs: BTreeSet<i64> = closing_references(
                &format!("{}\n{}\n{more}", pull.title, pull.body),
                &full_name,
            );
            refs.extend(graphql_refs.get(&pull.pr_number).into_iter().flatten());
            for number in refs {
                if !issues.contains_key(&number) && !refused.contains_key(&number) {
                    match linked_issue(client, &full_name, number, settings, &mut stats) {
                        Ok(issue) => {
                            issues.insert(number, issue);
                        }
                        // Access refused to this issue alone: the link is lost, not the
                        // repository.
                        Err(CrawlError::Http {
                            url,
                            status: 403,
                            message,
                        }) => {
                            stats.refused_issues += 1;
                            refused.insert(number, format!("GET {url}: HTTP 403: {message}"));
                        }
                        Err(e) => return Err(e),
                    }
                }
                if let Some(detail) = refused.get(&number) {
                    lost_links.push(LostLink {
                        pr_number: pull.pr_number,
                        issue: number,
                        detail: detail.clone(),
                    });
                }
                if let Some(Some(issue)) = issues.get(&number) {
                    pull.linked_issues.push(issue.clone());
                }
            }
        }
        stats.linked_issues = issues.values().filter(|i| i.is_some()).count() as u64;
    }
    if settings.review_comments {
        for pull in pulls.values_mut() {
            let url = format!(
                "/repos/{full_name}/pulls/{}/comments?per_page={}",
                pull.pr_number, settings.per_page
            );
            pull.review_comments = comment_bodies(client, url)?;
            stats.review_comments += pull.review_comments.len() as u64;
        }
    }
    Ok(Ok(RepoCrawl {
        repo: row,
        pulls: pulls.into_values().collect(),
        clone_url,
        stats,
        lost_links,
    }))
}

/// The canonical `owner/name` a listed name resolves to (following renames and transfers),
/// `None` when GitHub knows no such repository. The same request the crawl of the
/// repository starts with, so it is asked once (cached).
pub fn canonical_name(client: &Client, name: &str) -> Result<Option<String>> {
    let meta = match get_following(client, &format!("/repos/{name}")) {
        Ok((response, _)) => response.json()?,
        Err(CrawlError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(str_at(&meta, &["full_name"]).map(str::to_ascii_lowercase))
}

/// A merged PR of a pull list page (None for a closed, unmerged one).
pub fn pull_row(repo: &str, item: &Value) -> Option<PullRow> {
    let merged_at = parse_time(str_at(item, &["merged_at"])?)?;
    Some(PullRow {
        repo: repo.to_string(),
        pr_number: item.get("number")?.as_i64()?,
        title: str_at(item, &["title"]).unwrap_or_default().to_string(),
        body: str_at(item, &["body"]).unwrap_or_default().to_string(),
        // A deleted account shows as `null`; GitHub calls it ghost.
        author: str_at(item, &["user", "login"])
            .unwrap_or("ghost")
            .to_string(),
        author_type: str_at(item, &["user", "type"])
            .unwrap_or("User")
            .to_string(),
        merged_at: Some(merged_at),
        base_ref: str_at(item, &["base", "ref"])
            .unwrap_or_default()
            .to_string(),
        base_sha: str_at(item, &["base", "sha"])?.to_string(),
        head_sha: str_at(item, &["head", "sha"])?.to_string(),
        merge_sha: str_at(item, &["merge_commit_sha"]).map(str::to_string),
        labels: item
            .get("labels")
            .and_then(Value::as_array)
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|l| str_at(l, &["name"]).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        changed_files: item.get("changed_files").and_then(Value::as_i64),
        linked_issues: Vec::new(),
        review_comments: Vec::new(),
    })
}

/// Issue `number` with its comments; None when it does not exist or is a pull request.
fn linked_issue(
    client: &Client,
    repo: &str,
    number: i64,
    settings: &CrawlSettings,
    stats: &mut RepoCrawlStats,
) -> Result<Option<LinkedIssue>> {
    let issue = match get_following(client, &format!("/repos/{repo}/issues/{number}")) {
        Ok((response, _)) => response.json()?,
        Err(CrawlError::NotFound { .. }) => {
            stats.missing_issues += 1;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if issue.get("pull_request").is_some() {
        stats.linked_pull_requests += 1;
        return Ok(None);
    }
    let comments = if issue.get("comments").and_then(Value::as_i64).unwrap_or(0) > 0 {
        comment_bodies(
            client,
            format!(
                "/repos/{repo}/issues/{number}/comments?per_page={}",
                settings.per_page
            ),
        )?
    } else {
        Vec::new()
    };
    Ok(Some(LinkedIssue {
        number,
        title: str_at(&issue, &["title"]).unwrap_or_default().to_string(),
        body: str_at(&issue, &["body"]).unwrap_or_default().to_string(),
        comments,
    }))
}

/// PRs asked per GraphQL query (aliases `prN: pullRequest(number: N)`).
const GRAPHQL_BATCH: usize = 50;

/// The issues of this repository each PR closes by GitHub's own record
/// (`closingIssuesReferences`: links made in the UI count too), by PR number. An answer with
/// errors and no data is logged and left out: the keywords still apply.
fn closing_references_graphql(
    client: &Client,
    repo: &str,
    pulls: &[PullRow],
) -> Result<BTreeMap<i64, BTreeSet<i64>>> {
    let mut out: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    let Some((owner, name)) = repo.split_once('/') else {
        return Ok(out);
    };
    for chunk in pulls.chunks(GRAPHQL_BATCH) {
        let fields: Vec<String> = chunk
            .iter()
            .map(|p| {
                format!(
                    "pr{n}: pullRequest(number: {n}) {{ closingIssuesReferences(first: 25) {{ nodes {{ number repository {{ nameWithOwner }} }} }} }}",
                    n = p.pr_number
                )
            })
            .collect();
        let query = format!(
            "query {{ repository(owner: {owner:?}, name: {name:?}) {{ {} }} }}",
            fields.join(" ")
        );
        let answer = match client.graphql(&query) {
            Ok(response) => response.json()?,
            // Offline without a recorded answer, or a server that refuses: keywords only.
            Err(CrawlError::Offline(_)) => continue,
            Err(e @ (CrawlError::Http { .. } | CrawlError::NotFound { .. })) => {
                tracing::warn!("{repo}: GraphQL closing references left out: {e}");
                continue;
            }
            Err(e) => return Err(e),
        };
        let Some(data) = answer.pointer("/data/repository") else {
            tracing::warn!(
                "{repo}: GraphQL gave no data ({}); closing keywords only",
                answer
                    .get("errors")
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            );
            continue;
        };
        for pull in chunk {
            let nodes = data
                .pointer(&format!(
                    "/pr{}/closingIssuesReferences/nodes",
                    pull.pr_number
                ))
                .and_then(Value::as_array);
            for node in nodes.into_iter().flatten() {
                let same_repo = str_at(node, &["repository", "nameWithOwner"])
                    .is_none_or(|r| r.eq_ignore_ascii_case(repo));
                if let (true, Some(number)) =
                    (same_repo, node.get("number").and_then(Value::as_i64))
                {
                    out.entry(pull.pr_number).or_default().insert(number);
                }
            }
        }
    }
    Ok(out)
}

/// The bodies of a paginated comment list, oldest first.
fn comment_bodies(client: &Client, first: String) -> Result<Vec<String>> {
    let mut bodies = Vec::new();
    let mut url = Some(first);
    while let Some(page_url) = url.take() {
        let response = client.get(&page_url)?;
        let page = response.json()?;
        for c in page.as_array().into_iter().flatten() {
            if let Some(body) = str_at(c, &["body"]) {
                bodies.push(body.to_string());
            }
        }
        url = response.next;
    }
    Ok(bodies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_pulls_become_rows_and_unmerged_ones_do_not() {
        let item = serde_json::json!({
            "number": 7, "title": "Fix it", "body": null,
            "user": null, "merged_at": "2024-01-01T00:00:00Z",
            "base": {"ref": "gone-branch", "sha": "b"}, "head": {"sha": "h"},
            "merge_commit_sha": "m", "labels": [{"name": "bug"}]
        });
        let row = pull_row("a/b", &item).expect("merged");
        assert_eq!(row.author, "ghost");
        assert_eq!(row.labels, vec!["bug".to_string()]);
        assert_eq!(row.base_ref, "gone-branch");
        let mut closed = item.clone();
        closed["merged_at"] = Value::Null;
        assert!(pull_row("a/b", &closed).is_none());
    }
}
