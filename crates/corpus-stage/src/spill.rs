//! Records spilled to an unnamed scratch file and read back by key: a stage that needs a
//! repository's rows in another order than the table gives them keeps only their offsets in
//! memory, so it does not grow with the history. The file has no name: it is gone when the
//! unit ends, however it ends.

use std::collections::HashMap;
use std::fs::File;
use std::hash::Hash;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::Result;

/// Writing: records are appended as they come.
pub struct SpillWriter<K> {
    writer: BufWriter<File>,
    dir: PathBuf,
    index: HashMap<K, (u64, usize)>,
    offset: u64,
}

/// Reading: any record, by key.
pub struct Spill<K> {
    file: File,
    dir: PathBuf,
    index: HashMap<K, (u64, usize)>,
}

impl<K: Hash + Eq> SpillWriter<K> {
    pub fn new(scratch_dir: &Path) -> Result<Self> {
        let file = tempfile::tempfile_in(scratch_dir)
            .map_err(|e| corpus_core::Error::io_path("create scratch file in", scratch_dir, e))?;
        Ok(Self {
            writer: BufWriter::with_capacity(1 << 20, file),
            dir: scratch_dir.to_path_buf(),
            index: HashMap::new(),
            offset: 0,
        })
    }

    /// Keep `bytes` under `key` (a key given twice keeps its last record).
    pub fn put(&mut self, key: K, bytes: &[u8]) -> Result<()> {
        self.writer
            .write_all(bytes)
            .map_err(|e| corpus_core::Error::io_path("write scratch file in", &self.dir, e))?;
        self.index.insert(key, (self.offset, bytes.len()));
        self.offset += bytes.len() as u64;
        Ok(())
    }

    pub fn finish(self) -> Result<Spill<K>> {
        let dir = self.dir;
        let file = self.writer.into_inner().map_err(|e| {
            corpus_core::Error::io_path("write scratch file in", &dir, e.into_error())
        })?;
        Ok(Spill {
            file,
            dir,
            index: self.index,
        })
    }
}

impl<K: Hash + Eq> Spill<K> {
    /// The record under `key`, if one was put.
    pub fn get(&self, key: &K) -> Result<Option<Vec<u8>>> {
        let Some(&(offset, len)) = self.index.get(key) else {
            return Ok(None);
        };
        let mut bytes = vec![0u8; len];
        self.file
            .read_exact_at(&mut bytes, offset)
            .map_err(|e| corpus_core::Error::io_path("read scratch file in", &self.dir, e))?;
        Ok(Some(bytes))
    }
}

/// Fields packed into one record and back: each is its length (8 bytes, little-endian) and
/// its bytes.
pub fn pack_fields<'a>(fields: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for field in fields {
        out.extend_from_slice(&(field.len() as u64).to_le_bytes());
        out.extend_from_slice(field);
    }
    out
}

/// The fields of a record [`pack_fields`] made (None if it is cut short).
pub fn unpack_fields(mut record: &[u8]) -> Option<Vec<&[u8]>> {
    let mut fields = Vec::new();
    while !record.is_empty() {
        let (len, rest) = record.split_first_chunk::<8>()?;
        let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
        if rest.len() < len {
            return None;
        }
        let (field, rest) = rest.split_at(len);
        fields.push(field);
        record = rest;
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_by_key_and_the_file_leaves_no_name() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut writer = SpillWriter::new(dir.path()).expect("spill");
        writer.put("a".to_string(), b"first").expect("put");
        writer.put("b".to_string(), b"").expect("put");
        let big = vec![7u8; 3 << 20];
        writer.put("c".to_string(), &big).expect("put");
        let spill = writer.finish().expect("finish");
        assert_eq!(
            spill.get(&"a".into()).expect("get"),
            Some(b"first".to_vec())
        );
        assert_eq!(spill.get(&"b".into()).expect("get"), Some(Vec::new()));
        assert_eq!(spill.get(&"c".into()).expect("get"), Some(big));
        assert_eq!(spill.get(&"d".into()).expect("get"), None);
        let names = std::fs::read_dir(dir.path()).expect("list").count();
        assert_eq!(names, 0, "the scratch file must have no name");
    }

    #[test]
    fn fields_pack_and_unpack_exactly() {
        let fields: [&[u8]; 4] = [b"sha", b"", b"a message\nwith lines", &[0, 255, 10]];
        let record = pack_fields(fields);
        assert_eq!(unpack_fields(&record), Some(fields.to_vec()));
        assert_eq!(unpack_fields(&record[..record.len() - 1]), None);
        assert_eq!(unpack_fields(&record[..3]), None);
        assert_eq!(unpack_fields(&[]), Some(Vec::new()));
    }
}
