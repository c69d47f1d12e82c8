//! A scripted OpenAI-compatible endpoint on 127.0.0.1 (std only), for tests and benchmarks:
//! the script sees each request (its number, messages, seed) and answers with a reply, an
//! HTTP status (with `retry-after`), malformed JSON, a closed connection, or a hang.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::http::{Request, read_request, spawn_accept_loop, wake};

/// One chat request as the script sees it.
#[derive(Debug, Clone)]
pub struct MockRequest {
    /// 1 for the first request the server received.
    pub number: u64,
    /// (role, content) in order.
    pub messages: Vec<(String, String)>,
    pub seed: u64,
}

impl MockRequest {
    pub fn last_user(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|(r, _)| r == "user")
            .map_or("", |(_, c)| c.as_str())
    }

    pub fn system(&self) -> &str {
        self.messages
            .iter()
            .find(|(r, _)| r == "system")
            .map_or("", |(_, c)| c.as_str())
    }

    /// Assistant turns so far.
    pub fn turn(&self) -> usize {
        self.messages
            .iter()
            .filter(|(r, _)| r == "assistant")
            .count()
    }
}

pub enum MockReply {
    Text(String),
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
    Malformed,
    Close,
    Hang(Duration),
}

pub type Script = dyn Fn(&MockRequest) -> MockReply + Send + Sync;

struct Shared {
    script: Box<Script>,
    requests: AtomicU64,
    authorizations: Mutex<Vec<String>>,
    stop: AtomicBool,
}

pub struct MockModel {
    shared: Arc<Shared>,
    addr: String,
}

impl MockModel {
    pub fn start(script: Box<Script>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let shared = Arc::new(Shared {
            script,
            requests: AtomicU64::new(0),
            authorizations: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        spawn_accept_loop(listener, shared.clone(), |s| &s.stop, serve);
        Ok(Self { shared, addr })
    }

    /// The API base to put in a recipe.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Distinct `Authorization` headers received.
    pub fn authorizations(&self) -> Vec<String> {
        self.shared
            .authorizations
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }
}

impl Drop for MockModel {
    fn drop(&mut self) {
        wake(&self.shared.stop, &self.addr);
    }
}

fn serve(shared: &Shared, stream: TcpStream) -> std::io::Result<()> {
    let Request { headers, body, .. } = read_request(&stream)?;
    if let Some(auth) = headers.get("authorization")
        && let Ok(mut seen) = shared.authorizations.lock()
        && !seen.contains(auth)
    {
        seen.push(auth.clone());
    }
    let number = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let messages = value["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| {
                    (
                        m["role"].as_str().unwrap_or_default().to_string(),
                        m["content"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let request = MockRequest {
        number,
        messages,
        seed: value["seed"].as_u64().unwrap_or(0),
    };
    let (status, extra, body) = match (shared.script)(&request) {
        MockReply::Text(text) => (
            200,
            String::new(),
            json!({
                "id": format!("mock-{number}"),
                "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": body.len() / 4, "completion_tokens": text.len() / 4 + 1},
            })
            .to_string(),
        ),
        MockReply::Status {
            status,
            retry_after,
        } => (
            status,
            retry_after.map_or(String::new(), |s| format!("retry-after: {s}\r\n")),
            json!({"error": {"message": format!("mock status {status}")}}).to_string(),
        ),
        MockReply::Malformed => (200, String::new(), "{\"choices\": [{\"mess".to_string()),
        MockReply::Close => return Ok(()),
        MockReply::Hang(d) => {
            std::thread::sleep(d);
            return Ok(());
        }
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} Mock\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}
