//! Which blobs of a repository may hold a plain string, so that `grep -r WORD` reads only
//! those. The agent searches for words of the problem text, and a first search of each word
//! otherwise reads the whole base tree; neighbouring PRs share most of their blobs.
//!
//! Each blob gets a bit set of the (hashed) three-byte sequences it holds, built once. A blob
//! missing one of a term's three-byte sequences cannot hold the term. The sets only narrow the
//! files a search reads; the search itself decides every line, so no answer changes. Bounded:
//! past its budget the index starts over.

use std::sync::{Arc, Mutex};

use git2::Oid;
use rustc_hash::FxHashMap;

/// Bits of a blob's set: about four per byte, a power of two within these bounds.
const FEWEST_BITS: usize = 1 << 10;
const MOST_BITS: usize = 1 << 16;

pub struct TrigramIndex {
    inner: Mutex<Inner>,
    /// Bytes of sets kept at most.
    budget: usize,
}

#[derive(Default)]
struct Inner {
    sets: FxHashMap<Oid, Box<[u64]>>,
    bytes: usize,
}

/// Whether a `grep` pattern is a plain string the index answers: three word characters or
/// more (in a basic or an extended regular expression, and with `-F`, each stands for itself).
pub fn is_plain_word(pattern: &str) -> bool {
    pattern.len() >= 3
        && pattern
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The bit of a three-byte sequence in a set of `bits` bits (a power of two).
fn bit_of(trigram: u32, bits: usize) -> usize {
    (trigram.wrapping_mul(0x9E37_79B1) >> 8) as usize & (bits - 1)
}

fn set_of(content: &[u8]) -> Box<[u64]> {
    let bits = (content.len() * 4)
        .next_power_of_two()
        .clamp(FEWEST_BITS, MOST_BITS);
    let mut set = vec![0u64; bits / 64].into_boxed_slice();
    let mut trigram = 0u32;
    for (i, &b) in content.iter().enumerate() {
        trigram = (trigram << 8 | b as u32) & 0x00ff_ffff;
        if i >= 2 {
            let bit = bit_of(trigram, bits);
            set[bit / 64] |= 1 << (bit % 64);
        }
    }
    set
}

fn may_hold_in(set: &[u64], term: &[u8]) -> bool {
    let bits = set.len() * 64;
    term.windows(3).all(|w| {
        let bit = bit_of(u32::from_be_bytes([0, w[0], w[1], w[2]]), bits);
        set[bit / 64] & (1 << (bit % 64)) != 0
    })
}

impl TrigramIndex {
    /// An index keeping at most about `budget` bytes.
    pub fn new(budget: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            budget,
        }
    }

    /// For each file of `blobs` (its blob, None for one without: an edited file), whether
    /// it may hold `term` (a [`is_plain_word`] string); `read` gives the content of a blob not
    /// indexed yet (None: read by the search).
    pub fn may_hold(
        &self,
        term: &str,
        blobs: impl Iterator<Item = Option<Oid>>,
        read: impl Fn(Oid) -> Option<Arc<[u8]>>,
    ) -> Vec<bool> {
        let Ok(mut inner) = self.inner.lock() else {
            return blobs.map(|_| true).collect();
        };
        if inner.bytes > self.budget {
            *inner = Inner::default();
        }
        let term = term.as_bytes();
        blobs
            .map(|blob| {
                let Some(id) = blob else {
                    return true;
                };
                if let Some(set) = inner.sets.get(&id) {
                    return may_hold_in(set, term);
                }
                let Some(content) = read(id) else {
                    return true;
                };
                let set = set_of(&content);
                let holds = may_hold_in(&set, term);
                inner.bytes += set.len() * 8 + 64;
                inner.sets.insert(id, set);
                holds
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).expect("oid")
    }

    /// The index's answer against a plain substring search, for every blob and term: never a
    /// blob left out that holds the term, and few read that do not.
    #[test]
    fn a_blob_holding_the_term_is_never_left_out() {
        let mut all: Vec<Vec<u8>> = vec![
            b"def parse_size(text):\n    return int(text)\n".to_vec(),
            b"PARSE = 1\nsize\tparse\n".to_vec(),
            b"\x00\x01binary parse_\xff\xfesize".to_vec(),
            b"".to_vec(),
            b"ab".to_vec(),
        ];
        // Larger files of six-letter words, with sets of every size.
        let word = |i: u32| -> String {
            let mut x = i.wrapping_mul(2_654_435_761);
            (0..6)
                .map(|_| {
                    x = x.rotate_left(5) ^ 0x9E37_79B9;
                    char::from(b'a' + (x % 26) as u8)
                })
                .collect()
        };
        for n in 0..6u32 {
            let text: String = (0..(40 << n)).map(|i| word(i * 3) + " ").collect();
            all.push(text.into_bytes());
        }
        let ids: Vec<Oid> = (0..all.len() as u8).map(oid).collect();
        let index = TrigramIndex::new(1 << 24);
        let read = |id: Oid| {
            let n = ids.iter().position(|&i| i == id)?;
            Some(Arc::from(all[n].as_slice()))
        };
        let mut terms: Vec<String> = ["parse", "parse_size", "size", "arse_s", "PARSE", "ab"]
            .map(String::from)
            .to_vec();
        // Words some files hold, and words none does.
        terms.extend((0..400u32).map(|i| word(i * 7)));
        let (mut read_without, mut without) = (0, 0);
        for term in &terms {
            let got = index.may_hold(term, ids.iter().map(|&id| Some(id)), read);
            for (n, content) in all.iter().enumerate() {
                let holds = memchr::memmem::find(content, term.as_bytes()).is_some();
                assert!(got[n] || !holds, "{term} in blob {n}");
                if !holds {
                    without += 1;
                    read_without += got[n] as usize;
                }
            }
        }
        assert!(
            read_without * 10 < without,
            "{read_without} of {without} read in vain"
        );
    }

    #[test]
    fn an_unreadable_blob_is_read_by_the_search_and_the_budget_starts_over() {
        let index = TrigramIndex::new(64);
        let got = index.may_hold(
            "word",
            [Some(oid(1)), Some(oid(2)), None].into_iter(),
            |id| (id == oid(1)).then(|| Arc::from(&b"some text and more here"[..])),
        );
        assert_eq!(
            got,
            vec![false, true, true],
            "unreadable and blob-less files are read"
        );
        assert!(index.inner.lock().expect("lock").bytes > 64);
        let got = index.may_hold("none", [Some(oid(1))].into_iter(), |_| {
            Some(Arc::from(&b"abc none"[..]))
        });
        assert_eq!(got, vec![true], "indexed again after starting over");
        assert_eq!(index.inner.lock().expect("lock").sets.len(), 1);
    }

    #[test]
    fn plain_words_only() {
        assert!(is_plain_word("parse_size2"));
        assert!(!is_plain_word("ab"));
        assert!(!is_plain_word("a.b"));
        assert!(!is_plain_word("a\\|b"));
        assert!(!is_plain_word("caf\u{e9}"));
    }
}
