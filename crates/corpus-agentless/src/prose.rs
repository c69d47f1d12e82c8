//! Cleaning human text before it reaches a sample: signature trailers, e-mail addresses and
//! GitHub handles go (docs/formats.md, commit packs; docs/conventions.md, secrets in prose).

use std::sync::OnceLock;

use regex::Regex;

/// What replaces an e-mail address.
pub const EMAIL_PLACEHOLDER: &str = "[email]";
/// What replaces a GitHub handle.
pub const HANDLE_PLACEHOLDER: &str = "[user]";

const TRAILERS: &[&str] = &[
    "signed-off-by",
    "co-authored-by",
    "reviewed-by",
    "acked-by",
    "tested-by",
    "reported-by",
    "suggested-by",
    "helped-by",
    "cc",
    "approved-by",
    "reviewed-on",
    "change-id",
];

fn email_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"[A-Za-z0-9._%+\-\[\]]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}").expect("static regex")
    })
}

fn handle_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // A mention: @ at a word start, then a GitHub login (letters, digits, inner dashes).
    RE.get_or_init(|| {
        Regex::new(r"(^|[\s(\[,;:])@([A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38})\b")
            .expect("static regex")
    })
}

fn html_comment_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?s)<!--.*?-->").expect("static regex"))
}

/// Remove trailer lines such as `Signed-off-by: Name <mail>`.
pub fn strip_trailers(text: &str) -> String {
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            let lower = line.trim_start().to_ascii_lowercase();
            !TRAILERS
                .iter()
                .any(|t| lower.starts_with(t) && lower[t.len()..].starts_with(':'))
        })
        .collect();
    kept.join("\n").trim_end().to_string()
}

/// Replace secrets, e-mail addresses and @handles by placeholders (prose only: code keeps
/// its bytes, and a PR whose code holds a secret is dropped by `curate`).
pub fn scrub_personal(text: &str) -> String {
    let text = corpus_core::secrets::scrub_secrets(text);
    let text = email_re().replace_all(&text, EMAIL_PLACEHOLDER);
    handle_re()
        .replace_all(&text, format!("${{1}}{HANDLE_PLACEHOLDER}"))
        .into_owned()
}

/// Problem text from PR prose: HTML comments (PR templates) removed, personal data scrubbed.
pub fn clean_problem_text(text: &str) -> String {
    let text = html_comment_re().replace_all(text, "");
    scrub_personal(strip_trailers(&text).trim())
}

/// A commit message for a commit pack: trailers, e-mails and handles removed.
pub fn clean_commit_message(message: &str) -> String {
    scrub_personal(&strip_trailers(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailers_emails_handles() {
        let msg = "Fix it\n\nThanks @bob-okafor and alice@example.org.\n\nSigned-off-by: Bob <bob@example.org>\nCo-authored-by: A <a@b.co>\n";
        assert_eq!(
            clean_commit_message(msg),
            "Fix it\n\nThanks [user] and [email]."
        );
    }

    #[test]
    fn secrets_in_prose_become_placeholders() {
        assert_eq!(
            clean_problem_text("It fails with key AKIAIOSFODNN7EXAMPLE set"),
            "It fails with key [secret] set"
        );
    }

    #[test]
    fn code_decorators_in_words_survive() {
        assert_eq!(scrub_personal("use x@y for z"), "use x@y for z");
        assert_eq!(scrub_personal("(@alice)"), "([user])");
    }

    #[test]
    fn html_comments_go() {
        assert_eq!(
            clean_problem_text("Title\n<!-- template -->\nBody"),
            "Title\n\nBody"
        );
    }
}
