//! Gold-patch matching by changed lines: a benchmark's fix can reach a corpus outside its
//! repository (a fork the API does not call one, a vendored copy, a cherry-pick). A PR whose
//! normalized changed lines equal an instance's gold patch, or hold most of a gold patch of
//! at least a few lines, is that instance's fix.
//!
//! Normalizing: the `+`/`-` lines of the diff's hunks, whitespace runs collapsed, file paths
//! and context ignored; lines with fewer than [`MIN_LINE_CHARS`] visible characters (braces,
//! `else:`, blank lines) say nothing about which fix it is and are left out, and so are the
//! lines of documentation and packaging files: sibling projects make the same changes to
//! those (a code of conduct, a classifier list, a `setup.cfg` section) without sharing a fix.

use std::collections::{HashMap, HashSet};

/// Visible characters a changed line needs to count.
pub const MIN_LINE_CHARS: usize = 8;

/// Extensions and names of files whose changes are prose or packaging, not code.
const NOT_CODE_EXTENSIONS: &[&str] = &[
    "rst", "md", "txt", "cfg", "ini", "toml", "yml", "yaml", "json", "lock", "in", "csv",
];
const NOT_CODE_NAMES: &[&str] = &[
    "license",
    "licence",
    "authors",
    "changes",
    "changelog",
    "contributing",
    "notice",
    "codeowners",
    "makefile",
    ".gitignore",
    ".gitattributes",
    ".gitmodules",
    "setup.py",
];
/// Folders whose files are documentation or repository tooling.
const NOT_CODE_FOLDERS: &[&str] = &[".github/", "docs/", "doc/"];

/// A release's version bump (`__version__ = "2.3.1"`): sibling projects released together
/// make the same one.
fn is_version_line(line: &[u8]) -> bool {
    let lower = line.to_ascii_lowercase();
    ["__version__", "version =", "version=", "version:"]
        .iter()
        .any(|p| lower.starts_with(p.as_bytes()))
}

/// Whether the changes of this path count: code, not documentation or packaging.
fn counts(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if NOT_CODE_NAMES.contains(&name.as_str())
        || NOT_CODE_FOLDERS.iter().any(|f| path.starts_with(f))
    {
        return false;
    }
    match name.rsplit_once('.') {
        Some((_, ext)) => !NOT_CODE_EXTENSIONS.contains(&ext),
        None => true,
    }
}

/// The file sections of a unified diff that change code (documentation and packaging left
/// out): what identifies a fix, for n-gram matching too.
pub fn code_part(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len());
    let mut code = true;
    for line in diff.split_inclusive('\n') {
        if let Some(paths) = line.trim_end().strip_prefix("diff --git ") {
            code = paths
                .rsplit_once(" b/")
                .is_none_or(|(_, path)| counts(path));
        }
        if code {
            out.push_str(line);
        }
    }
    out
}

/// The distinct normalized changed lines of a unified diff's code files, as hashes (sign
/// included).
pub fn changed_lines(diff: &str) -> HashSet<u64> {
    let mut out = HashSet::new();
    let mut in_hunk = false;
    let mut code = true;
    for line in diff.lines() {
        if let Some(paths) = line.strip_prefix("diff --git ") {
            in_hunk = false;
            // `a/PATH b/PATH`: the new path decides.
            code = paths
                .rsplit_once(" b/")
                .is_none_or(|(_, path)| counts(path));
            continue;
        }
        if line.starts_with("@@") {
            in_hunk = true;
            continue;
        }
        if !in_hunk || !code {
            continue;
        }
        let (sign, body) = match line.as_bytes().first() {
            Some(b'+') => (b'+', &line[1..]),
            Some(b'-') => (b'-', &line[1..]),
            _ => continue,
        };
        let mut normalized = Vec::with_capacity(body.len() + 1);
        normalized.push(sign);
        let mut visible = 0;
        for word in body.split_whitespace() {
            if normalized.len() > 1 {
                normalized.push(b' ');
            }
            normalized.extend_from_slice(word.as_bytes());
            visible += word.chars().count();
        }
        if visible >= MIN_LINE_CHARS && !is_version_line(&normalized[1..]) {
            out.insert(xxhash_rust::xxh3::xxh3_64(&normalized));
        }
    }
    out
}

/// Lines a registry entry keeps of a gold patch: the smallest hashes, a bottom-k sample whose
/// share found in a PR estimates the share of the whole patch found there.
pub const SKETCH_LINES: usize = 8;

/// A gold patch as the registry ships it: how many countable lines it has, the signature of
/// the whole set (for equality), and its [`SKETCH_LINES`] smallest line hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldSketch {
    pub lines: usize,
    pub signature: u64,
    pub sketch: Vec<u64>,
}

