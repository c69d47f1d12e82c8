//! The model-backed engine against a scripted OpenAI-compatible mock on 127.0.0.1: wrong tool
//! syntax, 429, 500, a closed connection, malformed JSON, a hanging request, a rollout that
//! never finds the file, a PR that adds a file the model names first; replies cached by
//! request so a rerun sends nothing; the key never written anywhere.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use corpus_testkit::model::{MockModel, MockReply, MockRequest};

use crate::common::{Scratch, files_under, text};
use crate::synthesize::{DEV, hard_cases, replay_all, synthesize_counters};

const KEY: &str = "sk-test-model-key-4242";

/// An explorer and a reasoner, played by a script: faults on the first tries of one
/// conversation, then a grep for the issue's identifier, then an answer.
fn policy(faults: &Mutex<HashSet<String>>, request: &MockRequest) -> MockReply {
    let task = request
        .messages
        .iter()
        .find(|(r, _)| r == "user")
        .map_or("", |(_, c)| c.as_str());
    let issue = task.split("<issue>").nth(1).unwrap_or(task);
    let word = issue
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| w.contains('_') && w.len() > 4)
        .map(str::to_string);
    if request.system().contains("expert software engineer") {
        return MockReply::Text(
            "The problem is about the helper's return value, so the fix belongs where it is defined.\n\n```\npkg/fine.py\n```".into(),
        );
    }
    // Scripted faults, each once, on the second reply of the fine_helper conversation.
    if word.as_deref() == Some("fine_helper") && request.turn() == 1 {
        let mut seen = faults.lock().expect("faults");
        for fault in ["429", "500", "close", "malformed", "hang"] {
            if seen.insert(fault.to_string()) {
                return match fault {
                    "429" => MockReply::Status {
                        status: 429,
                        retry_after: Some(0),
                    },
                    "500" => MockReply::Status {
                        status: 500,
                        retry_after: None,
                    },
                    "close" => MockReply::Close,
                    "malformed" => MockReply::Malformed,
                    _ => MockReply::Hang(Duration::from_secs(3)),
                };
            }
        }
    }
    if task.contains("crlf_reader") {
        return MockReply::Text("{\"tool\": \"grep\", \"args\": [\"crlf\"]}".into());
    }
    let Some(word) = word else {
        // Never finds anything: lists the root until it runs out of turns.
        return MockReply::Text(
            "Let me look around.\n\n<function=bash>\n<parameter=command>ls</parameter>\n</function>"
                .into(),
        );
    };
    match request.turn() {
        // Wrong syntax first: no closing tag.
        0 => MockReply::Text(format!(
            "I'll search.\n\n<function=bash>\n<parameter=command>grep -rn {word} .</parameter>\n"
        )),
        1 => MockReply::Text(format!(
            "The issue names `{word}`; let me search for it.\n\n<function=bash>\n<parameter=command>grep -rn {word} .</parameter>\n</function>"
        )),
        _ => {
            let observation = request.last_user();
            let hit = observation
                .lines()
                .find_map(|l| l.strip_prefix("./")?.split(':').next())
                .unwrap_or("nowhere.py");
            MockReply::Text(format!(
                "`{word}` is defined in `{hit}`. `pkg/tabs.py` may be involved too.\n\n```\n{hit}\npkg/tabs.py\n```"
            ))
        }
    }
}

fn recipe(s: &Scratch, url: &str, name: &str, extra: &str) {
    recipe_for(s, url, name, extra, "hard/cases", hard_cases);
}

/// A recipe for the model engine on the repository `build` makes, named `repo_name`.
fn recipe_for(
    s: &Scratch,
    url: &str,
    name: &str,
    extra: &str,
    repo_name: &str,
    build: fn(&std::path::Path),
) {
    let repo = s.path().join("repos").join(repo_name.replace('/', "+"));
    if !repo.exists() {
        std::fs::create_dir_all(&repo).expect("mkdir");
        build(&repo);
    }
    std::fs::write(
        s.path().join(format!("{name}.toml")),
        format!(
            "name = \"{name}\"\n[inputs]\nrepos = [{{ name = \"{repo_name}\", path = \"{}\" }}]\n[format]\nprofile = \"broad\"\n[synthesize]\nenabled = true\nvariants = 2\nengine = \"model\"\n[synthesize.model]\nurl = \"{url}\"\nmodel = \"mock-coder\"\napi_key_env = \"SWE_TEST_MODEL_KEY\"\nconcurrency = 2\nmax_turns = 4\nmax_format_errors = 2\ntimeout_secs = 1\nretry_base_ms = 1\ncache = \"model_cache\"\n{extra}",
            repo.display()
        ),
    )
    .expect("recipe");
}

