//! OLMo-core: `.npy` files that are raw uint32 memmaps (no NumPy header), documents ending
//! with the EOS id; `.csv.gz` with `start,end` per document; `.label_mask.npy`, 1 byte per
//! token (token-aligned).

use std::io::{Read, Write};
use std::path::Path;

use super::{AtomicFile, ReadDocument, Written, cut_documents, file_with, u32s_from_le};
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
        tokens_file.write_u32s(&doc.ids)?;
        mask.write_token_mask(&doc)?;
        let end = tokens + doc.ids.len() as u64;
        writeln!(spans, "{tokens},{end}").map_err(io(Path::new(&names[1])))?;
        tokens = end;
        documents += 1;
        Ok(())
    })?;
    let spans = spans.finish().map_err(io(Path::new(&names[1])))?;
    let mut spans_file = AtomicFile::create(&dir.join(&names[1]))?;
    spans_file.write_bytes(&spans)?;
    Written::commit(
        vec![tokens_file, spans_file, mask],
        &names,
        documents,
        tokens,
    )
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
    let ids = u32s_from_le(&load(tokens_name)?);
    let mask = load(file_with(files, ".label_mask.npy")?)?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(load(file_with(files, ".csv.gz")?)?.as_slice())
        .read_to_string(&mut text)
        .map_err(io(Path::new(file_with(files, ".csv.gz")?)))?;
    // Each span starts where the one before ended; the cut checks the ends.
    let mut ends = Vec::new();
    for line in text.lines() {
        let (start, end) = line
            .split_once(',')
            .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
            .ok_or_else(|| ExportError::Mismatch(format!("bad span line `{line}`")))?;
        if start != ends.last().copied().unwrap_or(0) {
            return Err(ExportError::Mismatch(format!(
                "span {start},{end} does not start where the last one ended"
            )));
        }
        ends.push(end);
    }
    cut_documents(&ids, &mask, &ends, "olmo spans")
}