impl GoldSketch {
    /// The sketch of a patch; None when no line counts.
    pub fn of(patch: &str) -> Option<Self> {
        let lines = changed_lines(patch);
        if lines.is_empty() {
            return None;
        }
        let mut sorted: Vec<u64> = lines.iter().copied().collect();
        sorted.sort_unstable();
        Some(Self {
            lines: lines.len(),
            signature: set_signature(&lines),
            sketch: sorted.into_iter().take(SKETCH_LINES).collect(),
        })
    }

    /// `LINES SIGNATURE H1 H2 ...` (hexadecimal), the registry's `gold` field.
    pub fn to_field(&self) -> String {
        let mut out = format!("{} {:016x}", self.lines, self.signature);
        for h in &self.sketch {
            out.push_str(&format!(" {h:016x}"));
        }
        out
    }

    pub fn parse(field: &str) -> Option<Self> {
        let mut parts = field.split_whitespace();
        let lines = parts.next()?.parse().ok()?;
        let signature = u64::from_str_radix(parts.next()?, 16).ok()?;
        let sketch = parts
            .map(|h| u64::from_str_radix(h, 16).ok())
            .collect::<Option<Vec<u64>>>()?;
        (!sketch.is_empty()).then_some(Self {
            lines,
            signature,
            sketch,
        })
    }
}

/// The gold patches of benchmark instances, by their changed lines.
#[derive(Debug, Default)]
pub struct GoldPatches {
    ids: Vec<String>,
    /// How many indexed lines stand for each gold patch (all, or its sketch's).
    sizes: Vec<usize>,
    /// The hash of each gold patch's sorted line set → instance index.
    exact: HashMap<u64, usize>,
    /// Changed line → the instances whose gold patch has it.
    by_line: HashMap<u64, Vec<u32>>,
    min_lines: usize,
    containment: f64,
}

/// How a PR matched a gold patch.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchMatch {
    pub instance_id: String,
    /// Share of the gold patch's changed lines the PR holds (1.0 for an exact match).
    pub share: f64,
    pub exact: bool,
}

