//! The process's memory, as reports and benchmarks state it.

/// Peak resident memory of this process so far (VmHWM), in MiB; 0 where unknown.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Start a new peak: the kernel sets VmHWM back to the resident memory of now, so the next
/// [`peak_rss_mib`] is the peak of what ran in between (a stage's own, not its
/// predecessors'). False where the kernel refuses (before Linux 4.0, or no procfs).
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Processor time this process has used so far (user and system, every thread, finished
/// ones too), in seconds; 0 where unknown. What a stage costs in core-seconds, whatever
/// its wall time and number of threads.
pub fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| cpu_seconds_of(&stat))
        .unwrap_or(0.0)
}

/// Processor time the calling thread has used so far, in seconds; 0 where unknown.
pub fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|stat| cpu_seconds_of(&stat))
        .unwrap_or(0.0)
}

/// Clock ticks per second of `/proc/*/stat` times: `USER_HZ`, fixed at 100 in the kernel's
/// user ABI on every architecture Linux runs on.
const USER_HZ: f64 = 100.0;

/// utime + stime from a `/proc/PID/stat` line. The command name may hold spaces and
/// parentheses, so the fields are counted from its closing `)`: utime and stime are the
/// 14th and 15th fields, the 12th and 13th after it.
fn cpu_seconds_of(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_past_a_command_name_with_spaces() {
        let stat = "4242 (swe (corpus) x) R 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    1234 56 0 0 20 0 3 0 100 1000000 2000 18446744073709551615";
        assert_eq!(cpu_seconds_of(stat), Some(12.9));
        assert_eq!(cpu_seconds_of("4242 (cut"), None);
        assert_eq!(cpu_seconds_of("1 (x) R 1 2"), None);
    }

    #[test]
    fn processor_time_grows_with_work() {
        let before = cpu_seconds();
        let started = std::time::Instant::now();
        let mut x = 0u64;
        // Busy until the clock (10 ms ticks) has counted some of it; bounded by wall time.
        while cpu_seconds() <= before + 0.05 && started.elapsed().as_secs() < 10 {
            for i in 0..100_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        }
        assert!(
            cpu_seconds() > before + 0.05,
            "{before} -> {}",
            cpu_seconds()
        );
    }

    #[test]
    fn the_peak_starts_over_when_reset() {
        if !reset_peak_rss() {
            return; // a kernel without clear_refs: nothing to check
        }
        let before = peak_rss_mib();
        // 256 MiB touched page by page: the peak must rise by about that much.
        let mut block = vec![0u8; 256 << 20];
        for i in (0..block.len()).step_by(4096) {
            block[i] = 1;
        }
        let high = peak_rss_mib();
        assert!(high >= before + 200.0, "{before} -> {high}");
        drop(std::hint::black_box(block));
        assert!(reset_peak_rss());
        let after = peak_rss_mib();
        assert!(after < high - 200.0, "{high} -> {after}");
    }
}