/// `run --recipe NAME.toml --until synthesize` with the key, which must succeed; its stdout
/// and stderr.
fn synthesize_ok(s: &Scratch, name: &str) -> (String, String) {
    let recipe = format!("{name}.toml");
    let out = run_with_key(s, &["run", "--recipe", &recipe, "--until", "synthesize"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{stderr}\n{stdout}");
    (stdout, stderr)
}

fn run_with_key(s: &Scratch, args: &[&str]) -> std::process::Output {
    s.cmd(args)
        .env("SWE_TEST_MODEL_KEY", KEY)
        .output()
        .expect("run")
}

#[test]
fn model_engine_keeps_right_rollouts_survives_faults_and_caches_every_request() {
    let faults = Mutex::new(HashSet::new());
    let mock = MockModel::start(Box::new(move |r| policy(&faults, r))).expect("mock");
    let s = Scratch::new();
    recipe(&s, &mock.url(), "model", "");
    let (stdout, stderr) = synthesize_ok(&s, "model");
    // Kept: PR 4 (fine_helper) in both variants, replayed exactly, no leak.
    let all_drops = s.query(
        "runs/model",
        "select pr_number, reason, detail from drops where stage = 'synthesize'",
    );
    assert!(replay_all(&s, "runs/model") >= 1, "{all_drops:#?}");
    let kept = s.query(
        "runs/model",
        "select pr_number, engine, named_files, distractor_files, record from trajectories order by pr_number, variant",
    );
    assert!(
        kept.iter().all(|r| text(r, "engine") == "model"),
        "{kept:?}"
    );
    assert!(kept.iter().all(|r| r["pr_number"].as_i64() != Some(5)));
    let record = text(&kept[0], "record");
    assert!(record.contains("\"thought_source\":\"model\""), "{record}");
    // The wrongly named file was opened and rejected with a fact from it.
    assert!(
        kept[0]["distractor_files"]
            .to_string()
            .contains("pkg/tabs.py"),
        "{kept:?}"
    );
    assert!(
        record.contains("`pkg/tabs.py` has 2 lines, and nothing there is about the problem"),
        "{record}"
    );
    // Drops, each with its reason.
    let drops: BTreeMap<(i64, String), String> = s
        .query(
            "runs/model",
            "select pr_number, reason, detail from drops where stage = 'synthesize'",
        )
        .iter()
        .map(|r| {
            (
                (r["pr_number"].as_i64().unwrap_or(0), text(r, "reason")),
                text(r, "detail"),
            )
        })
        .collect();
    let has = |pr: i64, reason: &str| drops.contains_key(&(pr, reason.to_string()));
    assert!(has(1, "tabs_in_edited_file"), "{drops:?}");
    assert!(has(2, "model_format_errors"), "{drops:?}");
    assert!(has(5, "model_no_answer"), "{drops:?}");
    assert!(has(1, "model_wrong_files"), "{drops:?}"); // the reasoner names pkg/fine.py
    // Reasoning: kept only where pkg/fine.py is exactly the answer.
    let reasoning = s.query(
        "runs/model",
        "select pr_number, response from synthetic_samples where sample_kind = 'synthetic_reasoning'",
    );
    assert!(!reasoning.is_empty());
    assert!(
        reasoning
            .iter()
            .all(|r| matches!(r["pr_number"].as_i64(), Some(4) | Some(5)))
    );
    // Each of the five faults cost exactly one retried request; every other request is a
    // distinct cached reply.
    let cached = files_under(&s.path().join("model_cache")).len() as u64;
    assert_eq!(mock.requests(), cached + 5, "{cached} cached");
    // The key reached the endpoint and nothing else.
    assert_eq!(mock.authorizations(), vec![format!("Bearer {KEY}")]);
    for (path, bytes) in files_under(s.path()) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(KEY),
            "the key is in {path}"
        );
    }
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY));
    // A rerun into another run folder sends nothing: every reply comes from the cache.
    let before = mock.requests();
    recipe(&s, &mock.url(), "again", "");
    synthesize_ok(&s, "again");
    assert_eq!(mock.requests(), before, "the rerun sent requests");
    let texts = |run: &str| {
        s.query(
            run,
            "select sample_id from synthetic_samples order by sample_id",
        )
    };
    assert_eq!(texts("runs/model"), texts("runs/again"));
    // The report counts what was tried and kept, and the tokens the model generated; a
    // cached rerun reports the same.
    let counters = |run: &str| synthesize_counters(&s.path().join(run).join("report.json"));
    let first = counters("runs/model");
    assert_eq!(first, counters("runs/again"));
    let count = |name: &str| first.get(name).copied().unwrap_or(0);
    assert_eq!(
        count("agentic_variants_kept"),
        kept.len() as u64,
        "{first:?}"
    );
    assert!(count("agentic_variants_tried") > count("agentic_variants_kept"));
    assert!(count("agentic_prs_kept") >= 1, "{first:?}");
    assert!(
        count("agentic_prs_tried") > count("agentic_prs_kept"),
        "{first:?}"
    );
    assert_eq!(
        count("reasoning_samples"),
        reasoning.len() as u64,
        "{first:?}"
    );
    assert!(count("model_replies") >= cached, "{first:?}");
    assert!(count("model_completion_tokens") > 0, "{first:?}");
}

