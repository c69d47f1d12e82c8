//! Benchmark instance ids written in a text (`django__django-11099`,
//! `instance_ansible__ansible-<sha>-v<hash>`): a text that names an instance is about that
//! instance, whatever repository it comes from, so it is a match (a canary). Ids are matched
//! whole and case-insensitively: a longer id that only begins like a known one is not one.

/// The characters an instance id is made of.
fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Where SWE-bench Pro's ids carry a prefix, text often omits it.
const PREFIXES: &[&str] = &["instance_"];

#[derive(Debug, Default, Clone)]
pub struct InstanceIds {
    /// Lower-case id → the id as the benchmark writes it.
    ids: std::collections::HashMap<String, String>,
}

impl InstanceIds {
    pub fn new() -> Self {
        Self::default()
    }

    /// The instance ids the registry ships for the recipe's chosen families.
    pub fn from_options(options: &corpus_core::recipe::DecontamOptions) -> Self {
        let mut ids = Self::new();
        for family in options
            .families()
            .into_iter()
            .filter_map(corpus_core::benchmark::family)
        {
            for id in family.instances() {
                ids.add(id);
            }
        }
        ids
    }

    /// Add an id; ids without `__` cannot be told apart from ordinary words and are ignored.
    pub fn add(&mut self, id: &str) {
        if !id.contains("__") {
            return;
        }
        self.ids.insert(id.to_ascii_lowercase(), id.to_string());
        for prefix in PREFIXES {
            if let Some(bare) = id.strip_prefix(prefix) {
                self.ids.insert(bare.to_ascii_lowercase(), id.to_string());
            }
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The first known instance id written in `text`, as the benchmark writes it.
    pub fn find_in(&self, text: &str) -> Option<&str> {
        if self.ids.is_empty() {
            return None;
        }
        let bytes = text.as_bytes();
        let mut from = 0;
        while let Some(at) = memchr::memmem::find(&bytes[from..], b"__") {
            let at = from + at;
            let mut start = at;
            while start > 0 && is_id_byte(bytes[start - 1]) {
                start -= 1;
            }
            let mut end = at + 2;
            while end < bytes.len() && is_id_byte(bytes[end]) {
                end += 1;
            }
            // Punctuation that ends a sentence or a path is not part of the id.
            let mut trimmed = end;
            while trimmed > at + 2 && matches!(bytes[trimmed - 1], b'.' | b'-' | b'_') {
                trimmed -= 1;
            }
            // Only ASCII bytes were taken, so these are character boundaries.
            if let Some(candidate) = text.get(start..trimmed)
                && let Some(id) = self.ids.get(&candidate.to_ascii_lowercase())
            {
                return Some(id);
            }
            from = end.max(at + 2);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> InstanceIds {
        let mut ids = InstanceIds::new();
        ids.add("django__django-11099");
        ids.add("instance_NodeBB__NodeBB-00c70ce7b0541cfc94afe567921d7668cdc8f4ac-vnan");
        ids.add("plain-word");
        ids
    }

    #[test]
    fn finds_whole_ids_in_any_case_and_punctuation() {
        let ids = ids();
        assert_eq!(
            ids.find_in("Fixes the bug of Django__Django-11099."),
            Some("django__django-11099")
        );
        assert_eq!(
            ids.find_in("(see `django__django-11099`)"),
            Some("django__django-11099")
        );
        assert_eq!(
            ids.find_in("run nodebb__nodebb-00c70ce7b0541cfc94afe567921d7668cdc8f4ac-vnan now"),
            Some("instance_NodeBB__NodeBB-00c70ce7b0541cfc94afe567921d7668cdc8f4ac-vnan")
        );
    }

    #[test]
    fn longer_ids_and_plain_words_are_not_matches() {
        let ids = ids();
        assert_eq!(
            ids.find_in("django__django-110990 and django__django-1109"),
            None
        );
        assert_eq!(
            ids.find_in("a plain-word here; __init__ and self.__dict__"),
            None
        );
        assert_eq!(ids.find_in(""), None);
        assert_eq!(InstanceIds::new().find_in("django__django-11099"), None);
        assert_eq!(ids.len(), 3);
    }
}
