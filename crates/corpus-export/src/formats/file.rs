//! A file written under a temporary name and renamed into place only when complete, so a
//! half-written file (a full disk, a kill) never has the final name.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Result, io};

pub struct AtomicFile {
    writer: BufWriter<std::fs::File>,
    tmp: PathBuf,
    path: PathBuf,
    pub bytes: u64,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.tmp"));
        let file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        Ok(Self {
            writer: BufWriter::with_capacity(1 << 20, file),
            tmp,
            path: path.to_path_buf(),
            bytes: 0,
        })
    }

    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        injected_fault().map_err(io(&self.tmp))?;
        self.bytes += bytes.len() as u64;
        self.writer.write_all(bytes).map_err(io(&self.tmp))
    }

    /// Ids as little-endian u32 (the same bytes as int32 for ids below 2^31).
    pub fn write_u32s(&mut self, ids: &[u32]) -> Result<()> {
        if cfg!(target_endian = "little") {
            // The ids' memory is already their little-endian bytes.
            return self.write_bytes(bytemuck::cast_slice(ids));
        }
        let bytes: Vec<u8> = ids.iter().flat_map(|id| id.to_le_bytes()).collect();
        self.write_bytes(&bytes)
    }

    /// `count` copies of `byte` (a run of a loss mask).
    pub fn write_repeated(&mut self, byte: u8, count: usize) -> Result<()> {
        const CHUNK: usize = 4096;
        let run = [byte; CHUNK];
        let mut left = count;
        while left > 0 {
            let n = left.min(CHUNK);
            self.write_bytes(&run[..n])?;
            left -= n;
        }
        Ok(())
    }

    /// A document's token-aligned loss mask: 0 on its prompt, 1 after.
    pub fn write_token_mask(&mut self, doc: &crate::document::Document) -> Result<()> {
        let prompt = doc.masked_prefix();
        self.write_repeated(0, prompt)?;
        self.write_repeated(1, doc.ids.len() - prompt)
    }

    /// Flush, sync and rename into place.
    pub fn commit(self) -> Result<()> {
        let file = self
            .writer
            .into_inner()
            .map_err(|e| crate::error::ExportError::Io {
                path: self.tmp.clone(),
                source: e.into_error(),
            })?;
        file.sync_all().map_err(io(&self.tmp))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(io(&self.path))
    }
}

/// `SWE_CORPUS_FAULT=export:write:N[:enospc]` (tests): the N-th write fails like a full disk.
fn injected_fault() -> std::io::Result<()> {
    use corpus_core::fault::{Fault, abort, hit, no_space, pause};
    match hit("export", "write") {
        Some(Fault::Abort) => abort("export", "write"),
        Some(Fault::Pause) => {
            pause("export", "write");
            Ok(())
        }
        Some(_) => Err(no_space()),
        None => Ok(()),
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        injected_fault()?;
        self.bytes += buf.len() as u64;
        self.writer.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}
