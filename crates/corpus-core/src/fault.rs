//! Fault injection for crash-safety tests: `SWE_CORPUS_FAULT=STAGE:POINT:N[:MODE]` makes the
//! N-th pass of `STAGE` through `POINT` fail. MODE: none aborts the process (no cleanup, like
//! `kill -9`), `error` fails as a task would, `enospc` fails as a full disk does, `pause`
//! waits (up to ten minutes) until the file `SWE_CORPUS_FAULT_RESUME` names exists, so a test
//! can change the world (stop a server) at a known point of a run. With
//! `SWE_CORPUS_FAULT_ONCE=FILE` the fault fires in one process only, the first to get there
//! (it creates FILE; where FILE exists nothing fires): a task that fails once, then succeeds
//! when it is run again.

use std::sync::atomic::{AtomicUsize, Ordering};

pub const FAULT_ENV: &str = "SWE_CORPUS_FAULT";
pub const FAULT_ONCE_ENV: &str = "SWE_CORPUS_FAULT_ONCE";
pub const FAULT_RESUME_ENV: &str = "SWE_CORPUS_FAULT_RESUME";

static PASSED: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Abort,
    Error,
    NoSpace,
    Pause,
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
    if let Some(marker) = std::env::var_os(FAULT_ONCE_ENV) {
        // Creating the file is the claim: of several processes, one fires.
        let claimed = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&marker);
        if claimed.is_err() {
            return None;
        }
    }
    Some(match mode.first() {
        Some(&"error") => Fault::Error,
        Some(&"enospc") => Fault::NoSpace,
        Some(&"pause") => Fault::Pause,
        _ => Fault::Abort,
    })
}

/// Abort the process here, as `kill -9` would.
pub fn abort(stage: &str, point: &str) -> ! {
    eprintln!("{FAULT_ENV}: aborting at {stage}:{point}");
    std::process::abort();
}

/// Wait at `stage:point` until the resume file exists (`SWE_CORPUS_FAULT_RESUME`).
pub fn pause(stage: &str, point: &str) {
    eprintln!("{FAULT_ENV}: paused at {stage}:{point}");
    let Some(resume) = std::env::var_os(FAULT_RESUME_ENV) else {
        return;
    };
    let resume = std::path::PathBuf::from(resume);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    while !resume.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    eprintln!("{FAULT_ENV}: resumed at {stage}:{point}");
}

/// The error a full disk gives a writer.
pub fn no_space() -> std::io::Error {
    std::io::Error::from_raw_os_error(28)
}
