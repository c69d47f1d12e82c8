//! Records of an external file: JSONL (one object per line) or Parquet, each either chat
//! messages (`[{role, content}]`) or plain text.

use std::io::BufRead;

use arrow::array::{Array, ListArray, StringArray, StructArray};
use corpus_core::recipe::ExternalSource;
use corpus_core::table::for_each_batch;

use corpus_stage::error::{Result, StageError};

const NAME: &str = "ingest";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub role: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Chat(Vec<Turn>),
    Text(String),
}

/// One record, or why it cannot be read (a counted drop, not a failed run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based line (JSONL) or row (Parquet).
    pub position: u64,
    pub content: std::result::Result<Content, String>,
}

fn stage_error(source: &ExternalSource, message: impl std::fmt::Display) -> StageError {
    StageError::stage(
        NAME,
        format!(
            "source `{}` ({}): {message}",
            source.name,
            source.path.display()
        ),
    )
}

/// Stream the records of a source through `f`, in file order.
pub fn for_each_record(
    source: &ExternalSource,
    f: &mut dyn FnMut(Record) -> Result<()>,
) -> Result<()> {
    if !source.path.is_file() {
        return Err(stage_error(source, "the file does not exist"));
    }
    match source.path.extension().and_then(|e| e.to_str()) {
        Some("parquet") => read_parquet(source, f),
        _ => read_jsonl(source, f),
    }
}

fn from_json(
    source: &ExternalSource,
    value: &serde_json::Value,
) -> std::result::Result<Content, String> {
    let object = value.as_object().ok_or("not a JSON object")?;
    if let Some(messages) = object.get(&source.messages_column).filter(|m| !m.is_null()) {
        let list = messages
            .as_array()
            .ok_or_else(|| format!("`{}` is not a list", source.messages_column))?;
        let mut turns = Vec::with_capacity(list.len());
        for (i, message) in list.iter().enumerate() {
            let field = |name: &str| {
                message
                    .get(name)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| format!("message {i} has no string `{name}`"))
            };
            turns.push(Turn {
                role: field("role")?,
                content: field("content")?,
            });
        }
        return Ok(Content::Chat(turns));
    }
    match object.get(&source.text_column) {
        Some(serde_json::Value::String(text)) => Ok(Content::Text(text.clone())),
        Some(_) => Err(format!("`{}` is not a string", source.text_column)),
        None => Err(format!(
            "neither `{}` nor `{}`",
            source.messages_column, source.text_column
        )),
    }
}

fn read_jsonl(source: &ExternalSource, f: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(&source.path).map_err(|e| stage_error(source, e))?;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let position = i as u64 + 1;
        let line = match line {
            Ok(line) => line,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                f(Record {
                    position,
                    content: Err("not UTF-8".into()),
                })?;
                continue;
            }
            Err(e) => return Err(stage_error(source, e)),
        };
        if line.trim().is_empty() {
            continue;
        }
        let content = serde_json::from_str::<serde_json::Value>(&line)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(|v| from_json(source, &v));
        f(Record { position, content })?;
    }
    Ok(())
}

fn read_parquet(source: &ExternalSource, f: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
    let mut position = 0u64;
    let mut checked = false;
    for_each_batch(&source.path, 1024, |batch| {
        let messages = batch.column_by_name(&source.messages_column);
        let text = batch.column_by_name(&source.text_column);
        if !checked {
            checked = true;
            let chat_ok = messages.is_some_and(|m| m.as_any().downcast_ref::<ListArray>().is_some());
            let text_ok = text.is_some_and(|t| t.as_any().downcast_ref::<StringArray>().is_some());
            if !chat_ok && !text_ok {
                return Err(corpus_core::Error::Input(format!(
                    "ingest source `{}` ({}): no list column `{}` (chat) and no utf8 column `{}` (text)",
                    source.name,
                    source.path.display(),
                    source.messages_column,
                    source.text_column
                )));
            }
        }
        let messages = messages.and_then(|m| m.as_any().downcast_ref::<ListArray>());
        let text = text.and_then(|t| t.as_any().downcast_ref::<StringArray>());
        for row in 0..batch.num_rows() {
            position += 1;
            let content = match (messages, text) {
                (Some(list), _) if !list.is_null(row) => chat_row(&list.value(row)),
                (_, Some(text)) if !text.is_null(row) => Ok(Content::Text(text.value(row).to_string())),
                _ => Err("no messages and no text".to_string()),
            };
            f(Record { position, content }).map_err(|e| corpus_core::Error::Input(e.to_string()))?;
        }
        Ok(())
    })
    .map_err(StageError::from)
}

