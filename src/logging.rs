//! Log output: stderr always, and the run's log file (`RUN/logs/local-<time>.log`) once the
//! run directory is known, so a local run leaves a record like a cluster task does.

use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

static FILE: OnceLock<Mutex<std::fs::File>> = OnceLock::new();

/// From now on, log lines also go to `path` (appended). A file that cannot be opened is a
/// warning, not a failure: the lines still reach stderr.
pub fn also_to(path: &Path) {
    let opened = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        });
    match opened {
        Ok(file) => {
            let _ = FILE.set(Mutex::new(file));
        }
        Err(e) => tracing::warn!("cannot write the log file {}: {e}", path.display()),
    }
}

/// Append text (the run's summary) to the log file, if there is one.
pub fn append(text: &str) {
    if let Some(Ok(mut file)) = FILE.get().map(Mutex::lock) {
        let _ = file.write_all(text.as_bytes());
    }
}

/// The `tracing` writer: stderr plus the log file.
pub struct Tee;

pub struct TeeWriter;

impl Write for TeeWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        append(&String::from_utf8_lossy(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Tee {
    type Writer = TeeWriter;

    fn make_writer(&'a self) -> Self::Writer {
        TeeWriter
    }
}
