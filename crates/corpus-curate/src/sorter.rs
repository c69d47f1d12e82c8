//! An external sorter for barrier stages (dedup): byte records are buffered up to a memory
//! budget, sorted and spilled as runs to disk, then merged. Below the budget nothing touches
//! the disk. Records compare as bytes, so callers encode keys big-endian
//! ([`push_i64_key`], [`push_str_key`]).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use corpus_core::error::{IoContext, Result};

/// Bytes a buffered record costs besides its own bytes (its offset and length).
const RECORD_OVERHEAD: usize = 16;

/// Sorts byte records within a memory budget, spilling sorted runs under `dir`.
pub struct ExternalSorter {
    dir: PathBuf,
    budget: usize,
    data: Vec<u8>,
    spans: Vec<(usize, usize)>,
    runs: Vec<PathBuf>,
    peak: usize,
}

impl ExternalSorter {
    /// `dir` is created when the first run spills; `budget` is in bytes (at least one record
    /// is always held).
    pub fn new(dir: &Path, budget: usize) -> Self {
        Self {
            dir: dir.to_path_buf(),
            budget,
            data: Vec::new(),
            spans: Vec::new(),
            runs: Vec::new(),
            peak: 0,
        }
    }

    pub fn push(&mut self, record: &[u8]) -> Result<()> {
        let held = self.data.len() + self.spans.len() * RECORD_OVERHEAD;
        if !self.spans.is_empty() && held + record.len() + RECORD_OVERHEAD > self.budget {
            self.spill()?;
        }
        // Grow by hand, never past the budget: doubling could otherwise overshoot it twofold.
        if self.data.len() + record.len() > self.data.capacity() {
            let target = (self.data.capacity() * 2)
                .clamp(4096, self.budget.max(4096))
                .max(self.data.len() + record.len());
            self.data.reserve_exact(target - self.data.len());
        }
        if self.spans.len() == self.spans.capacity() {
            let target = (self.spans.capacity() * 2)
                .clamp(256, (self.budget / RECORD_OVERHEAD).max(256))
                .max(self.spans.len() + 1);
            self.spans.reserve_exact(target - self.spans.len());
        }
        self.spans.push((self.data.len(), record.len()));
        self.data.extend_from_slice(record);
        self.peak = self
            .peak
            .max(self.data.capacity() + self.spans.capacity() * RECORD_OVERHEAD);
        Ok(())
    }

    /// Runs spilled so far.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// The most memory the buffer held, in bytes.
    pub fn peak_bytes(&self) -> usize {
        self.peak
    }

    fn sort_buffer(&mut self) {
        let data = &self.data;
        self.spans
            .sort_unstable_by(|a, b| data[a.0..a.0 + a.1].cmp(&data[b.0..b.0 + b.1]));
    }

    fn spill(&mut self) -> Result<()> {
        std::fs::create_dir_all(&self.dir).at("create", &self.dir)?;
        self.sort_buffer();
        let path = self.dir.join(format!("run-{:05}.bin", self.runs.len()));
        let file = File::create(&path).at("create", &path)?;
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        for &(start, len) in &self.spans {
            writer
                .write_all(&(len as u32).to_le_bytes())
                .and_then(|_| writer.write_all(&self.data[start..start + len]))
                .at("write", &path)?;
        }
        writer.flush().at("write", &path)?;
        self.runs.push(path);
        self.data.clear();
        self.spans.clear();
        Ok(())
    }

    /// Every record in byte order.
    pub fn finish(mut self) -> Result<SortedRecords> {
        if self.runs.is_empty() {
            self.sort_buffer();
            return Ok(SortedRecords(Source::Memory {
                data: std::mem::take(&mut self.data),
                spans: std::mem::take(&mut self.spans).into_iter(),
            }));
        }
        if !self.spans.is_empty() {
            self.spill()?;
        }
        let mut readers = Vec::with_capacity(self.runs.len());
        let mut heap = BinaryHeap::new();
        for (i, path) in self.runs.iter().enumerate() {
            let file = File::open(path).at("open", path)?;
            let mut reader = RunReader {
                path: path.clone(),
                reader: BufReader::with_capacity(64 << 10, file),
            };
            if let Some(record) = reader.next_record()? {
                heap.push(Reverse((record, i)));
            }
            readers.push(reader);
        }
        Ok(SortedRecords(Source::Merge { readers, heap }))
    }
}