fn chat_row(turns: &dyn Array) -> std::result::Result<Content, String> {
    let turns = turns
        .as_any()
        .downcast_ref::<StructArray>()
        .ok_or("messages are not structs")?;
    let field = |name: &str| {
        turns
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or_else(|| format!("messages have no utf8 `{name}`"))
    };
    let (role, content) = (field("role")?, field("content")?);
    Ok(Content::Chat(
        (0..turns.len())
            .map(|i| Turn {
                role: role.value(i).to_string(),
                content: content.value(i).to_string(),
            })
            .collect(),
    ))
}

/// For tests: a source over `path` with the default columns.
#[cfg(test)]
pub fn source_at(path: &std::path::Path) -> ExternalSource {
    ExternalSource {
        name: "ext".into(),
        path: path.to_path_buf(),
        messages_column: "messages".into(),
        text_column: "text".into(),
        template: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn collect(source: &ExternalSource) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        for_each_record(source, &mut |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn jsonl_records_and_their_problems() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.jsonl");
        std::fs::write(
            &path,
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n\n{\"text\": \"plain\"}\nnot json\n{\"other\": 1}\n{\"messages\": [{\"role\": 3}]}\n",
        )
        .expect("write");
        let records = collect(&source_at(&path)).expect("records");
        assert_eq!(records.len(), 5);
        assert_eq!(
            records[0].content,
            Ok(Content::Chat(vec![Turn {
                role: "user".into(),
                content: "hi".into()
            }]))
        );
        assert_eq!(records[1].position, 3);
        assert_eq!(records[1].content, Ok(Content::Text("plain".into())));
        assert!(
            records[2]
                .content
                .as_ref()
                .is_err_and(|e| e.starts_with("not JSON"))
        );
        assert!(
            records[3]
                .content
                .as_ref()
                .is_err_and(|e| e.contains("neither"))
        );
        assert!(
            records[4]
                .content
                .as_ref()
                .is_err_and(|e| e.contains("role"))
        );
    }

    #[test]
    fn a_missing_file_is_a_clear_error() {
        let err =
            collect(&source_at(std::path::Path::new("/nonexistent/x.jsonl"))).expect_err("missing");
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn parquet_chat_and_text_columns() {
        use arrow::array::{ArrayRef, StringArray, StructArray};
        use arrow::datatypes::{DataType, Field, Fields, Schema};
        let dir = tempfile::tempdir().expect("tempdir");
        let fields = Fields::from(vec![
            Field::new("role", DataType::Utf8, false),
            Field::new("content", DataType::Utf8, false),
        ]);
        let turns = StructArray::new(
            fields.clone(),
            vec![
                Arc::new(StringArray::from(vec!["user", "assistant"])) as ArrayRef,
                Arc::new(StringArray::from(vec!["q", "a"])) as ArrayRef,
            ],
            None,
        );
        let item = Arc::new(Field::new("item", DataType::Struct(fields), false));
        let messages = ListArray::new(
            item.clone(),
            arrow::buffer::OffsetBuffer::from_lengths([2, 0]),
            Arc::new(turns),
            Some(arrow::buffer::NullBuffer::from(vec![true, false])),
        );
        let schema = Arc::new(Schema::new(vec![
            Field::new("messages", DataType::List(item), true),
            Field::new("text", DataType::Utf8, true),
        ]));
        let batch = arrow::record_batch::RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(messages) as ArrayRef,
                Arc::new(StringArray::from(vec![None, Some("doc")])) as ArrayRef,
            ],
        )
        .expect("batch");
        let path = dir.path().join("x.parquet");
        let file = std::fs::File::create(&path).expect("create");
        let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        let records = collect(&source_at(&path)).expect("records");
        assert_eq!(records.len(), 2);
        assert!(matches!(&records[0].content, Ok(Content::Chat(t)) if t.len() == 2));
        assert_eq!(records[1].content, Ok(Content::Text("doc".into())));

        let wrong = dir.path().join("wrong.parquet");
        let schema = Arc::new(Schema::new(vec![Field::new("body", DataType::Utf8, false)]));
        let batch = arrow::record_batch::RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from(vec!["x"])) as ArrayRef],
        )
        .expect("batch");
        let file = std::fs::File::create(&wrong).expect("create");
        let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        let err = collect(&source_at(&wrong)).expect_err("no columns");
        assert!(
            err.to_string().contains("no list column `messages`"),
            "{err}"
        );
    }
}
