//! Packing documents into sequences of at most `sequence_length` tokens: sequential greedy in
//! shard order (a document goes into the open sequence if it fits, else it opens the next).
//! A document longer than the sequence length is dropped and counted, never split: a cut
//! SEARCH/REPLACE block is wrong data.

use std::path::Path;

use crate::document::{Document, for_each_document};
use crate::error::Result;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pack {
    pub documents: Vec<Document>,
    pub tokens: usize,
}

impl Pack {
    /// Token offsets where each document starts (first 0).
    pub fn starts(&self) -> Vec<usize> {
        let mut starts = Vec::with_capacity(self.documents.len());
        let mut at = 0;
        for d in &self.documents {
            starts.push(at);
            at += d.ids.len();
        }
        starts
    }
}

/// Feeds packs to `emit` as they fill; returns the documents dropped as too long.
pub struct Packer {
    sequence_length: usize,
    open: Pack,
    pub too_long: u64,
}

impl Packer {
    pub fn new(sequence_length: usize) -> Self {
        Self {
            sequence_length: sequence_length.max(1),
            open: Pack::default(),
            too_long: 0,
        }
    }

    pub fn push(&mut self, document: Document) -> Option<Pack> {
        if document.ids.len() > self.sequence_length {
            self.too_long += 1;
            return None;
        }
        let mut full = None;
        if self.open.tokens + document.ids.len() > self.sequence_length {
            full = Some(std::mem::take(&mut self.open));
        }
        self.open.tokens += document.ids.len();
        self.open.documents.push(document);
        full
    }

    pub fn finish(self) -> Option<Pack> {
        (!self.open.documents.is_empty()).then_some(self.open)
    }
}

/// What packing a shard took in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PackedCounts {
    /// Documents (and their tokens) that went into packs.
    pub documents: u64,
    pub tokens: u64,
    /// Documents left out as longer than the sequence length.
    pub too_long: u64,
}

/// Pack a shard's documents in order, handing each pack to `emit` as it fills.
pub fn pack_shard(
    shard: &Path,
    sequence_length: usize,
    mut emit: impl FnMut(Pack) -> Result<()>,
) -> Result<PackedCounts> {
    let mut packer = Packer::new(sequence_length);
    let mut counts = PackedCounts::default();
    for_each_document(shard, |doc| {
        if doc.ids.len() <= packer.sequence_length {
            counts.documents += 1;
            counts.tokens += doc.ids.len() as u64;
        }
        match packer.push(doc) {
            Some(pack) => emit(pack),
            None => Ok(()),
        }
    })?;
    counts.too_long = packer.too_long;
    if let Some(pack) = packer.finish() {
        emit(pack)?;
    }
    Ok(counts)
}

/// All packs of a list of documents (tests and small inputs).
pub fn pack_documents(documents: Vec<Document>, sequence_length: usize) -> (Vec<Pack>, u64) {
    let mut packer = Packer::new(sequence_length);
    let mut packs: Vec<Pack> = documents
        .into_iter()
        .filter_map(|d| packer.push(d))
        .collect();
    let too_long = packer.too_long;
    packs.extend(packer.finish());
    (packs, too_long)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(n: usize) -> Document {
        Document {
            ids: vec![7; n],
            prompt_tokens: 0,
        }
    }

    #[test]
    fn greedy_in_order_and_too_long_dropped() {
        let (packs, too_long) = pack_documents(vec![doc(3), doc(4), doc(2), doc(9), doc(5)], 8);
        let sizes: Vec<Vec<usize>> = packs
            .iter()
            .map(|p| p.documents.iter().map(|d| d.ids.len()).collect())
            .collect();
        assert_eq!(sizes, vec![vec![3, 4], vec![2, 5]]);
        assert_eq!(too_long, 1);
        assert_eq!(packs[1].starts(), vec![0, 2]);
    }
}
