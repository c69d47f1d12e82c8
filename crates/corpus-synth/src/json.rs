//! JSON written the way Python's `json.dumps(x, ensure_ascii=False)` writes it (what chat
//! templates' `tojson` does): `", "` and `": "` separators, keys in insertion order,
//! non-ASCII kept, control characters escaped.

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Str(String),
    Int(i64),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn str(s: &str) -> Self {
        Json::Str(s.to_string())
    }

    pub fn obj(entries: Vec<(&str, Json)>) -> Self {
        Json::Obj(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    pub fn dumps(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Str(s) => write_str(s, out),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Obj(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_str(key, out);
                    out.push_str(": ");
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// A string literal as Python's encoder writes it with `ensure_ascii=False` (also a valid
/// Python string literal).
pub fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_python_json_dumps() {
        // json.dumps({"a": "x\ty\u0001\"é", "b": [1, 2], "c": {}}, ensure_ascii=False)
        let value = Json::obj(vec![
            ("a", Json::str("x\ty\u{1}\"é</tool_call>")),
            ("b", Json::Arr(vec![Json::Int(1), Json::Int(-2)])),
            ("c", Json::Obj(vec![])),
        ]);
        assert_eq!(
            value.dumps(),
            r#"{"a": "x\ty\u0001\"é</tool_call>", "b": [1, -2], "c": {}}"#
        );
    }
}
