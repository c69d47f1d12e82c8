//! Stage `format` on the demo set and on repositories built for its hard cases.

use std::collections::{BTreeMap, HashMap};

use corpus_agentless::search_replace::{Block, apply_file, parse_blocks};
use corpus_demo::{Person, RepoBuilder};

use crate::common::{Scratch, stderr, text};

const DEV: Person = Person {
    name: "Dev One",
    email: "dev@example.org",
};

#[test]
fn demo_samples_have_every_kind() {
    let s = Scratch::new();
    s.ok(&["run"]);
    let kinds: Vec<String> = s
        .query(
            "runs/demo",
            "select distinct sample_kind from samples order by sample_kind",
        )
        .iter()
        .map(|r| text(r, "sample_kind"))
        .collect();
    for kind in [
        "bugfixer_edit",
        "bugfixer_localization",
        "commit",
        "commit_pack",
        "testwriter_edit",
        "testwriter_localization",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in {kinds:?}");
    }
    // Ids are the content hash of text = prompt + response; no duplicates by id.
    let bad = s.query(
        "runs/demo",
        "select count(*) as n from samples where text <> concat(prompt, response) or length(sample_id) <> 32",
    );
    assert_eq!(bad[0]["n"].as_i64(), Some(0));
    // The planted end-of-text marker never reaches a sample; its drops say why.
    let leaked = s.query(
        "runs/demo",
        "select count(*) as n from samples where strpos(text, '<|endoftext|>') > 0",
    );
    assert_eq!(leaked[0]["n"].as_i64(), Some(0));
    let dropped = s.query(
        "runs/demo",
        "select count(*) as n from drops where stage = 'format' and reason = 'special_token_in_content'",
    );
    assert!(dropped[0]["n"].as_i64().unwrap_or(0) >= 1);
    // Commit packs lose signatures, e-mails and handles.
    let packs = s.query(
        "runs/demo",
        "select response from samples where sample_kind = 'commit_pack'",
    );
    for p in &packs {
        let doc = text(p, "response");
        assert!(
            !doc.contains("Signed-off-by") && !doc.contains("@example.org"),
            "{doc}"
        );
    }
}

/// (repo, PR, path) of a changed file, and its (before, after) blob ids.
type FileKey = (String, i64, String);
type Versions = HashMap<FileKey, (Option<String>, Option<String>)>;

/// Re-apply every edit sample's blocks to the base blobs: 100% must give the after blobs.
fn check_every_edit_round_trips(s: &Scratch, run: &str) -> usize {
    let files = s.query(
        run,
        "select repo, pr_number, f['path'] as path, f['before_blob'] as before, f['after_blob'] as after \
         from (select repo, pr_number, unnest(files) as f from patches where pr_number is not null)",
    );
    let mut versions: Versions = HashMap::new();
    for f in files {
        let key = (
            text(&f, "repo"),
            f["pr_number"].as_i64().unwrap_or(-1),
            text(&f, "path"),
        );
        versions.insert(
            key,
            (
                f["before"].as_str().map(String::from),
                f["after"].as_str().map(String::from),
            ),
        );
    }
    let blobs: HashMap<String, String> = s
        .query(run, "select blob_id, content from blobs")
        .iter()
        .map(|b| (text(b, "blob_id"), text(b, "content")))
        .collect();
    let edits = s.query(
        run,
        "select repo, pr_number, sample_kind, response from samples where sample_kind like '%_edit'",
    );
    assert!(!edits.is_empty());
    for e in &edits {
        let blocks = parse_blocks(&text(e, "response")).expect("blocks parse");
        let mut by_file: BTreeMap<String, Vec<Block>> = BTreeMap::new();
        for b in blocks {
            by_file.entry(b.path.clone()).or_default().push(b);
        }
        for (path, blocks) in by_file {
            let key = (
                text(e, "repo"),
                e["pr_number"].as_i64().unwrap_or(-1),
                path.clone(),
            );
            let (before, after) = versions
                .get(&key)
                .cloned()
                .expect("the PR changes this file");
            let content = |id: Option<String>| id.map(|i| blobs[&i].clone()).unwrap_or_default();
            let applied = apply_file(&content(before), &blocks).expect("blocks apply");
            assert_eq!(applied, content(after), "{key:?}");
        }
    }
    edits.len()
}

