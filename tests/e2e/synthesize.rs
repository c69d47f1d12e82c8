//! Stage `synthesize` on the demo set and on a repository built for its hard cases: every
//! trajectory's edits, replayed here with plain string replacement on the base blobs, give
//! the head blobs exactly; the leak audit finds nothing; the bad inputs are counted drops.

use std::collections::BTreeMap;

use corpus_demo::{Person, RepoBuilder};
use corpus_synth::trajectory::Trajectory;

use crate::common::{Scratch, text};

pub const DEV: Person = Person {
    name: "Dev One",
    email: "dev@example.org",
};

/// The file at `rev` in the repository at `path`, or None.
fn show(path: &std::path::Path, rev: &str, file: &str) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["show", &format!("{rev}:{file}")])
        .current_dir(path)
        .output()
        .expect("git show");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Replay every trajectory of a run independently; returns how many were checked.
pub fn replay_all(s: &Scratch, run: &str) -> usize {
    let rows = s.query(run, "select t.record, r.path, p.head_sha from trajectories t join repos r on t.repo = r.repo and r.origin = 'local' join patches p on p.repo = t.repo and p.pr_number = t.pr_number");
    for row in &rows {
        let t: Trajectory = serde_json::from_str(&text(row, "record")).expect("record");
        let repo = std::path::PathBuf::from(text(row, "path"));
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        for step in &t.steps {
            let a = &step.action;
            // `swe_agent` names the edit in `command`; `kimi_dev` has a tool per edit.
            let command = match a.tool.as_str() {
                "str_replace_editor" => a.argument("command"),
                "str_replace" | "create" | "insert" => Some(a.tool.as_str()),
                _ => continue,
            };
            let Some(path) = a.argument("path") else {
                continue;
            };
            let path = path.trim_start_matches("/testbed/").to_string();
            match command {
                Some("str_replace") => {
                    let current = files
                        .entry(path.clone())
                        .or_insert_with(|| show(&repo, &t.base_sha, &path).expect("base file"));
                    let old = a.argument("old_str").expect("old");
                    assert_eq!(current.matches(old).count(), 1, "{path}: old_str is unique");
                    *current = current.replacen(old, a.argument("new_str").expect("new"), 1);
                }
                Some("create") => {
                    files.insert(path, a.argument("file_text").expect("text").to_string());
                }
                _ => {}
            }
        }
        let head = text(row, "head_sha");
        for (path, content) in &files {
            assert_eq!(
                Some(content.as_str()),
                show(&repo, &head, path).as_deref(),
                "{}#{} {path}: the replay gives the head blob",
                t.repo,
                t.pr_number
            );
        }
        corpus_synth::leak::LeakGuard::audit(
            &t.problem,
            &t.final_patch,
            &format!(
                "{} {}",
                corpus_synth::engine::TEMPLATE_WORDS,
                corpus_synth::model::STAGE2_WORDS
            ),
            &t.steps,
        )
        .unwrap_or_else(|token| panic!("{}#{} leaks `{token}`", t.repo, t.pr_number));
        // Every observation before the edits comes from the emulator; nothing is executed.
        assert!(t.steps.iter().all(|s| s.observation_source == "emulator"));
        let finish = if t.tool_family == "kimi_dev" {
            "stop"
        } else {
            "submit"
        };
        assert_eq!(t.steps.last().map(|s| s.action.tool.as_str()), Some(finish));
    }
    rows.len()
}

