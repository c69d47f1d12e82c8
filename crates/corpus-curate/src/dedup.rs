//! Exact deduplication of pull requests (docs/conventions.md): the key of a PR is a hash of its
//! normalized problem text and its normalized diff (only the changed lines, so index lines,
//! hunk offsets and context do not matter). A cluster keeps the PR with the smallest
//! (merged_at, repo, pr_number); the others name it as their survivor ([`crate::dedup_barrier`]).

use xxhash_rust::xxh3::xxh3_128;

/// Lower-cased words of the problem text.
fn normalize_text(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The changed lines of a diff, with the file each belongs to, whitespace-trimmed.
fn normalize_diff(diff: &str) -> String {
    let mut out = String::new();
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("diff --git ") {
            out.push_str(path);
            out.push('\n');
        } else if (line.starts_with('+') && !line.starts_with("+++"))
            || (line.starts_with('-') && !line.starts_with("---"))
        {
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

/// What dedup compares of a PR: its normalized problem text and changed lines.
pub fn dedup_text(problem: &str, diff: &str) -> String {
    let mut text = normalize_text(problem);
    text.push('\0');
    text.push_str(&normalize_diff(diff));
    text
}

/// The content hash of a PR.
pub fn content_key(problem: &str, diff: &str) -> u128 {
    xxh3_128(dedup_text(problem, diff).as_bytes())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    // The in-memory reference the spilling barrier (dedup_barrier) is tested against.
    /// A PR as dedup sees it.
    #[derive(Debug, Clone)]
    pub(crate) struct PrKey {
        pub repo: String,
        pub pr_number: i64,
        pub merged_at: i64,
        pub content: u128,
    }

    /// For every PR that duplicates another: (repo, pr) → the survivor's (repo, pr).
    pub(crate) fn duplicates(prs: &[PrKey]) -> HashMap<(String, i64), (String, i64)> {
        let mut best: HashMap<u128, &PrKey> = HashMap::new();
        for pr in prs {
            let slot = best.entry(pr.content).or_insert(pr);
            if (pr.merged_at, &pr.repo, pr.pr_number) < (slot.merged_at, &slot.repo, slot.pr_number)
            {
                *slot = pr;
            }
        }
        let mut out = HashMap::new();
        for pr in prs {
            if let Some(survivor) = best.get(&pr.content)
                && (survivor.repo.as_str(), survivor.pr_number) != (pr.repo.as_str(), pr.pr_number)
            {
                out.insert(
                    (pr.repo.clone(), pr.pr_number),
                    (survivor.repo.clone(), survivor.pr_number),
                );
            }
        }
        out
    }

    fn pr(repo: &str, n: i64, at: i64, problem: &str, diff: &str) -> PrKey {
        PrKey {
            repo: repo.into(),
            pr_number: n,
            merged_at: at,
            content: content_key(problem, diff),
        }
    }

    #[test]
    fn forks_collapse_to_the_earliest() {
        let diff = "diff --git a/x b/x\nindex 1..2\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";
        let moved = "diff --git a/x b/x\nindex 3..4\n--- a/x\n+++ b/x\n@@ -7 +7 @@ ctx\n-a\n+b\n";
        let prs = vec![
            pr("up/w", 1, 100, "Fix it", diff),
            pr("fork/w", 1, 100, "fix  IT", moved),
            pr("other/z", 2, 50, "Other", "diff --git a/y b/y\n-c\n+d\n"),
        ];
        let dups = duplicates(&prs);
        assert_eq!(dups.len(), 1);
        assert_eq!(
            dups[&("up/w".to_string(), 1)],
            ("fork/w".to_string(), 1),
            "same time: repo order decides"
        );
    }
}
