//! The demo's recorded GitHub API responses (`crawl_cache/`), made from the generated
//! repositories so shas, numbers and times agree with them. The demo recipe crawls
//! offline from it, so `just build-corpus` runs the crawl stage with no network: repository
//! metadata (a fork and its parent, licences, stars), merged PRs over several pages, issues
//! that PRs close (with comments over two pages), and a "Fixes #N" that names a pull request.
//! `psf/requests` has no entry: the crawl skips it by name before any request.

use std::path::Path;

use corpus_core::crawl_cache::{CacheEntry, ResponseCache};
use git2::{Oid, Repository};
use serde_json::{Value, json};

use crate::DemoError;

/// Page size the demo recipe asks for (`[crawl] per_page`): small, so pages are many.
pub const PER_PAGE: usize = 4;

struct DemoIssue {
    number: i64,
    /// The PR that closes it.
    closed_by: i64,
    title: &'static str,
    body: &'static str,
    comments: &'static [&'static str],
}

const WIDGETS_ISSUES: &[DemoIssue] = &[
    DemoIssue {
        number: 20,
        closed_by: 5,
        title: "Widget.resize(0) returns an empty widget instead of raising",
        body: "Calling `Widget(3).resize(0)` gives a widget of size 0 and the page layout \
               silently breaks later. A zero or negative ratio should raise ValueError.",
        comments: &[
            "Confirmed on main.",
            "Negative ratios have the same problem.",
            "A fix should keep resize(1) as it is.",
        ],
    },
    DemoIssue {
        number: 21,
        closed_by: 9,
        title: "ellipsize cuts labels one character too early",
        body: "`ellipsize(\"abcdef\", 5)` returns `\"ab...\"` but five characters fit \
               `\"ab...\"` only if the limit counts the dots; the docs say it does not.",
        comments: &[],
    },
];

/// A demo repository as the API describes it: (name, folder, stars, licence, fork parent).
type DemoRepo = (
    &'static str,
    &'static str,
    i64,
    Option<&'static str>,
    Option<&'static str>,
);

/// Repositories of the demo the crawl asks about.
const REPOS: &[DemoRepo] = &[
    ("acme/widgets", "acme+widgets", 42, Some("MIT"), None),
    (
        "forker/widgets",
        "forker+widgets",
        3,
        Some("MIT"),
        Some("acme/widgets"),
    ),
    (
        "someone/reqs-renamed",
        "someone+reqs-renamed",
        7,
        Some("Apache-2.0"),
        None,
    ),
    ("acme/gizmo", "gizmo", 12, Some("MIT"), None),
];

