//! A chat client ([`Chat`]) for any OpenAI-compatible endpoint (`POST {url}/chat/completions`): bounded
//! retries with exponential backoff and deterministic jitter on 429, 5xx, timeouts, closed
//! connections and malformed JSON (`retry-after` honoured), and a reply cache keyed by a hash
//! of the whole request body, so a rerun or a resume after a kill sends nothing twice. The
//! API key travels only in the `Authorization` header: it is in no error, log or cache file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::chat::{Chat, ChatError, Completion, Message};
use corpus_core::recipe::ModelOptions;
use serde_json::{Value, json};
use xxhash_rust::xxh3::{xxh3_64_with_seed, xxh3_128};

/// The longest wait between two attempts.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// What the client did, for the stage's report.
#[derive(Debug, Default)]
pub struct ModelStats {
    pub requests: AtomicU64,
    pub cache_hits: AtomicU64,
    pub retries: AtomicU64,
    pub prompt_tokens: AtomicU64,
    pub completion_tokens: AtomicU64,
}

impl ModelStats {
    pub fn line(&self) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "{} requests, {} from cache, {} retries, {} tokens generated",
            get(&self.requests),
            get(&self.cache_hits),
            get(&self.retries),
            get(&self.completion_tokens)
        )
    }
}

pub struct ChatClient {
    endpoint: String,
    options: ModelOptions,
    key: Option<String>,
    cache: PathBuf,
    agent: ureq::Agent,
    pub stats: ModelStats,
}

impl std::fmt::Debug for ChatClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatClient")
            .field("endpoint", &self.endpoint)
            .field("key", &self.key.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

enum Attempt {
    Done(String),
    Retry {
        detail: String,
        status: Option<u16>,
        wait: Option<Duration>,
    },
}

impl ChatClient {
    /// A client for the recipe's endpoint; the key comes from `api_key_env`.
    pub fn new(options: &ModelOptions, cache: PathBuf) -> Self {
        let key = std::env::var(&options.api_key_env)
            .ok()
            .filter(|k| !k.trim().is_empty());
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(options.timeout_secs.max(1))))
            .http_status_as_error(false)
            .build();
        Self {
            endpoint: format!("{}/chat/completions", options.url.trim_end_matches('/')),
            options: options.clone(),
            key,
            cache,
            agent: config.into(),
            stats: ModelStats::default(),
        }
    }

    /// The request body: every field that changes the reply, so the cache key is exact.
    fn body(&self, messages: &[Message], seed: u64) -> String {
        let messages: Vec<Value> = messages
            .iter()
            .map(|m| json!({"role": m.role, "content": m.content}))
            .collect();
        json!({
            "model": self.options.model,
            "messages": messages,
            "temperature": self.options.temperature,
            "top_p": self.options.top_p,
            "max_tokens": self.options.max_tokens,
            "seed": seed,
        })
        .to_string()
    }

    fn cache_path(&self, body: &str) -> PathBuf {
        let key = format!("{:032x}", xxh3_128(body.as_bytes()));
        self.cache.join(&key[..2]).join(format!("{key}.json"))
    }
}

impl Chat for ChatClient {
    /// The assistant's reply to `messages`, from the cache or the endpoint. A cached reply
    /// is the endpoint's whole answer, so its generated-token count is the same either way.
    fn complete(&self, messages: &[Message], seed: u64) -> Result<Completion, ChatError> {
        let body = self.body(messages, seed);
        let path = self.cache_path(&body);
        if let Ok(cached) = std::fs::read_to_string(&path)
            && let Ok((completion, _)) = parse_reply(&cached)
        {
            self.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(completion);
        }
        let raw = self.send(&body)?;
        let (completion, prompt_tokens) =
            parse_reply(&raw).map_err(|detail| ChatError::Malformed {
                url: self.endpoint.clone(),
                detail,
                attempts: 1,
            })?;
        self.stats
            .prompt_tokens
            .fetch_add(prompt_tokens, Ordering::Relaxed);
        self.stats
            .completion_tokens
            .fetch_add(completion.completion_tokens, Ordering::Relaxed);
        self.store(&path, &raw)?;
        Ok(completion)
    }
}

