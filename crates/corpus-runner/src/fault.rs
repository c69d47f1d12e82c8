//! Fault injection for crash-safety tests: `SWE_CORPUS_FAULT=STAGE:POINT:N` aborts the
//! process (no cleanup, like `kill -9`) the N-th time `STAGE` passes `POINT` (`unit` after a
//! unit is recorded done, `part` after a table's parts are renamed into place, `manifest`
//! after a table's manifest is written, `write` while a shard is written).
//! `STAGE:POINT:N:error` returns an error instead, as a failing task would;
//! `STAGE:POINT:N:enospc` returns the error a full disk gives.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Result, RunnerError};

static PASSED: AtomicUsize = AtomicUsize::new(0);

pub const FAULT_ENV: &str = "SWE_CORPUS_FAULT";

pub fn check(stage: &str, point: &str) -> Result<()> {
    let Ok(spec) = std::env::var(FAULT_ENV) else {
        return Ok(());
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let [s, p, n, mode @ ..] = parts.as_slice() else {
        return Ok(());
    };
    if *s != stage || *p != point {
        return Ok(());
    }
    let Ok(n) = n.parse::<usize>() else {
        return Ok(());
    };
    if PASSED.fetch_add(1, Ordering::SeqCst) + 1 != n {
        return Ok(());
    }
    if mode.first() == Some(&"enospc") {
        // What a full disk looks like to a writer.
        return Err(RunnerError::Core(corpus_core::Error::io(
            format!("write at {stage}:{point} ({FAULT_ENV})"),
            std::io::Error::from_raw_os_error(28),
        )));
    }
    if mode.first() == Some(&"error") {
        return Err(RunnerError::stage(
            stage,
            format!("injected failure at {point} {n} ({FAULT_ENV})"),
        ));
    }
    eprintln!("{FAULT_ENV}: aborting at {stage}:{point}:{n}");
    std::process::abort();
}
