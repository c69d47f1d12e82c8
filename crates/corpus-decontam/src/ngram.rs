//! Content-level matching (GPT-3 / lm-evaluation-harness style): word n-grams over normalized
//! text. A sample is contaminated by a benchmark instance when it contains a large share of the
//! instance's problem statement or patch n-grams, which catches copies and light edits but not
//! shared boilerplate (a licence header is a tiny share of any instance).

use std::collections::{HashMap, HashSet};

use xxhash_rust::xxh3::xxh3_64;

/// Lower-cased words: runs of letters and digits (any script).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// Hashes of the distinct n-grams of a text (none for a text shorter than n words: a few
/// words in common say nothing about contamination).
pub fn ngram_hashes(text: &str, n: usize) -> HashSet<u64> {
    let words = words(text);
    let mut out = HashSet::new();
    let n = n.max(1);
    for window in words.windows(n) {
        out.insert(xxh3_64(window.join(" ").as_bytes()));
    }
    out
}

/// Which field of an instance matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    ProblemStatement,
    Patch,
    TestPatch,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::ProblemStatement => "problem_statement",
            Field::Patch => "patch",
            Field::TestPatch => "test_patch",
        }
    }
}

/// A match: the instance, the field, and the share of that field's n-grams the sample holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub instance_id: String,
    pub field: Field,
    pub share: f64,
}

/// Index of a benchmark's n-grams.
pub struct NgramIndex {
    n: usize,
    instances: Vec<String>,
    /// (instance, field) → its number of distinct n-grams.
    sizes: HashMap<(usize, Field), usize>,
    postings: HashMap<u64, Vec<(usize, Field)>>,
}

impl NgramIndex {
    pub fn new(n: usize) -> Self {
        Self {
            n,
            instances: Vec::new(),
            sizes: HashMap::new(),
            postings: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.instances.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    pub fn add(&mut self, instance_id: &str, fields: &[(Field, &str)]) {
        let index = self.instances.len();
        self.instances.push(instance_id.to_string());
        for (field, text) in fields {
            let grams = ngram_hashes(text, self.n);
            if grams.is_empty() {
                continue;
            }
            self.sizes.insert((index, *field), grams.len());
            for g in grams {
                self.postings.entry(g).or_default().push((index, *field));
            }
        }
    }

    /// The strongest match of `text` at or above `threshold`, if any (ties: lowest instance id).
    pub fn best_match(&self, text: &str, threshold: f64) -> Option<Match> {
        let mut hits: HashMap<(usize, Field), usize> = HashMap::new();
        for g in ngram_hashes(text, self.n) {
            if let Some(list) = self.postings.get(&g) {
                for key in list {
                    *hits.entry(*key).or_default() += 1;
                }
            }
        }
        hits.into_iter()
            .filter_map(|(key, count)| {
                let size = *self.sizes.get(&key)?;
                let share = count as f64 / size as f64;
                (share >= threshold).then(|| Match {
                    instance_id: self.instances[key.0].clone(),
                    field: key.1,
                    share,
                })
            })
            .max_by(|a, b| {
                a.share
                    .total_cmp(&b.share)
                    .then_with(|| b.instance_id.cmp(&a.instance_id))
                    .then_with(|| b.field.cmp(&a.field))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_words() {
        assert_eq!(
            words("Hello, WORLD! ça_va 42"),
            vec!["hello", "world", "ça", "va", "42"]
        );
    }

    #[test]
    fn finds_copies_and_ignores_small_overlaps() {
        let mut index = NgramIndex::new(5);
        let problem = "the widget resize function truncates instead of rounding when the factor is a fraction";
        index.add("acme__w-1", &[(Field::ProblemStatement, problem)]);
        let copy = format!("Issue: {problem}. Please fix.");
        let m = index.best_match(&copy, 0.5).expect("a copy matches");
        assert_eq!(m.instance_id, "acme__w-1");
        assert!(m.share > 0.99);
        let unrelated = "the widget resize function is documented in the readme and nothing else";
        assert!(index.best_match(unrelated, 0.5).is_none());
    }

    #[test]
    fn short_fields_are_not_indexed() {
        let mut index = NgramIndex::new(13);
        index.add("x", &[(Field::Patch, "fix typo")]);
        assert!(index.best_match("fix typo", 0.5).is_none());
    }
}
