//! Credential detection. Patterns for the common providers plus a high-entropy check on
//! values assigned to secret-looking names. A match reports the kind of secret and where it
//! is (line), never the secret itself, so nothing found reaches a log.

use std::sync::OnceLock;

use regex::Regex;

/// A detected secret: what kind, on which line of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: &'static str,
    pub line: usize,
}

struct Pattern {
    kind: &'static str,
    re: Regex,
}

fn patterns() -> &'static [Pattern] {
    static P: OnceLock<Vec<Pattern>> = OnceLock::new();
    P.get_or_init(|| {
        let p = |kind, re: &str| Pattern {
            kind,
            re: Regex::new(re).expect("static regex"),
        };
        vec![
            p(
                "aws_access_key_id",
                r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",
            ),
            p(
                "private_key",
                r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY( BLOCK)?-----",
            ),
            p(
                "github_token",
                r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{60,}\b",
            ),
            p("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
            p("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}\b"),
            p("stripe_key", r"\b(?:sk|rk)_live_[0-9A-Za-z]{20,}\b"),
            p("openai_key", r"\bsk-(?:proj-)?[A-Za-z0-9_\-]{32,}\b"),
            p("huggingface_token", r"\bhf_[A-Za-z0-9]{34,}\b"),
            p(
                "jwt",
                r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\b",
            ),
        ]
    })
}

fn assignment_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // name = "value" / name: 'value' where the name says secret.
    RE.get_or_init(|| {
        Regex::new(
            r#"(?i)(?:secret|passw(?:or)?d|passwd|api[_-]?key|access[_-]?key|auth[_-]?token|private[_-]?key|client[_-]?secret)[A-Za-z0-9_\-]*["']?\s*[:=,]\s*["']([^"'\s]{16,})["']"#,
        )
        .expect("static regex")
    })
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut n = 0usize;
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&k| {
            let p = k as f64 / n as f64;
            -p * p.log2()
        })
        .sum()
}

/// What replaces a secret in prose.
pub const SECRET_PLACEHOLDER: &str = "[secret]";

/// `text` with every detected secret replaced by [`SECRET_PLACEHOLDER`] (for prose: issue and
/// PR text, commit messages; code keeps its bytes and its PR is dropped instead).
pub fn scrub_secrets(text: &str) -> String {
    let mut out = text.to_string();
    for p in patterns() {
        out = p.re.replace_all(&out, SECRET_PLACEHOLDER).into_owned();
    }
    let mut result = String::with_capacity(out.len());
    let mut last = 0;
    for caps in assignment_re().captures_iter(&out) {
        let Some(value) = caps.get(1) else { continue };
        let v = value.as_str();
        let placeholder = v.contains("${")
            || v.starts_with('<')
            || v.chars().all(|c| c == 'x' || c == 'X' || c == '*');
        if placeholder || entropy(v) < 3.5 {
            continue;
        }
        result.push_str(&out[last..value.start()]);
        result.push_str(SECRET_PLACEHOLDER);
        last = value.end();
    }
    result.push_str(&out[last..]);
    result
}

/// Every secret found in `text`.
pub fn find_secrets(text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for p in patterns() {
            if p.re.is_match(line) {
                out.push(Finding {
                    kind: p.kind,
                    line: i + 1,
                });
            }
        }
        for caps in assignment_re().captures_iter(line) {
            let value = caps.get(1).map(|m| m.as_str()).unwrap_or_default();
            // Placeholders and variable references are not secrets.
            let placeholder = value.contains("${")
                || value.starts_with('<')
                || value.chars().all(|c| c == 'x' || c == 'X' || c == '*');
            if !placeholder && entropy(value) >= 3.5 {
                out.push(Finding {
                    kind: "high_entropy_assignment",
                    line: i + 1,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_provider_keys_and_assigned_secrets() {
        let text = "AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE'\nAWS_SECRET_ACCESS_KEY = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\n-----BEGIN RSA PRIVATE KEY-----\ntoken = ghp_abcdefghijklmnopqrstuvwxyz0123456789\n";
        let kinds: Vec<&str> = find_secrets(text).iter().map(|f| f.kind).collect();
        assert!(kinds.contains(&"aws_access_key_id"));
        assert!(kinds.contains(&"high_entropy_assignment"));
        assert!(kinds.contains(&"private_key"));
        assert!(kinds.contains(&"github_token"));
    }

    #[test]
    fn scrubbing_replaces_only_the_secret() {
        let text = "Use key AKIAIOSFODNN7EXAMPLE and password = \"s3cr3t-Pa55w0rd-Xy9\" please";
        assert_eq!(
            scrub_secrets(text),
            "Use key [secret] and password = \"[secret]\" please"
        );
        assert!(find_secrets(&scrub_secrets(text)).is_empty());
    }

    #[test]
    fn ordinary_code_is_clean() {
        let text = "password = input('Password: ')\nAPI_KEY = os.environ['API_KEY']\nsecret = \"xxxxxxxxxxxxxxxxxxxx\"\nkey = 'short'\n";
        assert!(find_secrets(text).is_empty(), "{:?}", find_secrets(text));
    }
}
