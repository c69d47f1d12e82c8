//! Runs on object storage against a real S3-compatible server on 127.0.0.1: SeaweedFS's
//! `weed` (installed by `scripts/s3-setup.sh`, which `just test` calls), started and stopped
//! here with an access key and secret of its own so requests are really signed. Outside CI a
//! machine without the binary skips with a message; in CI (`CI` set) that is a failure.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Scratch, assert_same_tables, files_under, stderr};

const ACCESS_KEY: &str = "SWECORPUSTESTKEY7Q2";
const SECRET_KEY: &str = "swe-corpus-test-secret-9f3e1b7c5a";
const BUCKET: &str = "corpus";

fn weed_binary() -> Option<PathBuf> {
    let path = std::env::var_os("SWE_CORPUS_WEED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/seaweedfs/weed"));
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "no SeaweedFS at {}; CI must install it with scripts/s3-setup.sh",
        path.display()
    );
    eprintln!("SKIPPED: no SeaweedFS (install it with `bash scripts/s3-setup.sh`)");
    None
}

/// A SeaweedFS server (master, volume, filer, S3) on free ports of 127.0.0.1, its data in a
/// folder that outlives restarts.
struct Seaweed {
    binary: PathBuf,
    data: PathBuf,
    ports: Vec<u16>,
    child: Option<Child>,
}

