//! Stage `ingest` on the demo's external source and on bad external files.

use crate::common::{Scratch, stderr};

fn number(v: &serde_json::Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn the_demo_external_source_reaches_the_shards_with_its_loss_boundary() {
    let s = Scratch::new();
    s.ok(&["run", "--run", "runs/demo"]);
    let reasons = s.query(
        "runs/demo",
        "select stage, reason, count(*) as n from drops where stage = 'ingest' or reason = 'duplicate_external' group by stage, reason order by reason",
    );
    let got: Vec<(String, String, u64)> = reasons
        .iter()
        .map(|r| {
            (
                r["stage"].as_str().unwrap_or_default().to_string(),
                r["reason"].as_str().unwrap_or_default().to_string(),
                number(&r["n"]),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("curate".into(), "duplicate_external".into(), 1),
            ("ingest".into(), "no_assistant_turn".into(), 1),
            ("ingest".into(), "special_token_in_content".into(), 1),
        ]
    );
    let rows = s.query(
        "runs/demo",
        "select sample_kind, repo, split, prompt_tokens, n_tokens, text from shards where source = 'external_chat' order by n_tokens",
    );
    assert_eq!(rows.len(), 4, "{rows:?}");
    for row in &rows {
        assert_eq!(row["sample_kind"], "external");
        assert_eq!(row["repo"], "");
        assert_eq!(row["split"], "train");
        let text = row["text"].as_str().expect("text");
        let chat = text.starts_with("<|im_start|>");
        assert_eq!(number(&row["prompt_tokens"]) > 0, chat, "{text}");
    }
    let prompts = s.query(
        "runs/demo",
        "select prompt, response from curated where source = 'external_chat' and prompt like '%system%'",
    );
    assert_eq!(prompts.len(), 1);
    let prompt = prompts[0]["prompt"].as_str().expect("prompt");
    assert!(
        prompt.starts_with("<|im_start|>system\nYou are a careful"),
        "{prompt}"
    );
    assert!(
        prompt.ends_with("IndexError instead of ValueError?<|im_end|>\n"),
        "{prompt}"
    );
    let response = prompts[0]["response"].as_str().expect("response");
    assert!(
        response.starts_with("<|im_start|>assistant\n"),
        "{response}"
    );
}

#[test]
fn bad_external_records_are_counted_with_their_line_and_a_missing_file_stops_the_stage() {
    let s = Scratch::new();
    std::fs::write(
        s.path().join("ext.jsonl"),
        "{\"text\": \"fine document\"}\n{not json\n{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}\n{\"title\": \"no text\"}\n",
    )
    .expect("write");
    let recipe = s.path().join("r.toml");
    std::fs::write(
        &recipe,
        "name = \"r\"\n[inputs]\ndemo = true\n[[ingest.sources]]\nname = \"ext\"\npath = \"ext.jsonl\"\n",
    )
    .expect("write");
    let recipe = recipe.display().to_string();
    s.ok(&[
        "run", "--recipe", &recipe, "--run", "runs/r", "--until", "ingest",
    ]);
    let drops = s.query(
        "runs/r",
        "select reason, detail from drops where stage = 'ingest' order by detail",
    );
    let got: Vec<String> = drops
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["reason"].as_str().unwrap_or(""),
                d["detail"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got[0].starts_with("unreadable_record source ext, record 2: not JSON"),
        "{got:?}"
    );
    assert!(
        got[1].starts_with("unknown_role source ext, record 3"),
        "{got:?}"
    );
    assert!(
        got[2].starts_with("unreadable_record source ext, record 4: neither"),
        "{got:?}"
    );
    let kept = s.query("runs/r", "select count(*) as n from external_samples");
    assert_eq!(number(&kept[0]["n"]), 1);

    std::fs::remove_file(s.path().join("ext.jsonl")).expect("remove");
    let out = s.run(&["run", "--recipe", &recipe, "--run", "runs/r"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("source `ext`") && err.contains("ext.jsonl"),
        "{err}"
    );
    // What was already built is still there.
    assert!(
        s.path()
            .join("runs/r/tables/samples/_manifest.json")
            .is_file()
    );
    assert!(
        s.path()
            .join("runs/r/tables/external_samples/_manifest.json")
            .is_file()
    );
}