impl ChatClient {
    /// Written whole or not at all (a kill mid-write leaves no half reply).
    fn store(&self, path: &std::path::Path, raw: &str) -> Result<(), ChatError> {
        let err = |e: std::io::Error| ChatError::Cache {
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, raw).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }

    /// POST with retries; the raw body of a 200 whose reply parses.
    fn send(&self, body: &str) -> Result<String, ChatError> {
        let attempts = self.options.max_retries + 1;
        let mut last = (String::new(), None);
        for attempt in 0..attempts {
            if attempt > 0 {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
            }
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            match self.attempt(body)? {
                Attempt::Done(raw) => return Ok(raw),
                Attempt::Retry {
                    detail,
                    status,
                    wait,
                } => {
                    last = (detail, status);
                    if attempt + 1 < attempts {
                        std::thread::sleep(wait.unwrap_or_else(|| self.backoff(body, attempt)));
                    }
                }
            }
        }
        let (detail, status) = last;
        Err(match status {
            Some(status) => ChatError::Status {
                url: self.endpoint.clone(),
                status,
                attempts,
                body: detail,
            },
            None if detail.starts_with("malformed") => ChatError::Malformed {
                url: self.endpoint.clone(),
                detail,
                attempts,
            },
            None => ChatError::Transport {
                url: self.endpoint.clone(),
                detail,
                attempts,
            },
        })
    }