impl Seaweed {
    fn start(binary: PathBuf, root: &Path) -> Self {
        let data = root.join("seaweed");
        std::fs::create_dir_all(data.join("data")).expect("data dir");
        let config = serde_json::json!({"identities": [{
            "name": "corpus",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]});
        std::fs::write(data.join("s3.json"), config.to_string()).expect("s3 config");
        // Held together so no two are the same, then released for the server.
        let listeners: Vec<TcpListener> = (0..8)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("free port"))
            .collect();
        let ports = listeners
            .iter()
            .map(|l| l.local_addr().expect("addr").port())
            .collect();
        drop(listeners);
        let mut server = Self {
            binary,
            data,
            ports,
            child: None,
        };
        server.restart();
        server
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports[0])
    }

    fn restart(&mut self) {
        let p = |i: usize| self.ports[i].to_string();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data.join("weed.log"))
            .expect("log");
        let child = Command::new(&self.binary)
            .arg("server")
            .arg(format!("-dir={}", self.data.join("data").display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3"])
            .arg(format!(
                "-s3.config={}",
                self.data.join("s3.json").display()
            ))
            .arg(format!("-s3.port={}", p(0)))
            .arg(format!("-s3.port.grpc={}", p(1)))
            .arg(format!("-master.port={}", p(2)))
            .arg(format!("-master.port.grpc={}", p(3)))
            .arg(format!("-volume.port={}", p(4)))
            .arg(format!("-volume.port.grpc={}", p(5)))
            .arg(format!("-filer.port={}", p(6)))
            .arg(format!("-filer.port.grpc={}", p(7)))
            .args([
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-master.telemetry=false",
                "-metricsPort=0",
            ])
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start weed");
        self.child = Some(child);
        // Ready when S3 answers a signed listing of the bucket (anonymous requests are
        // refused); the bucket is made once, through the master's shell, when S3 is up.
        let deadline = Instant::now() + Duration::from_secs(90);
        let scratch = Scratch::new();
        loop {
            let out = self.cmd(&scratch, &["sql", "--run", &self.url("probe"), "select 1"]);
            let err = stderr(&out);
            if err.contains("holds no tables") {
                return;
            }
            if err.contains("NoSuchBucket") {
                let made = Command::new(&self.binary)
                    .args(["shell", &format!("-master=127.0.0.1:{}.{}", p(2), p(3))])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .and_then(|mut child| {
                        use std::io::Write;
                        if let Some(mut stdin) = child.stdin.take() {
                            writeln!(stdin, "s3.bucket.create -name {BUCKET}")?;
                        }
                        // A shell that cannot reach the master waits: give it 30 s.
                        let until = Instant::now() + Duration::from_secs(30);
                        while child.try_wait()?.is_none() && Instant::now() < until {
                            std::thread::sleep(Duration::from_millis(100));
                        }
                        let _ = child.kill();
                        child.wait()
                    });
                assert!(made.is_ok(), "weed shell: {made:?}");
            }
            assert!(
                Instant::now() < deadline,
                "SeaweedFS did not start: {err}\n{}",
                std::fs::read_to_string(self.data.join("weed.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Stop the server as an operator would (SIGTERM), and wait until it is gone.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    /// swe-corpus with this server's endpoint and credentials in its environment, retrying
    /// a request for a few seconds only unless the caller says otherwise.
    fn cmd_builder(&self, scratch: &Scratch, args: &[&str]) -> Command {
        let mut cmd = scratch.cmd(args);
        cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_REGION", "us-east-1")
            .env("SWE_CORPUS_STORE_RETRY_SECS", "4")
            .env("SWE_CORPUS_STORE_RETRIES", "3")
            .env("SWE_CORPUS_SCRATCH", scratch.path().join("node-scratch"));
        cmd
    }

    fn cmd(&self, scratch: &Scratch, args: &[&str]) -> Output {
        self.cmd_builder(scratch, args)
            .output()
            .expect("run swe-corpus")
    }

    fn ok(&self, scratch: &Scratch, args: &[&str]) -> Output {
        let out = self.cmd(scratch, args);
        assert!(
            out.status.success(),
            "swe-corpus {args:?} failed: {}\n{}",
            stderr(&out),
            String::from_utf8_lossy(&out.stdout)
        );
        out
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Every output of a command, for the credential check.
fn all_text(outputs: &[Output]) -> Vec<u8> {
    let mut text = Vec::new();
    for out in outputs {
        text.extend_from_slice(&out.stdout);
        text.extend_from_slice(&out.stderr);
    }
    text
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// The tables and exports a fresh node sees in the bucket (it pulls every file to verify).
fn pulled_copy(server: &Seaweed, url: &str) -> (Scratch, PathBuf, Output) {
    let node = Scratch::new();
    let out = server.ok(&node, &["verify", "--run", url]);
    let root = copy_in(&node);
    (node, root, out)
}

/// The scratch copy of the one run a scratch folder's commands worked on.
fn copy_in(scratch: &Scratch) -> PathBuf {
    std::fs::read_dir(scratch.path().join("node-scratch"))
        .expect("scratch copy")
        .flatten()
        .next()
        .expect("one run")
        .path()
}

#[test]
fn the_demo_runs_into_a_bucket_byte_identical_to_a_local_run_and_reads_in_place() {
    let Some(binary) = weed_binary() else {
        return;
    };
    let s = Scratch::new();
    let mut server = Seaweed::start(binary, s.path());
    let url = server.url("runs/demo");
    let mut outputs = Vec::new();

    s.ok(&["run", "--run", "local", "--tasks", "2"]);
    outputs.push(server.ok(&s, &["run", "--run", &url, "--tasks", "2"]));

    // A node that never ran anything reads the bucket: every part checks out against its
    // manifest and every file equals the local run's.
    let (_node, copy, verified) = pulled_copy(&server, &url);
    outputs.push(verified);
    assert_same_tables(&s.path().join("local"), &copy);

    // SQL reads the parts in place (no scratch copy), with the local run's answers.
    let sql = "select kind, count(*) as n from patches group by kind order by kind";
    let here = s.ok(&["sql", "--run", "local", "--format", "csv", sql]);
    let fresh = Scratch::new();
    let there = server.ok(&fresh, &["sql", "--run", &url, "--format", "csv", sql]);
    assert_eq!(String::from_utf8_lossy(&there.stdout), here);
    assert!(
        !fresh.path().join("node-scratch").exists(),
        "sql copied the run instead of reading it in place"
    );
    outputs.push(there);
    let status = server.ok(&fresh, &["status", "--run", &url]);
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("shard          complete"),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    outputs.push(status);

    // Run again on the node that ran it: everything is current, nothing is redone.
    let again = server.ok(&s, &["run", "--run", &url]);
    let table = String::from_utf8_lossy(&again.stdout);
    assert_eq!(table.matches(" current ").count(), 11, "{table}");
    outputs.push(again);
    // A wrong secret is refused with a clear message that does not echo it, and the bucket
    // keeps its run.
    let wrong = "wrong-secret-0000-1111-2222";
    let refused = server
        .cmd_builder(&Scratch::new(), &["run", "--run", &url])
        .env("AWS_SECRET_ACCESS_KEY", wrong)
        .output()
        .expect("run");
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(err.contains("s3://corpus/runs/demo"), "{err}");
    assert!(!err.contains(wrong), "the secret was printed: {err}");
    let listing = |scratch: &Scratch| {
        let out = server.ok(scratch, &["sql", "--run", &url, "--format", "csv", sql]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(listing(&Scratch::new()), here, "the bucket lost its run");

    // Credentials never appear in any output, any object of the bucket or any scratch file.
    let everything = all_text(&outputs);
    for secret in [ACCESS_KEY, SECRET_KEY] {
        assert!(
            !contains(&everything, secret),
            "{secret} in a command's output"
        );
        for (path, bytes) in files_under(&copy)
            .into_iter()
            .chain(files_under(&s.path().join("node-scratch")))
        {
            assert!(!contains(&bytes, secret), "{secret} in {path}");
        }
    }
    server.stop();
}

#[test]
fn a_run_survives_the_store_stopping_and_restarting_mid_stage() {
    let Some(binary) = weed_binary() else {
        return;
    };
    let s = Scratch::new();
    let mut server = Seaweed::start(binary, s.path());
    let url = server.url("runs/restart");
    s.ok(&["run", "--run", "local"]);

    // 1. The server stops while `format` is between units and stays down: the next publish
    // fails after its retries with a clear error; nothing committed is lost.
    let resume = s.path().join("resume-1");
    let mut run = server.cmd_builder(&s, &["run", "--run", &url, "--tasks", "1"]);
    run.env("SWE_CORPUS_FAULT", "format:unit:2:pause")
        .env("SWE_CORPUS_FAULT_RESUME", &resume)
        .stderr(Stdio::piped())
        .stdout(Stdio::piped());
    let child = run.spawn().expect("run");
    wait_for_marker(&s.path().join("node-scratch"), "_work/format");
    server.stop();
    std::fs::write(&resume, "").expect("resume");
    let out = child.wait_with_output().expect("wait");
    assert!(
        !out.status.success(),
        "the run cannot finish without its store"
    );
    let err = stderr(&out);
    assert!(
        err.contains("run directory on object storage") && err.contains("s3://corpus/runs/restart"),
        "{err}"
    );

    // 2. Started again, the run resumes: the units done before the stop are not redone.
    server.restart();
    let resume = s.path().join("resume-2");
    let mut run = server.cmd_builder(&s, &["run", "--run", &url, "--tasks", "1"]);
    // This time the store goes down for a few seconds only, inside the retry window.
    run.env("SWE_CORPUS_STORE_RETRY_SECS", "120")
        .env("SWE_CORPUS_STORE_RETRIES", "1000")
        .env("SWE_CORPUS_FAULT", "curate:unit:1:pause")
        .env("SWE_CORPUS_FAULT_RESUME", &resume)
        .stderr(Stdio::piped())
        .stdout(Stdio::piped());
    let child = run.spawn().expect("run");
    wait_for_marker(&s.path().join("node-scratch"), "_work/curate");
    server.stop();
    std::fs::write(&resume, "").expect("resume");
    std::thread::sleep(Duration::from_secs(2));
    server.restart();
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    let extract = table
        .lines()
        .find(|l| l.starts_with("extract "))
        .expect("extract line");
    assert!(extract.contains(" current "), "extract was redone: {table}");

    let (_node, copy, _) = pulled_copy(&server, &url);
    assert_same_tables(&s.path().join("local"), &copy);
    server.stop();
}

/// Slurm jobs whose run directory is the bucket: every job works in a copy of its own (its
/// job id's), reads the recipe from the store and publishes its units, logs and barrier
/// there; a task fails once and is retried. The result is the local run's.
#[test]
fn slurm_jobs_with_the_run_in_a_bucket_equal_a_local_run() {
    if !crate::slurm::require_slurm() {
        return;
    }
    let Some(binary) = weed_binary() else {
        return;
    };
    let s = Scratch::new();
    let mut server = Seaweed::start(binary, s.path());
    let url = server.url("runs/slurm");
    let recipe = crate::slurm::recipe_with_slurm(&s, "slurm.toml", "max_retries = 2");
    s.ok(&["run", "--recipe", &recipe, "--tasks", "1", "--run", "local"]);

    let submitted = server
        .cmd_builder(
            &s,
            &[
                "run",
                "--recipe",
                &recipe,
                "--executor",
                "slurm",
                "--tasks",
                "3",
                "--run",
                &url,
            ],
        )
        .env("SWE_CORPUS_FAULT", "extract:start:1:error")
        .env("SWE_CORPUS_FAULT_ONCE", s.path().join("fault-fired"))
        .output()
        .expect("submit");
    assert!(submitted.status.success(), "{}", stderr(&submitted));

    // Wait on the jobs the bucket's job list names (a step adds the jobs it submits before
    // it ends): done when none is active and the list, read again after, has not grown.
    let deadline = Instant::now() + Duration::from_secs(600);
    let watcher = Scratch::new();
    let listed = || {
        let status = server.ok(&watcher, &["status", "--run", &url]);
        let copy = copy_in(&watcher);
        let text = std::fs::read_to_string(copy.join("logs/slurm-jobs.json")).unwrap_or_default();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let ids: Vec<String> = value["jobs"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|j| j["job_id"].as_str().map(str::to_string))
            .collect();
        (ids, String::from_utf8_lossy(&status.stdout).into_owned())
    };
    loop {
        let (ids, _) = listed();
        let queue = Command::new("squeue")
            .args(["-h", "-o", "%i %T", "-j", &ids.join(",")])
            .output()
            .expect("squeue");
        let active = !String::from_utf8_lossy(&queue.stdout).trim().is_empty();
        let (again, text) = listed();
        if !ids.is_empty() && !active && ids == again {
            crate::slurm::assert_all_complete(&text, &format!("jobs {ids:?}"));
            break;
        }
        assert!(Instant::now() < deadline, "Slurm jobs still active");
        std::thread::sleep(Duration::from_secs(2));
    }
    assert!(
        s.path().join("fault-fired").exists(),
        "the fault never fired"
    );

    let (_node, copy, _) = pulled_copy(&server, &url);
    assert_same_tables(&s.path().join("local"), &copy);
    // The tasks' and steps' logs reached the bucket; the failed attempt's among them.
    let logs: Vec<String> = files_under(&copy.join("logs")).into_keys().collect();
    assert!(
        logs.iter().any(|l| l.starts_with("extract-step-")),
        "{logs:?}"
    );
    let extract_logs = logs.iter().filter(|l| l.starts_with("extract-")).count();
    assert!(extract_logs >= 5, "3 tasks, a retry and a step: {logs:?}");
    // Each job's copy was removed after it published.
    let left: Vec<_> = std::fs::read_dir(s.path().join("node-scratch"))
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|run| {
            std::fs::read_dir(run.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|e| e.file_name().to_string_lossy().starts_with("job-"))
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "job copies left behind: {left:?}");
    server.stop();
}

#[test]
fn a_run_url_with_credentials_or_an_unknown_scheme_is_a_usage_error_that_echoes_nothing() {
    let s = Scratch::new();
    for (url, expected) in [
        ("s3://AKIAEXAMPLE:sekr1t-value@corpus/runs", "environment"),
        (
            "s3://corpus/runs?X-Amz-Signature=sekr1t-value",
            "without a query",
        ),
        ("ftp://corpus/runs", "not a store"),
    ] {
        for command in [&["run", "--run", url][..], &["status", "--run", url][..]] {
            let out = s.run(command);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{command:?}: {err}");
            assert!(err.contains(expected), "{command:?}: {err}");
            assert!(
                !err.contains("sekr1t-value") && !err.contains("AKIAEXAMPLE"),
                "{err}"
            );
        }
    }
    assert!(!s.path().join("runs").exists(), "nothing was written");
}

/// Wait until a unit of the folder under the scratch copy has its marker.
fn wait_for_marker(scratch: &Path, folder: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let done = std::fs::read_dir(scratch)
            .into_iter()
            .flatten()
            .flatten()
            .any(|run| {
                files_under(&run.path().join(folder))
                    .keys()
                    .any(|k| k.ends_with("_done.json"))
            });
        if done {
            return;
        }
        assert!(Instant::now() < deadline, "no unit of {folder} finished");
        std::thread::sleep(Duration::from_millis(100));
    }
}