#[test]
fn every_demo_edit_sample_reproduces_the_pr() {
    let s = Scratch::new();
    s.ok(&["run"]);
    assert!(check_every_edit_round_trips(&s, "runs/demo") >= 20);
}

/// A repository with the converter's hard cases, under the broad profile.
fn hard_cases(path: &std::path::Path) {
    let mut b = RepoBuilder::create(path, false, 1_700_000_000).expect("create");
    let big: String = (0..50_000).map(|i| format!("value_{i} = {i}\n")).collect();
    b.commit(
        "main",
        DEV,
        "Start\n",
        &[
            ("pkg/big.py", Some(big.as_bytes())),
            (
                "pkg/conflict.py",
                Some(b"HEADER = '''\n=======\n'''\nx = 1\n"),
            ),
            ("pkg/gone.py", Some(b"def old():\n    pass\n")),
            ("pkg/crlf.py", Some(b"a = 1\r\nb = 2\r\n")),
            ("pkg/tail.py", Some(b"a = 1\nb = 2")),
        ],
    )
    .expect("root");
    let pr = |b: &mut RepoBuilder, n: u32, edits: &[(&str, Option<&[u8]>)]| {
        let branch = format!("pr{n}");
        b.branch(&branch, "main").expect("branch");
        b.commit(&branch, DEV, &format!("Change {n}\n"), edits)
            .expect("commit");
        b.merge_pr(
            n,
            &branch,
            "dev",
            &format!("Problem number {n} needs a fix"),
            DEV,
        )
        .expect("merge");
    };
    let big_after = big.replace("value_25000 = 25000\n", "value_25000 = -1\n");
    pr(&mut b, 1, &[("pkg/big.py", Some(big_after.as_bytes()))]);
    pr(
        &mut b,
        2,
        &[(
            "pkg/conflict.py",
            Some(b"HEADER = '''\n=======\n'''\nx = 2\n"),
        )],
    );
    pr(&mut b, 3, &[("pkg/gone.py", None)]);
    pr(
        &mut b,
        4,
        &[("pkg/gone.py", Some(b"def new():\n    return 1\n"))],
    );
    pr(&mut b, 5, &[("pkg/crlf.py", Some(b"a = 1\r\nb = 3\r\n"))]);
    pr(&mut b, 6, &[("pkg/tail.py", Some(b"a = 10\nb = 2"))]);
    pr(&mut b, 7, &[("pkg/tail.py", Some(b"a = 10\nb = 3"))]);
    pr(&mut b, 8, &[("pkg/empty.py", Some(b""))]);
    pr(&mut b, 9, &[("pkg/empty.py", Some(b"created = True\n"))]);
    // A rename is a deletion plus an addition without rename detection.
    pr(
        &mut b,
        10,
        &[
            ("pkg/crlf.py", None),
            ("pkg/moved.py", Some(b"a = 1\r\nb = 3\r\n")),
        ],
    );
}