fn iso(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = corpus_core::days::to_civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn git(e: git2::Error) -> DemoError {
    DemoError::Git(e.message().to_string())
}

/// A merged PR found on the first-parent line.
struct FoundPull {
    number: i64,
    title: String,
    body: String,
    login: String,
    bot: bool,
    base: Oid,
    head: Oid,
    merge: Oid,
    time: i64,
}

fn login_of(name: &str) -> String {
    name.split_whitespace()
        .next()
        .unwrap_or("ghost")
        .to_ascii_lowercase()
}

fn pulls_of(repo: &Repository) -> Result<Vec<FoundPull>, DemoError> {
    let mut walk = repo.revwalk().map_err(git)?;
    walk.push_head().map_err(git)?;
    walk.simplify_first_parent().map_err(git)?;
    let mut found = Vec::new();
    for oid in walk {
        let commit = repo.find_commit(oid.map_err(git)?).map_err(git)?;
        let message = commit.message().unwrap_or("").trim_end().to_string();
        let (subject, rest) = message.split_once('\n').unwrap_or((&message, ""));
        let rest = rest.trim_start_matches('\n');
        let author = commit.author();
        let name = author.name().unwrap_or("ghost").to_string();
        let bot = name.contains("[bot]");
        let login = if bot { name.clone() } else { login_of(&name) };
        if let Some(tail) = subject.strip_prefix("Merge pull request #")
            && commit.parent_count() == 2
        {
            let number: i64 = tail
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let (title, body) = rest.split_once('\n').unwrap_or((rest, ""));
            let head = commit.parent_id(1).map_err(git)?;
            let head_author = repo
                .find_commit(head)
                .map_err(git)?
                .author()
                .name()
                .unwrap_or("ghost")
                .to_string();
            let bot = head_author.contains("[bot]");
            found.push(FoundPull {
                number,
                title: title.trim().to_string(),
                body: body.trim().to_string(),
                login: if bot {
                    head_author.clone()
                } else {
                    login_of(&head_author)
                },
                bot,
                base: commit.parent_id(0).map_err(git)?,
                head,
                merge: commit.id(),
                time: commit.time().seconds(),
            });
        } else if let Some(open) = subject.rfind("(#")
            && subject.ends_with(')')
            && commit.parent_count() == 1
            && let Ok(number) = subject[open + 2..subject.len() - 1].parse::<i64>()
        {
            found.push(FoundPull {
                number,
                title: subject[..open].trim_end().to_string(),
                body: rest.trim().to_string(),
                login,
                bot,
                base: commit.parent_id(0).map_err(git)?,
                head: commit.id(),
                merge: commit.id(),
                time: commit.time().seconds(),
            });
        }
    }
    found.sort_by_key(|p| p.number);
    Ok(found)
}

fn put(
    cache: &ResponseCache,
    url: String,
    body: &Value,
    next: Option<String>,
) -> Result<(), DemoError> {
    cache
        .put(&CacheEntry {
            url,
            status: 200,
            etag: None,
            next,
            location: None,
            fetched_at: 0,
            body: body.to_string(),
        })
        .map_err(|e| DemoError::Script(format!("crawl cache: {e}")))
}

/// Write pages of `items` under `url` (`&page=K` from the second page on).
fn put_pages(cache: &ResponseCache, url: &str, items: Vec<Value>) -> Result<(), DemoError> {
    let pages: Vec<&[Value]> = if items.is_empty() {
        vec![&[]]
    } else {
        items.chunks(PER_PAGE).collect()
    };
    let page_url = |k: usize| {
        if k == 1 {
            url.to_string()
        } else {
            format!("{url}&page={k}")
        }
    };
    for (i, page) in pages.iter().enumerate() {
        let next = (i + 1 < pages.len()).then(|| page_url(i + 2));
        put(cache, page_url(i + 1), &Value::Array(page.to_vec()), next)?;
    }
    Ok(())
}

/// Write the recorded responses for the repositories under `repos_dir` into `dir`.
pub fn write(repos_dir: &Path, dir: &Path) -> Result<(), DemoError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| DemoError::Io(dir.display().to_string(), e))?;
    }
    let cache = ResponseCache::new(dir);
    for (id, (name, folder, stars, license, parent)) in REPOS.iter().enumerate() {
        let repo = Repository::open(repos_dir.join(folder)).map_err(git)?;
        let branch = repo
            .head()
            .map_err(git)?
            .shorthand()
            .unwrap_or("main")
            .to_string();
        let mut meta = json!({
            "id": 1000 + id,
            "full_name": name,
            "fork": parent.is_some(),
            "clone_url": format!("https://github.com/{name}.git"),
            "stargazers_count": stars,
            "archived": false,
            "default_branch": branch,
            "license": license.map(|l| json!({ "spdx_id": l })),
        });
        if let Some(parent) = parent {
            meta["parent"] = json!({ "full_name": parent });
            meta["source"] = json!({ "full_name": parent });
        }
        put(&cache, format!("/repos/{name}"), &meta, None)?;
        let issues: &[DemoIssue] = if *name == "acme/widgets" {
            WIDGETS_ISSUES
        } else {
            &[]
        };
        let pulls: Vec<Value> = pulls_of(&repo)?
            .into_iter()
            .map(|p| {
                let mut body = p.body.clone();
                for issue in issues.iter().filter(|i| i.closed_by == p.number) {
                    body.push_str(&format!("\n\nFixes #{}", issue.number));
                }
                if *name == "acme/widgets" && p.number == 14 {
                    // A closing keyword naming a pull request, not an issue.
                    body.push_str("\n\nFixes #3");
                }
                json!({
                    "number": p.number,
                    "state": "closed",
                    "title": p.title,
                    "body": body,
                    "user": { "login": p.login, "type": if p.bot { "Bot" } else { "User" } },
                    "labels": if p.bot { json!([{ "name": "dependencies" }]) } else { json!([]) },
                    "created_at": iso(p.time - 3600),
                    "merged_at": iso(p.time),
                    "merge_commit_sha": p.merge.to_string(),
                    "base": { "ref": branch, "sha": p.base.to_string() },
                    "head": { "sha": p.head.to_string() },
                })
            })
            .collect();
        put_pages(
            &cache,
            &format!(
                "/repos/{name}/pulls?state=closed&sort=created&direction=asc&per_page={PER_PAGE}"
            ),
            pulls,
        )?;
        for issue in issues {
            let body = json!({
                "number": issue.number,
                "title": issue.title,
                "body": issue.body,
                "comments": issue.comments.len(),
            });
            put(
                &cache,
                format!("/repos/{name}/issues/{}", issue.number),
                &body,
                None,
            )?;
            if !issue.comments.is_empty() {
                let comments = issue
                    .comments
                    .iter()
                    .map(|c| json!({ "body": c }))
                    .collect::<Vec<_>>();
                // Two to a page, so the comments span pages.
                let url = format!(
                    "/repos/{name}/issues/{}/comments?per_page={PER_PAGE}",
                    issue.number
                );
                let pages: Vec<&[Value]> = comments.chunks(2).collect();
                for (i, page) in pages.iter().enumerate() {
                    let page_url = if i == 0 {
                        url.clone()
                    } else {
                        format!("{url}&page={}", i + 1)
                    };
                    let next = (i + 1 < pages.len()).then(|| format!("{url}&page={}", i + 2));
                    put(&cache, page_url, &Value::Array(page.to_vec()), next)?;
                }
            }
        }
        if *name == "acme/widgets" {
            let pr = json!({ "number": 3, "title": "Widget repr is unreadable in logs", "body": "", "comments": 0,
                "pull_request": { "url": "https://api.github.com/repos/acme/widgets/pulls/3" } });
            put(&cache, format!("/repos/{name}/issues/3"), &pr, None)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_are_utc() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_709_208_000), "2024-02-29T12:00:00Z");
    }
}
