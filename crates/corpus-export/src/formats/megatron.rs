//! Megatron-LM indexed dataset: `.bin` (int32 tokens back to back) and `.idx` (docs/loaders.md):
//! one sequence per document, EOD kept as the shards have it, no mask (the format has none).

use std::path::Path;

use super::{AtomicFile, ReadDocument, Written, file_with};
use crate::document::for_each_document;
use crate::error::{ExportError, Result, io};

const MAGIC: &[u8; 9] = b"MMIDIDX\0\0";
const DTYPE_INT32: u8 = 4;

pub fn write(shard: &Path, dir: &Path, stem: &str) -> Result<Written> {
    let bin_name = format!("{stem}.bin");
    let idx_name = format!("{stem}.idx");
    let mut bin = AtomicFile::create(&dir.join(&bin_name))?;
    let mut lengths: Vec<i32> = Vec::new();
    let mut tokens = 0u64;
    for_each_document(shard, |doc| {
        let length = i32::try_from(doc.ids.len())
            .map_err(|_| ExportError::Usage("a document over 2^31 tokens".into()))?;
        let largest = doc.ids.iter().copied().max().unwrap_or(0);
        if i32::try_from(largest).is_err() {
            return Err(ExportError::Usage(format!(
                "token id {largest} does not fit int32"
            )));
        }
        // Below 2^31, an id's little-endian u32 bytes are its int32 bytes.
        bin.write_u32s(&doc.ids)?;
        lengths.push(length);
        tokens += doc.ids.len() as u64;
        Ok(())
    })?;
    let idx = index_bytes(&lengths);
    let mut idx_file = AtomicFile::create(&dir.join(&idx_name))?;
    idx_file.write_bytes(&idx)?;
    bin.commit()?;
    idx_file.commit()?;
    Ok(Written {
        files: vec![bin_name, idx_name],
        documents: lengths.len() as u64,
        tokens,
        too_long: 0,
    })
}

/// The `.idx` of sequences with these lengths, one document each.
pub fn index_bytes(lengths: &[i32]) -> Vec<u8> {
    let s = lengths.len() as u64;
    let mut out = Vec::with_capacity(34 + 12 * lengths.len() + 8 * (lengths.len() + 1));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&1u64.to_le_bytes());
    out.push(DTYPE_INT32);
    out.extend_from_slice(&s.to_le_bytes());
    out.extend_from_slice(&(s + 1).to_le_bytes());
    for l in lengths {
        out.extend_from_slice(&l.to_le_bytes());
    }
    let mut offset = 0i64;
    for l in lengths {
        out.extend_from_slice(&offset.to_le_bytes());
        offset += i64::from(*l) * 4;
    }
    for i in 0..=s {
        out.extend_from_slice(&(i as i64).to_le_bytes());
    }
    out
}

fn u64_at(bytes: &[u8], at: usize) -> Result<u64> {
    bytes
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or_else(|| ExportError::Mismatch(format!(".idx too short at {at}")))
}

pub fn read(dir: &Path, files: &[String]) -> Result<Vec<ReadDocument>> {
    let idx_path = dir.join(file_with(files, ".idx")?);
    let bin_path = dir.join(file_with(files, ".bin")?);
    let idx = std::fs::read(&idx_path).map_err(io(&idx_path))?;
    let bin = std::fs::read(&bin_path).map_err(io(&bin_path))?;
    if idx.get(..9) != Some(MAGIC.as_slice())
        || u64_at(&idx, 9)? != 1
        || idx.get(17) != Some(&DTYPE_INT32)
    {
        return Err(ExportError::Mismatch(format!(
            "{}: bad header",
            idx_path.display()
        )));
    }
    let s = u64_at(&idx, 18)? as usize;
    let d = u64_at(&idx, 26)? as usize;
    let expected = 34 + 12 * s + 8 * d;
    if idx.len() != expected || d != s + 1 {
        return Err(ExportError::Mismatch(format!(
            "{}: {} bytes for {s} sequences and {d} document indices, expected {expected}",
            idx_path.display(),
            idx.len()
        )));
    }
    let mut docs = Vec::with_capacity(s);
    for i in 0..s {
        let length = i32::from_le_bytes(idx[34 + 4 * i..38 + 4 * i].try_into().unwrap_or([0; 4]));
        let offset = u64_at(&idx, 34 + 4 * s + 8 * i)? as usize;
        let end = offset + length.max(0) as usize * 4;
        let body = bin.get(offset..end).ok_or_else(|| {
            ExportError::Mismatch(format!("{}: sequence {i} past the end", bin_path.display()))
        })?;
        let ids = body
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as u32)
            .collect();
        docs.push(ReadDocument { ids, mask: None });
    }
    for i in 0..d {
        if u64_at(&idx, 34 + 12 * s + 8 * i)? != i as u64 {
            return Err(ExportError::Mismatch(format!(
                "{}: document index {i}",
                idx_path.display()
            )));
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/loaders.md's golden case: `[1,2,3,151643]` and `[4,5,151643]` give an 82-byte .idx.
    #[test]
    fn the_golden_index() {
        let idx = index_bytes(&[4, 3]);
        assert_eq!(idx.len(), 82);
        assert_eq!(&idx[..9], MAGIC);
        assert_eq!(u64::from_le_bytes(idx[9..17].try_into().expect("8")), 1);
        assert_eq!(idx[17], 4);
        assert_eq!(u64::from_le_bytes(idx[18..26].try_into().expect("8")), 2);
        assert_eq!(u64::from_le_bytes(idx[26..34].try_into().expect("8")), 3);
        assert_eq!(i32::from_le_bytes(idx[34..38].try_into().expect("4")), 4);
        assert_eq!(i32::from_le_bytes(idx[38..42].try_into().expect("4")), 3);
        assert_eq!(i64::from_le_bytes(idx[42..50].try_into().expect("8")), 0);
        assert_eq!(i64::from_le_bytes(idx[50..58].try_into().expect("8")), 16);
        let indices: Vec<i64> = idx[58..82]
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("8")))
            .collect();
        assert_eq!(indices, vec![0, 1, 2]);
    }
}
