//! The dedup barrier on N generated PRs: fork copies (exact), edited copies (near) and
//! unrelated PRs, about 2.5 KB of problem text and diff each. Prints PRs per second on one
//! core, what it found, the runs it spilled and the process's peak RSS against the budget.
//!
//! Usage: dedup-bench N BUDGET_MIB [--jsonl FILE]  (with --jsonl: only write the PRs, one
//! JSON object per line, for the Python comparison)

use std::io::Write;
use std::time::Instant;

use corpus_curate::dedup_barrier::{DedupBuilder, DedupSettings};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

struct Pr {
    repo: String,
    number: i64,
    merged_at: i64,
    problem: String,
    diff: String,
}

/// The i-th generated PR: a quarter are fork copies of an earlier PR, a tenth edited copies.
fn pr(i: u64) -> Pr {
    let original = |n: u64| {
        let mut rng = Lcg(n.wrapping_mul(0x9E3779B97F4A7C15) | 1);
        let words = |rng: &mut Lcg, k: usize| -> String {
            (0..k)
                .map(|_| format!("w{}", rng.next() % 20_000))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let problem = format!("Fix {} when {}", words(&mut rng, 4), words(&mut rng, 40));
        let mut diff = format!("diff --git a/src/m{n}.py b/src/m{n}.py\n");
        for _ in 0..30 {
            diff.push_str(&format!(
                "-    {}\n+    {}\n",
                words(&mut rng, 4),
                words(&mut rng, 4)
            ));
        }
        (problem, diff)
    };
    let mut rng = Lcg(i ^ 0xA5A5_A5A5);
    let kind = rng.next() % 100;
    let repo = format!("org{}/project{}", i % 97, i % 1013);
    let merged_at = 1_600_000_000 + i as i64;
    // Fork copies: exact below 25, edited (one line more) below 35.
    if i > 10 && kind < 35 {
        let source = rng.next() % i;
        let (problem, mut diff) = original(source);
        if kind >= 25 {
            diff.push_str("+    # one more line in the copy\n");
        }
        return Pr {
            repo: format!("fork{}/project{}", i % 89, source % 1013),
            number: i as i64,
            merged_at,
            problem,
            diff,
        };
    }
    let (problem, diff) = original(i);
    Pr {
        repo,
        number: i as i64,
        merged_at,
        problem,
        diff,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .get(1)
        .ok_or("usage: dedup-bench N BUDGET_MIB")?
        .parse()?;
    let budget_mib: f64 = args
        .get(2)
        .ok_or("usage: dedup-bench N BUDGET_MIB")?
        .parse()?;
    if args.get(3).map(String::as_str) == Some("--jsonl") {
        let path = args.get(4).ok_or("--jsonl FILE")?;
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        for i in 0..n {
            let p = pr(i);
            let line = serde_json::json!({
                "repo": p.repo, "pr": p.number, "merged_at": p.merged_at,
                "problem": p.problem, "diff": p.diff,
            });
            writeln!(out, "{line}")?;
        }
        return Ok(());
    }
    let scratch = std::env::temp_dir().join(format!("dedup-bench-{}", std::process::id()));
    let settings = DedupSettings {
        exact: true,
        near: true,
        permutations: 128,
        bands: 16,
        shingle_words: 5,
        threshold: 0.8,
        memory_bytes: (budget_mib * 1_048_576.0) as usize,
    };
    let started = Instant::now();
    let mut builder = DedupBuilder::new(&scratch.join("work"), settings)?;
    let mut bytes = 0usize;
    for i in 0..n {
        let p = pr(i);
        bytes += p.problem.len() + p.diff.len();
        builder.add(&p.repo, p.number, p.merged_at, &p.problem, &p.diff)?;
    }
    let stats = builder.finish(&scratch.join("out"))?;
    let seconds = started.elapsed().as_secs_f64();
    std::fs::remove_dir_all(&scratch).ok();
    println!(
        "{n} PRs ({:.0} MB of text) in {seconds:.2}s on 1 core: {:.0} PRs/s; {} exact and {} near duplicates; {} runs spilled; sorter peak {:.1} MiB, process peak RSS {:.1} MiB (budget {budget_mib} MiB)",
        bytes as f64 / 1e6,
        n as f64 / seconds,
        stats.exact_duplicates,
        stats.near_duplicates,
        stats.spilled_runs,
        stats.peak_buffer_bytes as f64 / 1_048_576.0,
        corpus_core::memory::peak_rss_mib(),
    );
    Ok(())
}