#[test]
fn an_endpoint_that_keeps_failing_is_a_clear_error_without_the_key() {
    let mock = MockModel::start(Box::new(|_| MockReply::Status {
        status: 500,
        retry_after: None,
    }))
    .expect("mock");
    let s = Scratch::new();
    recipe(&s, &mock.url(), "failing", "max_retries = 2\n");
    let out = run_with_key(
        &s,
        &["run", "--recipe", "failing.toml", "--until", "synthesize"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&mock.url()) && stderr.contains("HTTP 500"),
        "{stderr}"
    );
    assert!(stderr.contains("after 3 attempts"), "{stderr}");
    assert!(!stderr.contains(KEY));
    // Nothing of the stage was published.
    assert!(
        !s.path()
            .join("runs/failing/tables/synthetic_samples")
            .exists()
    );
    // A template with an unknown variable is refused before any request.
    let before = mock.requests();
    let templates = s.path().join("templates");
    std::fs::create_dir_all(&templates).expect("mkdir");
    std::fs::write(templates.join("explorer_task.jinja"), "{{ problem }}\n").expect("template");
    recipe(&s, &mock.url(), "badtemplate", "");
    let path = s.path().join("badtemplate.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("[format]\n", "[format]\ntemplates_dir = \"templates\"\n"),
    )
    .expect("write");
    let out = run_with_key(
        &s,
        &[
            "run",
            "--recipe",
            "badtemplate.toml",
            "--until",
            "synthesize",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("explorer_task.jinja"), "{stderr}");
    assert_eq!(mock.requests(), before);
}

/// One PR that adds `pkg/split.py` and changes `pkg/fine.py` to call it.
fn new_file_case(path: &std::path::Path) {
    let mut b = corpus_demo::RepoBuilder::create(path, false, 1_700_000_000).expect("create");
    b.commit(
        "main",
        DEV,
        "Start\n",
        &[
            ("pkg/fine.py", Some(b"def fine_helper():\n    return 1\n")),
            ("pkg/other.py", Some(b"def other():\n    return 0\n")),
        ],
    )
    .expect("root");
    b.branch("pr1", "main").expect("branch");
    b.commit(
        "pr1",
        DEV,
        "Move the value to a helper module\n",
        &[
            ("pkg/split.py", Some(b"def split_helper():\n    return 2\n")),
            (
                "pkg/fine.py",
                Some(b"from pkg.split import split_helper\n\n\ndef fine_helper():\n    return split_helper()\n"),
            ),
        ],
    )
    .expect("commit");
    b.merge_pr(1, "pr1", "dev", "fine_helper returns the wrong value", DEV)
        .expect("merge");
}

#[test]
fn a_right_file_the_pr_adds_is_not_the_file_opened() {
    // The explorer greps, then names the file the PR adds first: it cannot be opened at the
    // base, so the trajectory opens the named file that exists there.
    let mock = MockModel::start(Box::new(|r: &MockRequest| {
        if r.system().contains("expert software engineer") {
            return MockReply::Text("The fix is in the helper.\n\n```\npkg/fine.py\n```".into());
        }
        MockReply::Text(match r.turn() {
            0 => "Let me find the helper.\n\n<function=bash>\n<parameter=command>grep -rn fine_helper .</parameter>\n</function>".into(),
            _ => "The value moves to a new module that `fine_helper` calls.\n\n```\npkg/split.py\npkg/fine.py\n```".into(),
        })
    }))
    .expect("mock");
    let s = Scratch::new();
    recipe_for(&s, &mock.url(), "newfile", "", "new/file", new_file_case);
    synthesize_ok(&s, "newfile");
    let drops = s.query(
        "runs/newfile",
        "select pr_number, reason, detail from drops where stage = 'synthesize'",
    );
    let kept = s.query("runs/newfile", "select record from trajectories");
    // One trajectory: the mock answers both variants alike, so the second is a duplicate.
    assert_eq!(kept.len(), 1, "{drops:#?}");
    for row in &kept {
        let record = text(row, "record");
        assert!(
            record.contains("`pkg/fine.py` is the file to change; let me open it."),
            "{record}"
        );
    }
    // The edits, the new file's creation among them, replay to the head exactly.
    assert_eq!(replay_all(&s, "runs/newfile"), 1);
}