#[test]
fn demo_trajectories_replay_exactly_and_never_leak() {
    let s = Scratch::new();
    s.ok(&["run"]);
    let checked = replay_all(&s, "runs/demo");
    assert!(checked >= 10, "{checked} trajectories");
    // Distinct variants of one PR.
    let variants = s.query(
        "runs/demo",
        "select repo, pr_number, count(distinct record) as n from trajectories group by repo, pr_number having count(*) > 1",
    );
    assert!(
        variants.iter().all(|v| v["n"].as_i64() == Some(2)),
        "{variants:?}"
    );
    // The rendered rows reach the shards as their own source.
    let shards = s.query(
        "runs/demo",
        "select count(*) as n from shards where source = 'synthetic_agentic'",
    );
    assert!(shards[0]["n"].as_i64().unwrap_or(0) > 0);
    // Repository text holding chat markers is a counted drop, never a sample.
    let markers = s.query(
        "runs/demo",
        "select count(*) as n from drops where stage = 'synthesize' and reason in ('special_token_in_content', 'marker_in_content')",
    );
    assert!(markers[0]["n"].as_i64().unwrap_or(0) > 0);
    let leaked = s.query(
        "runs/demo",
        "select count(*) as n from synthetic_samples where strpos(response, '<|endoftext|>') > 0",
    );
    assert_eq!(leaked[0]["n"].as_i64(), Some(0));
    // Localization reasoning answers `format`'s own localization prompts, with exactly the
    // files of its answer, and reaches the shards as its own source.
    let reasoning = s.query(
        "runs/demo",
        "select r.response, s.response as answer from synthetic_samples r join samples s on s.repo = r.repo and s.pr_number = r.pr_number and s.prompt = r.prompt and s.sample_kind like '%_localization' where r.sample_kind = 'synthetic_reasoning'",
    );
    let all = s.query(
        "runs/demo",
        "select count(*) as n from synthetic_samples where sample_kind = 'synthetic_reasoning'",
    );
    assert!(reasoning.len() >= 5, "{} reasoning rows", reasoning.len());
    assert_eq!(all[0]["n"].as_i64(), Some(reasoning.len() as i64));
    for row in &reasoning {
        let (response, answer) = (text(row, "response"), text(row, "answer"));
        assert!(response.starts_with("The issue mentions `"), "{response}");
        assert!(
            response.ends_with(&format!(":\n{answer}")),
            "{response}\n--- vs ---\n{answer}"
        );
    }
    let shards = s.query(
        "runs/demo",
        "select count(*) as n from shards where source = 'synthetic_reasoning'",
    );
    assert!(shards[0]["n"].as_i64().unwrap_or(0) > 0);
    // One trajectory, readable with SQL.
    let one = s.ok(&[
        "sql",
        "--run",
        "runs/demo",
        "select repo, pr_number, variant, n_steps, named_files, gold_files from trajectories order by repo, pr_number, variant limit 1",
    ]);
    assert!(one.contains("n_steps"), "{one}");
    // The report's counters agree with the tables.
    let counters = synthesize_counters(&s.path().join("runs/demo/report.json"));
    let count = |name: &str| counters.get(name).copied().unwrap_or(0);
    let trajectories = s.query("runs/demo", "select count(*) as n from trajectories");
    assert_eq!(
        Some(count("agentic_variants_kept") as i64),
        trajectories[0]["n"].as_i64(),
        "{counters:?}"
    );
    assert_eq!(count("reasoning_samples"), reasoning.len() as u64);
    assert!(
        count("agentic_prs_tried") > count("agentic_prs_kept"),
        "{counters:?}"
    );
    assert!(!counters.contains_key("model_replies"), "{counters:?}");
}

/// The `synthesize` stage's counters in a run's report.json.
pub fn synthesize_counters(path: &std::path::Path) -> BTreeMap<String, u64> {
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("report.json")).expect("json");
    let stage = report["stages"]
        .as_array()
        .and_then(|stages| stages.iter().find(|s| s["stage"] == "synthesize"))
        .expect("a synthesize stage");
    serde_json::from_value(stage["counters"].clone()).expect("counters")
}