struct RunReader {
    path: PathBuf,
    reader: BufReader<File>,
}

impl RunReader {
    fn next_record(&mut self) -> Result<Option<Vec<u8>>> {
        let mut len = [0u8; 4];
        match self.reader.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(corpus_core::Error::io_path("read", &self.path, e)),
        }
        let mut record = vec![0u8; u32::from_le_bytes(len) as usize];
        self.reader.read_exact(&mut record).at("read", &self.path)?;
        Ok(Some(record))
    }
}

/// The sorted records, from memory or merged from runs.
pub struct SortedRecords(Source);

enum Source {
    Memory {
        data: Vec<u8>,
        spans: std::vec::IntoIter<(usize, usize)>,
    },
    Merge {
        readers: Vec<RunReader>,
        heap: BinaryHeap<Reverse<(Vec<u8>, usize)>>,
    },
}

impl SortedRecords {
    /// The next record, or None at the end.
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>> {
        match &mut self.0 {
            Source::Memory { data, spans } => {
                Ok(spans.next().map(|(s, l)| data[s..s + l].to_vec()))
            }
            Source::Merge { readers, heap } => {
                let Some(Reverse((record, run))) = heap.pop() else {
                    return Ok(None);
                };
                if let Some(next) = readers[run].next_record()? {
                    heap.push(Reverse((next, run)));
                }
                Ok(Some(record))
            }
        }
    }
}

/// Appends an i64 so that byte order is numeric order.
pub fn push_i64_key(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(&((value as u64) ^ (1 << 63)).to_be_bytes());
}

/// Reads back what [`push_i64_key`] wrote.
pub fn read_i64_key(bytes: &[u8]) -> Option<i64> {
    let raw: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    Some((u64::from_be_bytes(raw) ^ (1 << 63)) as i64)
}

/// Appends a string without NUL bytes and a NUL, so that byte order is string order.
pub fn push_str_key(out: &mut Vec<u8>, value: &str) {
    out.extend(value.bytes().filter(|b| *b != 0));
    out.push(0);
}

/// Reads back what [`push_str_key`] wrote: the string and the bytes after it.
pub fn read_str_key(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let end = bytes.iter().position(|b| *b == 0)?;
    let text = std::str::from_utf8(&bytes[..end]).ok()?;
    Some((text, &bytes[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_with(budget: usize, records: &[Vec<u8>]) -> (Vec<Vec<u8>>, usize) {
        let dir = tempfile::tempdir().expect("test");
        let mut sorter = ExternalSorter::new(&dir.path().join("runs"), budget);
        for r in records {
            sorter.push(r).expect("test");
        }
        let runs = sorter.runs();
        let mut out = Vec::new();
        let mut sorted = sorter.finish().expect("test");
        while let Some(r) = sorted.next_record().expect("test") {
            out.push(r);
        }
        (out, runs)
    }

    #[test]
    fn spilled_runs_merge_to_the_in_memory_order() {
        let records: Vec<Vec<u8>> = (0..5000u64)
            .map(|i| {
                let mut r = Vec::new();
                push_i64_key(&mut r, (i.wrapping_mul(2654435761) % 1000) as i64 - 500);
                push_str_key(&mut r, &format!("repo{}", i % 7));
                r
            })
            .collect();
        let (in_memory, no_runs) = sorted_with(usize::MAX, &records);
        let (spilled, runs) = sorted_with(4096, &records);
        assert_eq!(no_runs, 0);
        assert!(runs > 10, "a small budget spills ({runs} runs)");
        assert_eq!(in_memory, spilled);
        let mut expected = records.clone();
        expected.sort();
        assert_eq!(spilled, expected);
    }

    #[test]
    fn keys_sort_like_their_values() {
        let mut keys: Vec<(i64, &str)> = vec![(-3, "b"), (5, "a"), (-3, "ab"), (i64::MIN, "z")];
        let mut encoded: Vec<Vec<u8>> = keys
            .iter()
            .map(|(n, s)| {
                let mut r = Vec::new();
                push_i64_key(&mut r, *n);
                push_str_key(&mut r, s);
                r
            })
            .collect();
        keys.sort();
        encoded.sort();
        let decoded: Vec<(i64, &str)> = encoded
            .iter()
            .map(|r| {
                (
                    read_i64_key(r).expect("test"),
                    read_str_key(&r[8..]).expect("test").0,
                )
            })
            .collect();
        assert_eq!(decoded, keys);
    }
}