fn set_signature(lines: &HashSet<u64>) -> u64 {
    let mut sorted: Vec<u64> = lines.iter().copied().collect();
    sorted.sort_unstable();
    let bytes: Vec<u8> = sorted.iter().flat_map(|h| h.to_le_bytes()).collect();
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

impl GoldPatches {
    /// Containment needs a gold patch of at least `min_lines` changed lines, of which the
    /// PR holds at least `containment` (0 to 1).
    pub fn new(min_lines: usize, containment: f64) -> Self {
        Self {
            min_lines: min_lines.max(1),
            containment,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Add an instance's gold patch; a patch with no countable line is not indexed, and one
    /// with a single line matches only by containment (never, below `min_lines`).
    pub fn add(&mut self, instance_id: &str, patch: &str) {
        let lines = changed_lines(patch);
        if lines.is_empty() {
            return;
        }
        let signature = set_signature(&lines);
        let count = lines.len();
        self.insert(instance_id, count, signature, lines.into_iter().collect());
    }

    /// Add an instance's gold patch as the registry ships it: its sketch stands for it, and
    /// the share of the sketch a PR holds estimates the share of the patch.
    pub fn add_sketch(&mut self, instance_id: &str, sketch: &GoldSketch) {
        self.insert(
            instance_id,
            sketch.lines,
            sketch.signature,
            sketch.sketch.clone(),
        );
    }

    fn insert(&mut self, instance_id: &str, whole: usize, signature: u64, indexed: Vec<u64>) {
        let index = self.ids.len();
        self.ids.push(instance_id.to_string());
        self.sizes.push(indexed.len());
        // One equal line is too little to name a fix.
        if whole >= 2 {
            self.exact.entry(signature).or_insert(index);
        }
        if whole >= self.min_lines {
            for line in indexed {
                self.by_line.entry(line).or_default().push(index as u32);
            }
        }
    }

    /// The gold patch a PR's diff is, or holds most of; the highest share wins, then the
    /// first instance added.
    pub fn best_match(&self, diff: &str) -> Option<PatchMatch> {
        if self.ids.is_empty() {
            return None;
        }
        let lines = changed_lines(diff);
        if lines.is_empty() {
            return None;
        }
        if let Some(&index) = self.exact.get(&set_signature(&lines)) {
            return Some(PatchMatch {
                instance_id: self.ids[index].clone(),
                share: 1.0,
                exact: true,
            });
        }
        let mut hits: HashMap<u32, usize> = HashMap::new();
        for line in &lines {
            for &index in self.by_line.get(line).into_iter().flatten() {
                *hits.entry(index).or_default() += 1;
            }
        }
        hits.into_iter()
            .map(|(index, n)| (index as usize, n as f64 / self.sizes[index as usize] as f64))
            .filter(|&(_, share)| share >= self.containment)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(index, share)| PatchMatch {
                instance_id: self.ids[index].clone(),
                share,
                exact: false,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOLD: &str = "diff --git a/src/parse.py b/src/parse.py\n--- a/src/parse.py\n+++ b/src/parse.py\n@@ -1,4 +1,5 @@\n def parse(text):\n-    return text[0]\n+    if not text:\n+        raise ValueError(\"empty widget spec\")\n+    return text[0].strip()\n }\n";

    #[test]
    fn normalizes_whitespace_and_ignores_paths_context_and_short_lines() {
        let moved = "diff --git a/vendor/p.py b/vendor/p.py\n@@ -10,3 +10,4 @@ class X:\n context line\n-    return   text[0]\n+\tif not text:\n+        raise ValueError(\"empty widget spec\")\n+    return text[0].strip()\n+}\n";
        assert_eq!(changed_lines(GOLD), changed_lines(moved));
        assert_eq!(
            changed_lines(GOLD).len(),
            4,
            "the brace is too short to count"
        );
        assert!(
            changed_lines("--- a/x\n+++ b/x\n").is_empty(),
            "headers are not changes"
        );
        let docs = "diff --git a/docs/index.rst b/docs/index.rst\n@@ -1 +1 @@\n-Install it with pip today\n+Install it with uv today\ndiff --git a/setup.py b/setup.py\n@@ -1 +1 @@\n+    'Programming Language :: Python :: 3.5',\n";
        assert!(
            changed_lines(docs).is_empty(),
            "documentation and packaging do not count"
        );
        let mixed = format!("{docs}{GOLD}");
        assert_eq!(
            code_part(&mixed),
            GOLD,
            "only the code file's section stays"
        );
        let bump = "diff --git a/src/x/__init__.py b/src/x/__init__.py\n@@ -1 +1 @@\n-__version__ = \"2.3.1.dev\"\n+__version__ = \"2.3.1\"\n";
        assert!(changed_lines(bump).is_empty(), "version bumps do not count");
    }

    #[test]
    fn the_registry_gold_lines_parse_and_name_its_instances() {
        for family in corpus_core::benchmark::families() {
            let instances = family.instances();
            for entry in &family.gold {
                let sketch = GoldSketch::parse(&entry.lines);
                assert!(sketch.is_some(), "{}: {}", family.family, entry.instance);
                assert!(
                    instances.contains(entry.instance.as_str()),
                    "{}: {} is not an instance of the family",
                    family.family,
                    entry.instance
                );
            }
        }
    }

    #[test]
    fn sketches_round_trip_and_match_like_the_whole_patch() {
        let sketch = GoldSketch::of(GOLD).expect("countable lines");
        assert_eq!(sketch.lines, 4);
        assert_eq!(GoldSketch::parse(&sketch.to_field()), Some(sketch.clone()));
        assert_eq!(GoldSketch::parse("3 zz"), None);
        let mut gold = GoldPatches::new(3, 0.8);
        gold.add_sketch("acme__widgets-1", &sketch);
        assert!(gold.best_match(GOLD).is_some_and(|m| m.exact));
        let larger = format!(
            "{GOLD}diff --git a/b.py b/b.py\n@@ -1 +1 @@\n+print(\"another change entirely\")\n"
        );
        assert!(
            gold.best_match(&larger)
                .is_some_and(|m| !m.exact && m.share == 1.0)
        );
    }

    #[test]
    fn exact_and_contained_matches_and_no_match_for_small_overlaps() {
        let mut gold = GoldPatches::new(3, 0.8);
        gold.add("acme__widgets-1", GOLD);
        gold.add(
            "acme__widgets-2",
            "diff --git a/a b/a\n@@ -1 +1 @@\n-import os.path as p\n+import pathlib as p\n",
        );
        let exact = gold.best_match(GOLD).expect("exact");
        assert!(exact.exact && exact.instance_id == "acme__widgets-1");

        let larger = format!(
            "{GOLD}diff --git a/b.py b/b.py\n@@ -1 +1,2 @@\n+print(\"another change entirely\")\n+print(\"and one more change\")\n"
        );
        let contained = gold.best_match(&larger).expect("contained");
        assert!(!contained.exact && contained.share == 1.0);

        // Two lines of a two-line gold patch: too small for containment, and not equal.
        let with_extra = "diff --git a/a b/a\n@@ -1 +1,2 @@\n-import os.path as p\n+import pathlib as p\n+import collections.abc\n";
        assert_eq!(gold.best_match(with_extra), None);
        // One line of four: below the threshold.
        let partial = "diff --git a/x b/x\n@@ -1 +1 @@\n-    return text[0]\n+    return text[1]\n";
        assert_eq!(gold.best_match(partial), None);
        assert_eq!(GoldPatches::default().best_match(GOLD), None);
    }
}