#[test]
fn hard_cases_are_exact_or_dropped_with_a_reason() {
    let s = Scratch::new();
    hard_cases(&s.path().join("repos/acme+hard"));
    std::fs::write(
        s.path().join("hard.toml"),
        "name = \"hard\"\n[inputs]\nrepo_dirs = [\"repos\"]\n[format]\nprofile = \"broad\"\n[tables]\nmax_part_mib = 1\n",
    )
    .expect("recipe");
    s.ok(&["run", "--recipe", "hard.toml"]);
    let drops = s.query(
        "runs/hard",
        "select pr_number, reason, path from drops where stage = 'format'",
    );
    let reason_of = |pr: i64| -> Vec<String> {
        drops
            .iter()
            .filter(|d| d["pr_number"].as_i64() == Some(pr))
            .map(|d| text(d, "reason"))
            .collect()
    };
    assert!(
        reason_of(2).contains(&"marker_in_code".to_string()),
        "{drops:?}"
    );
    assert!(
        reason_of(3).contains(&"deleted_file".to_string()),
        "{drops:?}"
    );
    assert!(
        reason_of(7).contains(&"no_final_newline".to_string()),
        "{drops:?}"
    );
    let edits: Vec<i64> = s
        .query(
            "runs/hard",
            "select pr_number from samples where sample_kind = 'bugfixer_edit' order by pr_number",
        )
        .iter()
        .filter_map(|r| r["pr_number"].as_i64())
        .collect();
    // The 50,000-line file, the re-added file, CRLF, an edit away from an unterminated last
    // line, and content into an empty file all convert exactly.
    for pr in [1, 4, 5, 6, 9] {
        assert!(
            edits.contains(&pr),
            "PR {pr} has no edit sample: {edits:?} / {drops:?}"
        );
    }
    check_every_edit_round_trips(&s, "runs/hard");
    // Its 1 MB blobs are big enough to be linked in as parts, not re-encoded: still the same
    // bytes for another task split, and every checksum holds.
    s.ok(&[
        "run",
        "--recipe",
        "hard.toml",
        "--tasks",
        "3",
        "--run",
        "runs/hard3",
    ]);
    crate::common::assert_same_tables(&s.path().join("runs/hard"), &s.path().join("runs/hard3"));
    assert!(
        s.ok(&["verify", "--run", "runs/hard3"])
            .contains("0 problem(s)")
    );
}

#[test]
fn templates_are_files_a_recipe_can_replace() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.path().join("mine")).expect("mkdir");
    std::fs::write(
        s.path().join("mine/bugfixer_localization.jinja"),
        "WHICH FILES? {{ problem_statement }}\n{{ structure }}\n",
    )
    .expect("template");
    std::fs::write(
        s.path().join("mine.toml"),
        "name = \"mine\"\n[inputs]\ndemo = true\ndemo_dir = \"data/demo\"\n[format]\ntemplates_dir = \"mine\"\n",
    )
    .expect("recipe");
    s.ok(&["run", "--recipe", "mine.toml"]);
    let prompts = s.query(
        "runs/mine",
        "select prompt from samples where sample_kind = 'bugfixer_localization'",
    );
    assert!(!prompts.is_empty());
    assert!(
        prompts
            .iter()
            .all(|p| text(p, "prompt").starts_with("WHICH FILES? "))
    );
    // Changing the wording reruns format (no rebuild) ...
    std::fs::write(
        s.path().join("mine/bugfixer_localization.jinja"),
        "NAME THE FILES: {{ problem_statement }}\n{{ structure }}\n",
    )
    .expect("template");
    let out = s.ok(&["run", "--recipe", "mine.toml"]);
    assert!(out.contains("format         ran"), "{out}");
    // ... and a template with an unknown variable is a clear error naming it.
    std::fs::write(
        s.path().join("mine/bugfixer_edit.jinja"),
        "{{ issue_text }}\n",
    )
    .expect("template");
    let out = s.run(&["run", "--recipe", "mine.toml"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("bugfixer_edit.jinja") && err.contains("undefined"),
        "{err}"
    );
}

#[test]
fn format_is_byte_identical_for_any_task_count() {
    let s = Scratch::new();
    s.ok(&["run", "--tasks", "1", "--run", "runs/a"]);
    s.ok(&["run", "--tasks", "5", "--run", "runs/b"]);
    crate::common::assert_same_tables(&s.path().join("runs/a"), &s.path().join("runs/b"));
}

