//! Fault injection in the runner (`corpus_core::fault`): points `start` (before a unit runs),
//! `unit` (after a unit is recorded done), `part` (after a table's parts are renamed into
//! place), `manifest` (after a table's manifest is written) and `write` (while a shard is
//! written).

use corpus_core::fault::{FAULT_ENV, Fault, abort, hit, no_space, pause};

use crate::error::{Result, StageError};

pub fn check(stage: &str, point: &str) -> Result<()> {
    match hit(stage, point) {
        None => Ok(()),
        Some(Fault::Abort) => abort(stage, point),
        Some(Fault::Pause) => {
            pause(stage, point);
            Ok(())
        }
        Some(Fault::Error) => Err(StageError::stage(
            stage,
            format!("injected failure at {point} ({FAULT_ENV})"),
        )),
        Some(Fault::NoSpace) => Err(StageError::Core(corpus_core::Error::io(
            format!("write at {stage}:{point} ({FAULT_ENV})"),
            no_space(),
        ))),
    }
}
