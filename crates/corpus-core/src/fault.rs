//! Fault injection for crash-safety tests: `SWE_CORPUS_FAULT=STAGE:POINT:N[:MODE]` makes the
//! N-th pass of `STAGE` through `POINT` fail. MODE: none aborts the process (no cleanup, like
//! `kill -9`), `error` fails as a task would, `enospc` fails as a full disk does.

use std::sync::atomic::{AtomicUsize, Ordering};

pub const FAULT_ENV: &str = "SWE_CORPUS_FAULT";

static PASSED: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Abort,
    Error,
    NoSpace,
}

/// Count a pass of `stage` through `point`; the fault to raise when this is the chosen one.
pub fn hit(stage: &str, point: &str) -> Option<Fault> {
    let spec = std::env::var(FAULT_ENV).ok()?;
    let parts: Vec<&str> = spec.split(':').collect();
    let [s, p, n, mode @ ..] = parts.as_slice() else {
        return None;
    };
    if *s != stage || *p != point {
        return None;
    }
    let n = n.parse::<usize>().ok()?;
    if PASSED.fetch_add(1, Ordering::SeqCst) + 1 != n {
        return None;
    }
    Some(match mode.first() {
        Some(&"error") => Fault::Error,
        Some(&"enospc") => Fault::NoSpace,
        _ => Fault::Abort,
    })
}

/// Abort the process here, as `kill -9` would.
pub fn abort(stage: &str, point: &str) -> ! {
    eprintln!("{FAULT_ENV}: aborting at {stage}:{point}");
    std::process::abort();
}

/// The error a full disk gives a writer.
pub fn no_space() -> std::io::Error {
    std::io::Error::from_raw_os_error(28)
}