/// PRs the engine must refuse, each for its own reason.
pub fn hard_cases(path: &std::path::Path) {
    let mut b = RepoBuilder::create(path, false, 1_700_000_000).expect("create");
    b.commit(
        "main",
        DEV,
        "Start\n",
        &[
            ("pkg/tabs.py", Some(b"def tabbed():\n\treturn parse_tabs\n")),
            (
                "pkg/crlf.py",
                Some(b"def crlf_reader():\r\n    return 1\r\n"),
            ),
            ("pkg/gone.py", Some(b"def gone_helper():\n    pass\n")),
            ("pkg/fine.py", Some(b"def fine_helper():\n    return 1\n")),
        ],
    )
    .expect("root");
    let pr = |b: &mut RepoBuilder, n: u32, title: &str, edits: &[(&str, Option<&[u8]>)]| {
        let branch = format!("pr{n}");
        b.branch(&branch, "main").expect("branch");
        b.commit(&branch, DEV, &format!("Change {n}\n"), edits)
            .expect("commit");
        b.merge_pr(n, &branch, "dev", title, DEV).expect("merge");
    };
    pr(
        &mut b,
        1,
        "parse_tabs is wrong in tabbed",
        &[(
            "pkg/tabs.py",
            Some(b"def tabbed():\n\treturn parse_tabs + 1\n"),
        )],
    );
    pr(
        &mut b,
        2,
        "crlf_reader returns the wrong value",
        &[(
            "pkg/crlf.py",
            Some(b"def crlf_reader():\r\n    return 2\r\n"),
        )],
    );
    pr(&mut b, 3, "gone_helper is unused", &[("pkg/gone.py", None)]);
    pr(
        &mut b,
        4,
        "fine_helper returns the wrong value",
        &[("pkg/fine.py", Some(b"def fine_helper():\n    return 2\n"))],
    );
    pr(
        &mut b,
        5,
        "Nothing in the text names a file",
        &[("pkg/fine.py", Some(b"def fine_helper():\n    return 3\n"))],
    );
}

#[test]
fn prs_that_cannot_replay_are_counted_drops() {
    hard_cases_drop("", "swe_agent");
}

#[test]
fn the_kimi_dev_family_in_qwen_tool_calls_drops_and_replays_alike() {
    let s = hard_cases_drop(
        "tool_family = \"kimi_dev\"\nrenderer = \"qwen_tool_call\"\n",
        "kimi_dev",
    );
    let rows = s.query(
        "runs/hard",
        "select prompt, response from synthetic_samples where sample_kind = 'synthetic_agentic'",
    );
    assert_eq!(rows.len(), 1);
    let (prompt, response) = (text(&rows[0], "prompt"), text(&rows[0], "response"));
    assert!(prompt.contains("\n# Tools\n") && prompt.contains("\"name\": \"search_dir\""));
    assert!(
        response
            .contains("<tool_call>\n{\"name\": \"search_dir\", \"arguments\": {\"search_term\": "),
        "{response}"
    );
    assert!(response.contains("\n<tool_response>\n[File: /testbed/pkg/fine.py (2 lines total)]\n1:def fine_helper():\n"), "{response}");
    assert!(response.contains("{\"name\": \"str_replace\", \"arguments\": {\"path\": \"/testbed/pkg/fine.py\", \"old_str\": "), "{response}");
    assert!(
        response.ends_with(
            "<tool_call>\n{\"name\": \"stop\", \"arguments\": {}}\n</tool_call><|im_end|>\n"
        ),
        "{response}"
    );
}

/// Runs the hard cases with extra `[synthesize]` keys; checks the drops and the one replay.
fn hard_cases_drop(extra: &str, family: &str) -> Scratch {
    let s = Scratch::new();
    let repo = s.path().join("repos/hard+cases");
    std::fs::create_dir_all(&repo).expect("mkdir");
    hard_cases(&repo);
    std::fs::write(
        s.path().join("hard.toml"),
        format!(
            "name = \"hard\"\n[inputs]\nrepos = [{{ name = \"hard/cases\", path = \"{}\" }}]\n[format]\nprofile = \"broad\"\n[synthesize]\nenabled = true\n{extra}",
            repo.display()
        ),
    )
    .expect("recipe");
    s.ok(&["run", "--recipe", "hard.toml", "--until", "synthesize"]);
    let drops: BTreeMap<i64, String> = s
        .query(
            "runs/hard",
            "select pr_number, reason from drops where stage = 'synthesize' order by pr_number",
        )
        .iter()
        .map(|r| (r["pr_number"].as_i64().unwrap_or(0), text(r, "reason")))
        .collect();
    assert_eq!(
        drops.get(&1).map(String::as_str),
        Some("tabs_in_edited_file"),
        "{drops:?}"
    );
    assert_eq!(
        drops.get(&2).map(String::as_str),
        Some("crlf_in_edited_file"),
        "{drops:?}"
    );
    assert_eq!(
        drops.get(&3).map(String::as_str),
        Some("deleted_file"),
        "{drops:?}"
    );
    assert_eq!(
        drops.get(&5).map(String::as_str),
        Some("gold_file_never_found"),
        "{drops:?}"
    );
    assert!(!drops.contains_key(&4), "{drops:?}");
    assert_eq!(replay_all(&s, "runs/hard"), 1);
    let families = s.query("runs/hard", "select distinct tool_family from trajectories");
    assert_eq!(text(&families[0], "tool_family"), family);
    s
}

