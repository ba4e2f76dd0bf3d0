//! Run lifecycle with real processes: SIGKILL then the plain `--resume ID` ends as uninterrupted, a differing plan flag is refused, stale writer locks are taken over and live ones refused.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Instant;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_evoflow");

fn plan_args(db: &Path) -> Vec<String> {
    [
        "evolve",
        "--data",
        "sample:goog-1d",
        "--seeds",
        "ema_crossover,rsi_filter,bollinger_bands",
        "--population",
        "24",
        "--generations",
        "6",
        "--seed",
        "7",
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

/// The plain resume command: only the run id, the storage and the output format.
fn plain_resume(db: &Path, id: &str) -> Vec<String> {
    [
        "evolve",
        "--resume",
        id,
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

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(args: &[String]) -> Output {
    Command::new(BIN).args(args).output().expect("run evoflow")
}

fn answer(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "evoflow failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    serde_json::json!({ "generations": v["generations"], "best": v["best"] })
}

/// Starts the run and returns it once it has logged `n` checkpoints.
fn start_until_checkpoint(db: &Path, id: &str, n: usize) -> Guard {
    let mut args = plan_args(db);
    args.extend(["--run-id", id, "--log-checkpoints"].map(String::from));
    let mut child = Guard(
        Command::new(BIN)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn evoflow"),
    );
    let stderr = child.0.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = 0;
    for line in lines.by_ref() {
        if line.unwrap().starts_with("checkpoint ") {
            seen += 1;
            if seen == n {
                break;
            }
        }
    }
    assert_eq!(seen, n, "the run ended before writing {n} checkpoints");
    // Keep reading: a closed pipe would make the run's next stderr line fail.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

fn status_of(db: &Path, id: &str) -> String {
    let conn = duckdb::Connection::open(db).unwrap();
    conn.query_row("SELECT status FROM runs WHERE run_id = ?", [id], |r| r.get(0))
        .unwrap()
}

#[test]
fn sigkill_after_checkpoints_1_4_and_the_last_then_the_plain_resume_ends_as_uninterrupted() {
    let dir = tempfile::tempdir().unwrap();
    let uninterrupted = answer(&run(&plan_args(&dir.path().join("full.duckdb"))));
    for n in [1, 4, 6] {
        let db = dir.path().join(format!("k{n}.duckdb"));
        let mut child = start_until_checkpoint(&db, "crash", n);
        child.0.kill().unwrap(); // SIGKILL
        child.0.wait().unwrap();
        let started = Instant::now();
        let resumed = run(&plain_resume(&db, "crash"));
        eprintln!(
            "recovery after checkpoint {n}: {:.2} s",
            started.elapsed().as_secs_f64()
        );
        assert_eq!(answer(&resumed), uninterrupted, "killed after checkpoint {n}");
        assert_eq!(status_of(&db, "crash"), "completed");
    }
}

#[test]
fn a_differing_plan_flag_on_resume_is_refused_naming_both_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.duckdb");
    let mut args = plan_args(&db);
    args.extend(["--run-id", "r"].map(String::from));
    answer(&run(&args));
    let mut bad = plain_resume(&db, "r");
    bad.extend(["--population", "30"].map(String::from));
    let out = run(&bad);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--population 30") && stderr.contains("--population 24"),
        "{stderr}"
    );
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn a_lock_file_naming_this_host_and_a_live_pid_but_held_by_no_one_is_taken_over() {
    // What a container restarted with the same hostname and pid finds: the lock file of its
    // dead predecessor, naming a pid that is alive (here: this test's own).
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.duckdb");
    let lock = evoflow::storage::lock_path_for(&db);
    std::fs::write(
        &lock,
        format!("{}:{}\nboot_id old\nstarted 1\n", this_host(), std::process::id()),
    )
    .unwrap();
    let mut args = plan_args(&db);
    args.extend(["--run-id", "l"].map(String::from));
    answer(&run(&args));
    assert_eq!(status_of(&db, "l"), "completed");
    assert!(!lock.exists(), "the writer removes its lock when it ends");
}

#[test]
fn a_live_writer_is_still_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let held = evoflow::storage::WriterLock::acquire(&db).unwrap();
    let out = run(&plan_args(&db));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a second writer ran: {stderr}");
    assert!(
        stderr.contains(&format!("in use by {}:{}", this_host(), std::process::id())),
        "{stderr}"
    );
    drop(held);
    answer(&run(&plan_args(&db)));
}

#[test]
fn the_plain_resume_restores_the_funding_file_of_the_run() {
    let dir = tempfile::tempdir().unwrap();
    // A funding rate every 8 hours from 2000 to 2030 (epoch seconds), varying by the hour.
    let funding = dir.path().join("funding.csv");
    let mut text = String::from("timestamp,rate\n");
    let mut t: i64 = 946_684_800;
    let mut i = 0i64;
    while t < 1_893_456_000 {
        text.push_str(&format!("{t},{}\n", ((i % 7) - 3) as f64 * 1e-5));
        t += 8 * 3600;
        i += 1;
    }
    std::fs::write(&funding, text).unwrap();
    let with_funding = |db: &Path| {
        let mut args = plan_args(db);
        args.extend(["--funding".to_string(), funding.display().to_string()]);
        args
    };
    let uninterrupted = answer(&run(&with_funding(&dir.path().join("full.duckdb"))));
    let db = dir.path().join("f.duckdb");
    let mut args = with_funding(&db);
    args.extend(["--run-id", "fund", "--log-checkpoints"].map(String::from));
    let mut child = Guard(
        Command::new(BIN)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stderr.take().unwrap()).lines();
    assert!(lines.any(|l| l.unwrap() == "checkpoint 2"), "no checkpoint 2");
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    // Only the run id: the bars and the funding file come from the stored plan.
    assert_eq!(answer(&run(&plain_resume(&db, "fund"))), uninterrupted);
}
