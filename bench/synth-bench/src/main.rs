//! The emulator's `grep -rn TERM .` over a repository's HEAD tree (git objects, no checkout),
//! each term on a fresh emulator (no result cache). Prints seconds and output bytes per term,
//! so the benchmark script can compare with real `grep -rn` on a checkout of the same tree.
//!
//! Usage: synth-bench REPO TERM...

use std::time::Instant;

use corpus_synth::{Emulator, Repository, Snapshot};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let repo = Repository::open(args.get(1).ok_or("usage: synth-bench REPO TERM...")?)?;
    let head = repo.head()?.peel_to_commit()?.id();
    for term in &args[2..] {
        let emulator = Emulator::new(Snapshot::at_commit(&repo, head)?, "/testbed");
        let started = Instant::now();
        let out = emulator
            .bash(&format!("grep -rn {term} ."))
            .ok_or("grep is in the subset")?;
        println!(
            "{term} {:.4} {} {}",
            started.elapsed().as_secs_f64(),
            out.len(),
            out.lines().count()
        );
    }
    Ok(())
}
