//! Run lifecycle of a 2-process run with real processes: SIGTERM to the coordinator or to the worker stops both with 128+15 and status interrupted, and the supervisor's one command (`--run-id ID --resume-if-exists`) started again on both finishes the run as `-w 1` would, then prints it again on every later start.
//! Stop latencies are printed (`--nocapture`).

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_evoflow");

/// The run's flags: long enough (300 generations of 4 families, about 2 s) that a signal sent
/// after its second checkpoint arrives well before its end.
fn plan_args(db: &Path) -> Vec<String> {
    [
        "evolve",
        "--data",
        "sample:goog-1d",
        "--seeds",
        "ema_crossover,rsi_filter,bollinger_bands,donchian_breakout",
        "--population",
        "64",
        "--generations",
        "300",
        "--seed",
        "5",
        "--min-trades",
        "3",
        "--json",
        "-w",
        "1",
        "--storage",
        "local",
        "--db",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([db.display().to_string()])
    .collect()
}

/// The supervisor's command for process `p` of 2 over `hosts`.
fn supervised(db: &Path, id: &str, p: usize, hosts: &Path) -> Vec<String> {
    let mut args = plan_args(db);
    args.extend(["--run-id", id, "--resume-if-exists", "--log-checkpoints"].map(String::from));
    args.extend(["-n", "2", "-p", &p.to_string(), "-h", &hosts.display().to_string()].map(String::from));
    args
}

/// A running `evoflow` whose stdout is collected and whose stderr lines arrive on `lines`;
/// killed on drop so that a failing test leaves no process behind.
struct Process {
    child: Child,
    lines: Receiver<String>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    err: Vec<String>,
}

impl Process {
    fn spawn(args: &[String]) -> Process {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn evoflow");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let mut out = child.stdout.take().unwrap();
        let stdout = Some(std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = out.read_to_end(&mut bytes);
            bytes
        }));
        Process {
            child,
            lines,
            stdout,
            err: Vec::new(),
        }
    }

    /// Waits (at most 120 s) for the stderr line `checkpoint N`.
    fn wait_for_checkpoint(&mut self, n: u64) {
        let line = format!("checkpoint {n}");
        while !self.err.contains(&line) {
            match self.lines.recv_timeout(Duration::from_secs(120)) {
                Ok(l) => self.err.push(l),
                Err(_) => panic!("no `{line}` on stderr; it said: {:?}", self.err),
            }
        }
    }

    /// Waits (at most `limit`) for the exit; returns the status, stdout and stderr.
    fn finish(&mut self, limit: Duration) -> (ExitStatus, String, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(start.elapsed() < limit, "evoflow did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.stdout.take().map(|h| h.join().unwrap()).unwrap_or_default();
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.err.push(l);
        }
        (
            status,
            String::from_utf8_lossy(&stdout).into_owned(),
            self.err.join("\n"),
        )
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    listeners.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

/// Writes fresh free ports into the host file (the command line stays the same).
fn refresh_hosts(path: &Path) {
    let text: String = free_ports(2).iter().map(|p| format!("127.0.0.1:{p}\n")).collect();
    std::fs::write(path, text).expect("write hostfile");
}

fn answer(stdout: &str) -> Value {
    let v: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"));
    serde_json::json!({ "generations": v["generations"], "best": v["best"] })
}

fn status_of(db: &Path, id: &str) -> String {
    let conn = duckdb::Connection::open(db).unwrap();
    conn.query_row("SELECT status FROM runs WHERE run_id = ?", [id], |r| r.get(0))
        .unwrap()
}

fn uninterrupted(dir: &Path) -> Value {
    let out = Command::new(BIN)
        .args(plan_args(&dir.join("whole.duckdb")))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    answer(&String::from_utf8_lossy(&out.stdout))
}

/// Starts both processes of the supervised run and waits for their exits.
fn start_pair(db: &Path, id: &str, hosts: &Path) -> [Process; 2] {
    refresh_hosts(hosts);
    [0, 1].map(|p| Process::spawn(&supervised(db, id, p, hosts)))
}

#[test]
fn sigterm_to_either_process_stops_both_and_the_supervisor_command_finishes_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let whole = uninterrupted(dir.path());
    let hosts: PathBuf = dir.path().join("hosts.txt");
    for target in [0usize, 1] {
        let db = dir.path().join(format!("term{target}.duckdb"));
        let id = format!("term{target}");
        let mut pair = start_pair(&db, &id, &hosts);
        pair[0].wait_for_checkpoint(2);
        let sent = Instant::now();
        let pid = pair[target].child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        for (p, process) in pair.iter_mut().enumerate() {
            let (status, _, err) = process.finish(Duration::from_secs(30));
            assert_eq!(
                status.code(),
                Some(128 + 15),
                "SIGTERM to process {target}: process {p} exited with {status}: {err}"
            );
            if p == 0 {
                assert!(err.contains("interrupted by signal 15"), "{err}");
            }
        }
        eprintln!(
            "SIGTERM to process {target}: both processes exited {:.2} s after the signal",
            sent.elapsed().as_secs_f64()
        );
        assert_eq!(status_of(&db, &id), "interrupted");

        // The same commands, again: they resume the run and end as `-w 1` did.
        let mut pair = start_pair(&db, &id, &hosts);
        let (status, out, err) = pair[0].finish(Duration::from_secs(120));
        assert!(status.success(), "resume after SIGTERM to process {target}: {err}");
        assert_eq!(answer(&out), whole, "SIGTERM to process {target}, then resumed");
        let (status, out1, err1) = pair[1].finish(Duration::from_secs(30));
        assert!(status.success() && out1.is_empty(), "process 1: {status} {err1}");
        assert_eq!(status_of(&db, &id), "completed");
    }
}

