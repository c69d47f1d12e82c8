//! datatrove / nanotron: `.ds` (uint32 LE tokens), `.ds.index` (uint64 cumulative document
//! ends, no leading 0), `.ds.loss` (1 byte per token, 1 = target), `.ds.metadata`
//! (`tokenizer|4`, then the token count).

use std::path::Path;

use super::{
    AtomicFile, ReadDocument, WriteContext, Written, cut_documents, file_with, u32s_from_le,
};
use crate::document::for_each_document;
use crate::error::{ExportError, Result, io};

pub fn write(shard: &Path, dir: &Path, stem: &str, ctx: &WriteContext) -> Result<Written> {
    let names = [
        format!("{stem}.ds"),
        format!("{stem}.ds.index"),
        format!("{stem}.ds.loss"),
        format!("{stem}.ds.metadata"),
    ];
    let mut tokens_file = AtomicFile::create(&dir.join(&names[0]))?;
    let mut index = AtomicFile::create(&dir.join(&names[1]))?;
    let mut loss = AtomicFile::create(&dir.join(&names[2]))?;
    let (mut tokens, mut documents) = (0u64, 0u64);
    for_each_document(shard, |doc| {
        tokens_file.write_u32s(&doc.ids)?;
        loss.write_token_mask(&doc)?;
        tokens += doc.ids.len() as u64;
        documents += 1;
        index.write_bytes(&tokens.to_le_bytes())
    })?;
    let mut metadata = AtomicFile::create(&dir.join(&names[3]))?;
    metadata.write_bytes(format!("{}|4\n{tokens}\n", ctx.tokenizer).as_bytes())?;
    Written::commit(
        vec![tokens_file, index, loss, metadata],
        &names,
        documents,
        tokens,
    )
}

pub fn read(dir: &Path, files: &[String]) -> Result<Vec<ReadDocument>> {
    let load = |suffix: &str| -> Result<Vec<u8>> {
        let path = dir.join(file_with(files, suffix)?);
        std::fs::read(&path).map_err(io(&path))
    };
    let (tokens, index, loss, metadata) = (
        load(".ds")?,
        load(".ds.index")?,
        load(".ds.loss")?,
        load(".ds.metadata")?,
    );
    let ids = u32s_from_le(&tokens);
    let metadata = String::from_utf8_lossy(&metadata);
    let declared: Option<usize> = metadata.lines().nth(1).and_then(|l| l.trim().parse().ok());
    if declared != Some(ids.len())
        || loss.len() != ids.len()
        || !metadata.lines().next().is_some_and(|l| l.ends_with("|4"))
    {
        return Err(ExportError::Mismatch(format!(
            "datatrove metadata says {declared:?} tokens, .ds holds {}, .ds.loss {}",
            ids.len(),
            loss.len()
        )));
    }
    let ends: Vec<usize> = index
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as usize)
        .collect();
    cut_documents(&ids, &loss, &ends, "datatrove index")
}