/// `(repo, pr_number)` → the sorted rows of one kind of synthetic output.
fn by_pr(s: &Scratch, run: &str, sql: &str) -> BTreeMap<(String, i64), Vec<String>> {
    let mut out: BTreeMap<(String, i64), Vec<String>> = BTreeMap::new();
    for row in s.query(run, sql) {
        let pr = row["pr_number"].as_i64().expect("pr_number");
        out.entry((text(&row, "repo"), pr))
            .or_default()
            .push(text(&row, "content"));
    }
    for rows in out.values_mut() {
        rows.sort();
    }
    out
}

#[test]
fn shares_synthesize_part_of_the_prs_with_the_same_outputs() {
    let s = Scratch::new();
    let synthesize = "enabled = true\nvariants = 2\n";
    crate::common::demo_recipe_with(
        &s,
        "part.toml",
        synthesize,
        &format!("{synthesize}agentic_share = 0.3\nreasoning_share = 0.7\n"),
    );
    s.ok(&["run", "--until", "synthesize"]);
    s.ok(&[
        "run",
        "--recipe",
        "part.toml",
        "--run",
        "runs/part",
        "--until",
        "synthesize",
    ]);
    let trajectories = "select repo, pr_number, record as content from trajectories";
    let reasoning = "select repo, pr_number, response as content from synthetic_samples where sample_kind = 'synthetic_reasoning'";
    let (all_t, part_t) = (
        by_pr(&s, "runs/demo", trajectories),
        by_pr(&s, "runs/part", trajectories),
    );
    let (all_r, part_r) = (
        by_pr(&s, "runs/demo", reasoning),
        by_pr(&s, "runs/part", reasoning),
    );
    // Fewer PRs, each with exactly what the whole run made of it.
    assert!(
        !part_t.is_empty() && part_t.len() < all_t.len(),
        "{} of {}",
        part_t.len(),
        all_t.len()
    );
    assert!(
        !part_r.is_empty() && part_r.len() < all_r.len(),
        "{} of {}",
        part_r.len(),
        all_r.len()
    );
    for (pr, rows) in &part_t {
        assert_eq!(all_t.get(pr), Some(rows), "{pr:?}");
    }
    // Reasoning made from an exploration alone (no trajectory for the PR) is the same too.
    let explored_only = part_r.keys().filter(|pr| !part_t.contains_key(*pr)).count();
    assert!(explored_only > 0);
    for (pr, rows) in &part_r {
        assert_eq!(all_r.get(pr), Some(rows), "{pr:?}");
    }
    let counters = synthesize_counters(&s.path().join("runs/part/report.json"));
    assert!(
        counters.get("prs_not_chosen").copied().unwrap_or(0) > 0,
        "{counters:?}"
    );
    let whole = synthesize_counters(&s.path().join("runs/demo/report.json"));
    assert!(!whole.contains_key("prs_not_chosen"), "{whole:?}");
    // A share outside 0..1 is a configuration error (exit 2), named.
    crate::common::demo_recipe_with(
        &s,
        "bad.toml",
        synthesize,
        &format!("{synthesize}agentic_share = 2.0\n"),
    );
    let out = s.run(&["run", "--recipe", "bad.toml", "--run", "runs/bad"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::common::stderr(&out)
            .contains("agentic_share must be a share of the PRs from 0 to 1, not 2")
    );
    assert!(!s.path().join("runs/bad/tables").exists());
}