    fn attempt(&self, body: &str) -> Result<Attempt, ChatError> {
        let mut request = self
            .agent
            .post(&self.endpoint)
            .header("content-type", "application/json");
        if let Some(key) = &self.key {
            request = request.header("authorization", &format!("Bearer {key}"));
        }
        let mut response = match request.send(body.as_bytes()) {
            Ok(r) => r,
            Err(e) => {
                return Ok(Attempt::Retry {
                    detail: self.scrub(&e.to_string()),
                    status: None,
                    wait: None,
                });
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(MAX_WAIT));
        let text = match response.body_mut().read_to_string() {
            Ok(t) => t,
            Err(e) => {
                return Ok(Attempt::Retry {
                    detail: self.scrub(&format!("reading the reply: {e}")),
                    status: None,
                    wait: None,
                });
            }
        };
        let snippet: String = self.scrub(&text).chars().take(300).collect();
        match status {
            200 => match parse_reply(&text) {
                Ok(_) => Ok(Attempt::Done(text)),
                Err(detail) => Ok(Attempt::Retry {
                    detail: format!("malformed reply: {detail}"),
                    status: None,
                    wait: None,
                }),
            },
            408 | 429 | 500..=599 => Ok(Attempt::Retry {
                detail: snippet,
                status: Some(status),
                wait: retry_after,
            }),
            _ => Err(ChatError::Refused {
                url: self.endpoint.clone(),
                status,
                body: snippet,
                key_env: self.options.api_key_env.clone(),
            }),
        }
    }

    /// Exponential backoff with jitter in [0.5, 1) of the step, from the request's hash.
    fn backoff(&self, body: &str, attempt: u32) -> Duration {
        let step = self
            .options
            .retry_base_ms
            .saturating_mul(1u64 << attempt.min(16));
        let jitter =
            0.5 + (xxh3_64_with_seed(body.as_bytes(), u64::from(attempt)) % 500) as f64 / 1000.0;
        Duration::from_millis((step as f64 * jitter) as u64).min(MAX_WAIT)
    }

    /// Text with the key removed (an endpoint may echo headers in an error).
    fn scrub(&self, text: &str) -> String {
        match &self.key {
            Some(key) => text.replace(key.as_str(), "<hidden>"),
            None => text.to_string(),
        }
    }
}

/// A chat completion body, parsed once: the assistant's text with the completion tokens of
/// its `usage`, and the prompt tokens (tokens 0 where `usage` is absent).
fn parse_reply(raw: &str) -> Result<(Completion, u64), String> {
    let value: Value = serde_json::from_str(raw).map_err(|e| format!("not JSON: {e}"))?;
    let text = value["choices"][0]["message"]["content"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "no choices[0].message.content".to_string())?;
    let tokens = |k: &str| value["usage"][k].as_u64().unwrap_or(0);
    let completion = Completion {
        text,
        completion_tokens: tokens("completion_tokens"),
    };
    Ok((completion, tokens("prompt_tokens")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use corpus_testkit::model::{MockModel, MockReply};

    fn options(url: String) -> ModelOptions {
        ModelOptions {
            url,
            model: "m".into(),
            api_key_env: "SWE_CORPUS_CLIENT_TEST_KEY_UNSET".into(),
            retry_base_ms: 1,
            max_retries: 2,
            timeout_secs: 5,
            ..ModelOptions::default()
        }
    }

    #[test]
    fn replies_are_cached_by_request_and_refusals_are_not_retried() {
        let mock = MockModel::start(Box::new(|r| {
            if r.last_user() == "refuse" {
                MockReply::Status {
                    status: 401,
                    retry_after: None,
                }
            } else if r.number == 1 {
                MockReply::Status {
                    status: 503,
                    retry_after: Some(0),
                }
            } else {
                MockReply::Text(format!("echo {}", r.last_user()))
            }
        }))
        .expect("mock");
        let dir = tempfile::tempdir().expect("tempdir");
        let client = ChatClient::new(&options(mock.url()), dir.path().to_path_buf());
        let ask = |text: &str, seed| {
            client
                .complete(&[Message::user(text)], seed)
                .map(|c| c.text)
        };
        assert_eq!(ask("a", 1).expect("reply"), "echo a");
        assert_eq!(mock.requests(), 2, "the 503 was retried once");
        assert_eq!(ask("a", 1).expect("cached"), "echo a");
        assert_eq!(mock.requests(), 2, "served from the cache");
        assert_eq!(ask("a", 2).expect("reply"), "echo a");
        assert_eq!(mock.requests(), 3, "another seed is another request");
        let err = ask("refuse", 1).expect_err("401").to_string();
        assert!(
            err.contains("HTTP 401") && err.contains("not retried"),
            "{err}"
        );
        assert_eq!(mock.requests(), 4);
        assert_eq!(client.stats.cache_hits.load(Ordering::Relaxed), 1);
        // A cached reply reports the tokens the endpoint generated for it.
        let fresh = client.complete(&[Message::user("b")], 1).expect("reply");
        let cached = client.complete(&[Message::user("b")], 1).expect("cached");
        assert!(fresh.completion_tokens > 0);
        assert_eq!(fresh, cached);
        assert!(format!("{client:?}").contains("endpoint"));
    }

    #[test]
    fn malformed_json_and_closed_connections_are_retried_then_clear_errors() {
        type Case = (fn() -> MockReply, &'static str);
        let cases: [Case; 2] = [
            (|| MockReply::Malformed, "malformed reply after 3 attempts"),
            (|| MockReply::Close, "after 3 attempts"),
        ];
        for (reply, expected) in cases {
            let mock = MockModel::start(Box::new(move |_| reply())).expect("mock");
            let dir = tempfile::tempdir().expect("tempdir");
            let client = ChatClient::new(&options(mock.url()), dir.path().to_path_buf());
            let err = client
                .complete(&[Message::user("x")], 1)
                .expect_err("fails")
                .to_string();
            assert!(err.contains(expected) && err.contains(&mock.url()), "{err}");
            assert_eq!(mock.requests(), 3);
            // Nothing half-written in the cache.
            assert_eq!(
                std::fs::read_dir(dir.path())
                    .map(|d| d.count())
                    .unwrap_or(0),
                0
            );
        }
    }
}