/// Write a `pulls` table as the crawl would, for format to join, under the fingerprint of
/// the (disabled) crawl that ran, so the crawl stays current and keeps these rows.
fn write_pulls(run: &std::path::Path, rows: &[corpus_core::rows::PullRow]) {
    use corpus_core::manifest::{Manifest, StageEntry};
    use corpus_core::table::{PartWriter, WriterOptions};
    let dir = run.join("tables/pulls");
    let ran = Manifest::read(&dir)
        .expect("read")
        .and_then(|m| m.stages.get("crawl").cloned())
        .expect("the crawl stage ran (disabled)");
    let batch = corpus_core::rows::PullRow::batch(rows).expect("batch");
    let mut writer =
        PartWriter::new(&dir, "part", batch.schema(), WriterOptions::default()).expect("writer");
    writer.write(&batch).expect("write");
    let parts = writer.finish().expect("finish");
    let mut manifest = Manifest::new("pulls");
    let entry = StageEntry {
        fingerprint: ran.fingerprint,
        config_hash: ran.config_hash,
        inputs: ran.inputs,
        rows: rows.len() as u64,
        dropped: Default::default(),
        dropped_tokens: Default::default(),
        counters: Default::default(),
    };
    manifest.set_stage("crawl", "part", parts, entry);
    manifest.write(&dir).expect("manifest");
}

#[test]
fn linked_issues_give_problem_text_and_open_the_edit_response() {
    use corpus_core::rows::{LinkedIssue, PullRow};
    let s = Scratch::new();
    // The demo recipe without its crawl: the `pulls` rows here are the test's own.
    crate::common::demo_recipe_with(
        &s,
        "nocrawl.toml",
        "enabled = true\noffline = true",
        "enabled = false\noffline = true",
    );
    let run = ["run", "--recipe", "nocrawl.toml", "--run", "runs/demo"];
    s.ok(&[&run[..], &["--until", "extract"]].concat());
    write_pulls(
        &s.path().join("runs/demo"),
        &[PullRow {
            repo: "acme/widgets".into(),
            pr_number: 14,
            title: "Round in resize".into(),
            body: "Fixes #20".into(),
            linked_issues: vec![LinkedIssue {
                number: 20,
                title: "Widget.resize(0.5) shrinks a 3px widget to 1px".into(),
                body: "Expected 2px, got 1px. Reported by carol@example.org".into(),
                comments: vec!["The cast truncates; rounding fixes it, thanks @alice".into()],
            }],
            ..Default::default()
        }],
    );
    s.ok(&run);
    let rows = s.query(
        "runs/demo",
        "select sample_kind, prompt, response from samples where repo = 'forker/widgets' and pr_number = 14 \
         union all select sample_kind, prompt, response from samples where repo = 'acme/widgets' and pr_number = 14",
    );
    let acme_loc = s.query(
        "runs/demo",
        "select prompt from samples where repo = 'acme/widgets' and pr_number = 14 and sample_kind = 'testwriter_localization'",
    );
    let prompt = text(&acme_loc[0], "prompt");
    assert!(
        prompt.contains("Widget.resize(0.5) shrinks a 3px widget to 1px"),
        "{prompt}"
    );
    assert!(prompt.contains("Reported by [email]"), "{prompt}");
    let edit = s.query(
        "runs/demo",
        "select response from samples where repo = 'acme/widgets' and pr_number = 14 and sample_kind = 'testwriter_edit'",
    );
    let response = text(&edit[0], "response");
    assert!(
        response.starts_with("The cast truncates; rounding fixes it, thanks [user]\n\n```python\n"),
        "{response}"
    );
    // The fork has no pulls rows: its samples keep the merge commit's text.
    assert!(rows.iter().any(|r| text(r, "prompt").contains("gives 1px")));
    // The run notices the new input: format reran, extract did not.
    let again = s.ok(&run);
    assert!(again.contains("format         current"), "{again}");
}