#[test]
fn a_completed_run_started_again_on_every_process_prints_its_result_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("done.duckdb");
    let hosts = dir.path().join("hosts.txt");
    let mut first: Option<Value> = None;
    for start in 0..3 {
        let mut pair = start_pair(&db, "done", &hosts);
        let began = Instant::now();
        let (status, out, err) = pair[0].finish(Duration::from_secs(120));
        assert!(status.success(), "start {start}: {err}");
        let (status1, out1, err1) = pair[1].finish(Duration::from_secs(30));
        assert!(
            status1.success() && out1.is_empty(),
            "start {start}, process 1: {status1} {err1}"
        );
        let got = answer(&out);
        match &first {
            None => first = Some(got),
            Some(first) => {
                assert_eq!(&got, first, "start {start} prints the stored result");
                assert!(
                    !err.contains("checkpoint "),
                    "start {start} of a completed run ran generations: {err}"
                );
                eprintln!(
                    "completed run, start {start}: both processes done in {:.2} s",
                    began.elapsed().as_secs_f64()
                );
            }
        }
        assert_eq!(status_of(&db, "done"), "completed");
    }
    assert_eq!(first.unwrap(), uninterrupted(dir.path()));
}

#[test]
fn sigint_to_a_two_thread_process_stops_it_with_130_and_the_same_command_finishes_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let whole = uninterrupted(dir.path());
    let db = dir.path().join("int.duckdb");
    let mut args = plan_args(&db);
    let w = args.iter().position(|a| a == "-w").unwrap();
    args[w + 1] = "2".into();
    args.extend(["--run-id", "int", "--resume-if-exists", "--log-checkpoints"].map(String::from));
    let mut process = Process::spawn(&args);
    process.wait_for_checkpoint(2);
    let sent = Instant::now();
    let pid = process.child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let (status, _, err) = process.finish(Duration::from_secs(30));
    assert_eq!(status.code(), Some(128 + 2), "{status}: {err}");
    eprintln!(
        "SIGINT to a -w 2 process: exited {:.2} s after the signal",
        sent.elapsed().as_secs_f64()
    );
    assert_eq!(status_of(&db, "int"), "interrupted");
    let (status, out, err) = Process::spawn(&args).finish(Duration::from_secs(120));
    assert!(status.success(), "{err}");
    assert_eq!(answer(&out), whole);
    assert_eq!(status_of(&db, "int"), "completed");
}

#[test]
fn sigkill_of_either_process_stops_the_other_naming_it_and_a_restart_on_another_topology_ends_identical() {
    let dir = tempfile::tempdir().unwrap();
    let whole = uninterrupted(dir.path());
    let hosts = dir.path().join("hosts.txt");
    for target in [0usize, 1] {
        let db = dir.path().join(format!("kill{target}.duckdb"));
        let id = format!("kill{target}");
        let mut pair = start_pair(&db, &id, &hosts);
        pair[0].wait_for_checkpoint(2);
        pair[target].child.kill().unwrap(); // SIGKILL
        let killed = Instant::now();
        let survivor = 1 - target;
        let (status, _, err) = pair[survivor].finish(Duration::from_secs(30));
        let detected = killed.elapsed();
        assert!(
            !status.success(),
            "process {survivor} survived the loss of {target}: {err}"
        );
        assert!(
            err.contains(&format!("process {target}")),
            "process {survivor} does not name the lost process {target}: {err}"
        );
        eprintln!(
            "SIGKILL of process {target}: process {survivor} exited {:.2} s later",
            detected.as_secs_f64()
        );
        assert!(detected < Duration::from_secs(10), "took {detected:?}");
        // Elastic: the run resumes on one process with two threads and ends as `-w 1` did.
        let mut args = plan_args(&db);
        let w = args.iter().position(|a| a == "-w").unwrap();
        args[w + 1] = "2".into();
        args.extend(["--run-id", &id, "--resume-if-exists"].map(String::from));
        let (status, out, err) = Process::spawn(&args).finish(Duration::from_secs(120));
        assert!(status.success(), "resume on -w 2 after SIGKILL of {target}: {err}");
        assert_eq!(answer(&out), whole, "SIGKILL of process {target}, resumed on -w 2");
    }
}
