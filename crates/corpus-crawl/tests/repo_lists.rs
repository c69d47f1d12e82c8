//! Repository lists from GH Archive event files of both payload shapes (the full one, and the
//! one trimmed in late 2025 to the repository, the number and the action) and from CSV
//! exports, generated here.

use std::io::Write;

use corpus_crawl::repo_lists::{RepoCount, count_gharchive, read_csv_list, render_list};

fn full_event(repo: &str, number: u64, action: &str, merged: bool) -> String {
    serde_json::json!({
        "id": format!("{repo}-{number}-{action}"),
        "type": "PullRequestEvent",
        "actor": { "login": "someone" },
        "repo": { "id": 1, "name": repo, "url": format!("https://api.github.com/repos/{repo}") },
        "payload": {
            "action": action,
            "number": number,
            "pull_request": {
                "number": number,
                "title": "A change",
                "merged": merged,
                "merged_at": if merged { serde_json::json!("2024-05-01T10:00:00Z") } else { serde_json::Value::Null },
                "body": "A long body that the trimmed shape no longer carries."
            }
        },
        "public": true,
        "created_at": "2024-05-01T10:00:00Z"
    })
    .to_string()
}

fn trimmed_event(repo: &str, number: u64, action: &str) -> String {
    serde_json::json!({
        "id": format!("{repo}-{number}-{action}-t"),
        "type": "PullRequestEvent",
        "repo": { "id": 1, "name": repo },
        "payload": {
            "action": action,
            "number": number,
            "pull_request": { "url": format!("https://api.github.com/repos/{repo}/pulls/{number}") }
        },
        "created_at": "2026-01-05T03:00:00Z"
    })
    .to_string()
}

fn gzip(path: &std::path::Path, lines: &[String]) {
    let file = std::fs::File::create(path).expect("create");
    let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    for line in lines {
        writeln!(encoder, "{line}").expect("write");
    }
    encoder.finish().expect("finish");
}

#[test]
fn gh_archive_files_of_both_shapes_count_each_pr_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let old_hour = dir.path().join("2024-05-01-10.json.gz");
    gzip(
        &old_hour,
        &[
            full_event("Acme/Widgets", 1, "opened", false),
            full_event("Acme/Widgets", 1, "closed", true),
            full_event("Acme/Widgets", 2, "closed", false),
            full_event("acme/widgets", 3, "closed", true),
            full_event("other/tool", 9, "closed", true),
            serde_json::json!({ "type": "PushEvent", "repo": { "name": "acme/widgets" }, "payload": {} })
                .to_string(),
            "{\"type\": \"PullRequestEvent\", truncated".to_string(),
        ],
    );
    // The trimmed shape, in a plain (not gzipped) file: #1 closed again (reopened), two new.
    let new_hour = dir.path().join("2026-01-05-3.json");
    std::fs::write(
        &new_hour,
        [
            trimmed_event("acme/widgets", 1, "closed"),
            trimmed_event("acme/widgets", 4, "closed"),
            trimmed_event("acme/widgets", 5, "opened"),
            trimmed_event("new/project", 1, "closed"),
        ]
        .join("\n"),
    )
    .expect("write");
    let (counts, stats) = count_gharchive(&[old_hour, new_hour]).expect("count");
    assert_eq!(
        counts.get("acme/widgets"),
        Some(&RepoCount {
            closed: 4,
            merged: 2
        }),
        "#1..#4 closed once each; #1 and #3 merged by the full payload"
    );
    assert_eq!(
        counts.get("new/project"),
        Some(&RepoCount {
            closed: 1,
            merged: 0
        })
    );
    assert_eq!(counts.len(), 3);
    assert_eq!(stats.files, 2);
    assert_eq!(stats.bad_lines, 1, "the truncated line");
    assert_eq!(
        stats.merge_unknown, 3,
        "the three trimmed close events (#1 again, #4, new/project#1)"
    );
    let list = render_list(&counts, 2);
    assert_eq!(list, "acme/widgets  # 2 merged, 4 closed PRs\n");
}

#[test]
fn csv_exports_name_their_repository_column() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("bq.csv");
    std::fs::write(
        &path,
        "repo_name,merged_prs\n\"Acme/Widgets\",120\nother/tool,3\nacme/widgets,5\n",
    )
    .expect("write");
    let counts = read_csv_list(&path).expect("csv");
    assert_eq!(counts["acme/widgets"].merged, 125);
    assert_eq!(counts["other/tool"].merged, 3);
    std::fs::write(&path, "stars,full_name\n3,not a repo\n").expect("write");
    let err = read_csv_list(&path).expect_err("bad row").to_string();
    assert!(err.contains(":2: `not a repo` is not owner/name"), "{err}");
    std::fs::write(&path, "a,b\n1,2\n").expect("write");
    let err = read_csv_list(&path).expect_err("no column").to_string();
    assert!(err.contains("no repository column"), "{err}");
}
