//! OLMo-core: `.npy` files that are raw uint32 memmaps (no NumPy header), documents ending
//! with the EOS id; `.csv.gz` with `start,end` per document; `.label_mask.npy`, 1 byte per
//! token (token-aligned).

use std::io::{Read, Write};
use std::path::Path;

use super::{AtomicFile, ReadDocument, Written, file_with};
use crate::document::for_each_document;
use crate::error::{ExportError, Result, io};

pub fn write(shard: &Path, dir: &Path, stem: &str) -> Result<Written> {
    let names = [
        format!("{stem}.npy"),
        format!("{stem}.csv.gz"),
        format!("{stem}.label_mask.npy"),
    ];
    let mut tokens_file = AtomicFile::create(&dir.join(&names[0]))?;
    let mut mask = AtomicFile::create(&dir.join(&names[2]))?;
    let mut spans = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    let (mut tokens, mut documents) = (0u64, 0u64);
    for_each_document(shard, |doc| {
        let bytes: Vec<u8> = doc.ids.iter().flat_map(|id| id.to_le_bytes()).collect();
        tokens_file.write_bytes(&bytes)?;
        mask.write_bytes(&doc.mask())?;
        let end = tokens + doc.ids.len() as u64;
        writeln!(spans, "{tokens},{end}").map_err(io(Path::new(&names[1])))?;
        tokens = end;
        documents += 1;
        Ok(())
    })?;
    let spans = spans.finish().map_err(io(Path::new(&names[1])))?;
    let mut spans_file = AtomicFile::create(&dir.join(&names[1]))?;
    spans_file.write_bytes(&spans)?;
    for file in [tokens_file, spans_file, mask] {
        file.commit()?;
    }
    Ok(Written {
        files: names.to_vec(),
        documents,
        tokens,
        too_long: 0,
    })
}

pub fn read(dir: &Path, files: &[String]) -> Result<Vec<ReadDocument>> {
    let tokens_name = files
        .iter()
        .find(|f| f.ends_with(".npy") && !f.ends_with(".label_mask.npy"))
        .ok_or_else(|| ExportError::Mismatch("no .npy token file".into()))?;
    let load = |name: &str| -> Result<Vec<u8>> {
        let path = dir.join(name);
        std::fs::read(&path).map_err(io(&path))
    };
    let ids: Vec<u32> = load(tokens_name)?
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mask = load(file_with(files, ".label_mask.npy")?)?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(load(file_with(files, ".csv.gz")?)?.as_slice())
        .read_to_string(&mut text)
        .map_err(io(Path::new(file_with(files, ".csv.gz")?)))?;
    if mask.len() != ids.len() {
        return Err(ExportError::Mismatch(
            "label mask and tokens differ in length".into(),
        ));
    }
    let mut docs = Vec::new();
    let mut expected_start = 0usize;
    for line in text.lines() {
        let (start, end) = line
            .split_once(',')
            .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
            .ok_or_else(|| ExportError::Mismatch(format!("bad span line `{line}`")))?;
        if start != expected_start || end < start || end > ids.len() {
            return Err(ExportError::Mismatch(format!(
                "span {start},{end} out of order"
            )));
        }
        docs.push(ReadDocument {
            ids: ids[start..end].to_vec(),
            mask: Some(mask[start..end].to_vec()),
        });
        expected_start = end;
    }
    if expected_start != ids.len() {
        return Err(ExportError::Mismatch(
            "spans do not cover every token".into(),
        ));
    }
    Ok(docs)
}
