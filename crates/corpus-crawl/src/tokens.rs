//! GitHub tokens: from `GITHUB_TOKENS` (comma-separated, rotated) or `GITHUB_TOKEN`. They go
//! to the HTTP client and nowhere else; [`Tokens::redact`] scrubs any text that is about to
//! be logged or stored.

/// The tokens of a crawl. `Debug` never shows them.
#[derive(Clone, Default)]
pub struct Tokens(Vec<String>);

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} hidden)", self.0.len())
    }
}

impl Tokens {
    pub fn new(tokens: Vec<String>) -> Self {
        let mut out: Vec<String> = Vec::new();
        for t in tokens {
            let t = t.trim().to_string();
            if !t.is_empty() && !out.contains(&t) {
                out.push(t);
            }
        }
        Self(out)
    }

    /// `GITHUB_TOKENS` (comma-separated) and `GITHUB_TOKEN`, in that order.
    pub fn from_env() -> Self {
        let mut all = Vec::new();
        if let Ok(list) = std::env::var("GITHUB_TOKENS") {
            all.extend(list.split(',').map(str::to_string));
        }
        if let Ok(one) = std::env::var("GITHUB_TOKEN") {
            all.push(one);
        }
        Self::new(all)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn values(&self) -> &[String] {
        &self.0
    }

    /// `text` with every token replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for t in &self.0 {
            out = out.replace(t.as_str(), "***");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_deduplicated_hidden_and_redacted() {
        let tokens = Tokens::new(vec![
            " ghp_a ".into(),
            "ghp_b".into(),
            "ghp_a".into(),
            "".into(),
        ]);
        assert_eq!(tokens.len(), 2);
        assert_eq!(format!("{tokens:?}"), "Tokens(2 hidden)");
        assert_eq!(tokens.redact("x ghp_a y ghp_b"), "x *** y ***");
    }
}
