//! `evoflow runs list` / `runs show` on the DuckDB backends: while a run holds the database (from the published status documents), after it is interrupted, completed, and without the documents.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_evoflow");

fn evoflow(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args);
    for var in [
        "EVOFLOW_STORAGE",
        "STORAGE_BACKEND",
        "EVOFLOW_DB",
        "EVOFLOW_SHARED_DIR",
        "EFS_MOUNT_PATH",
        "EVOFLOW_PG_URL",
        "DATABASE_URL",
    ] {
        c.env_remove(var);
    }
    c
}

fn output(args: &[&str]) -> Output {
    evoflow(args).output().expect("run evoflow")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "evoflow failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a run that goes on until the test stops it; returns once it logged `n` checkpoints.
fn start_long_run(storage: &[&str], id: &str, n: usize) -> Guard {
    let mut args = vec![
        "evolve",
        "--data",
        "sample:goog-1d",
        "--seeds",
        "ema_crossover,rsi_filter,bollinger_bands",
        "--population",
        "24",
        "--generations",
        "100000",
        "--min-trades",
        "3",
        "-w",
        "1",
        "--log-checkpoints",
        "--run-id",
        id,
    ];
    args.extend(storage);
    let mut child = Guard(
        evoflow(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn evoflow"),
    );
    let mut lines = BufReader::new(child.0.stderr.take().unwrap()).lines();
    let mut seen = 0;
    for line in lines.by_ref() {
        if line.unwrap().starts_with("checkpoint ") {
            seen += 1;
            if seen == n {
                break;
            }
        }
    }
    assert_eq!(seen, n, "the run ended before {n} checkpoints");
    std::thread::spawn(move || lines.for_each(drop));
    child
}

fn check_backend(storage: &[&str], results_db: &Path) {
    let with = |head: &[&str]| -> Vec<String> { head.iter().chain(storage).map(|s| s.to_string()).collect() };
    let run = |head: &[&str]| {
        let args = with(head);
        output(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let mut live = start_long_run(storage, "live", 3);
    // The writer holds the database: DuckDB would refuse any other process.
    let runs = json(&run(&["runs", "list", "--json"]));
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (runs[0]["run_id"].as_str(), runs[0]["status"].as_str()),
        (Some("live"), Some("running"))
    );
    assert!(runs[0]["generations"].as_array().unwrap().len() >= 3, "{runs:?}");
    assert_eq!(runs[0]["ended_at_ms"], Value::Null);
    let writer = format!(":{}", live.0.id());
    assert!(runs[0]["writer"].as_str().unwrap().ends_with(&writer), "{runs:?}");
    let out = run(&["runs", "show", "live"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("status    running") && text.contains("wall ms"), "{text}");
    let out = run(&["runs", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("live"));
    assert!(
        live.0.try_wait().unwrap().is_none(),
        "the run was not running while it was read"
    );

    // SIGTERM: interrupted at a generation boundary, with its end time; the documents agree
    // with the database.
    unsafe { libc::kill(live.0.id() as i32, libc::SIGTERM) };
    assert_eq!(live.0.wait().unwrap().code(), Some(128 + 15));
    let shown = json(&run(&["runs", "show", "live", "--json"]));
    assert_eq!(shown["status"], "interrupted");
    assert!(shown["ended_at_ms"].as_i64().unwrap() >= shown["started_at_ms"].as_i64().unwrap());
    let gens = shown["generations"].as_array().unwrap().clone();
    for (i, g) in gens.iter().enumerate() {
        assert_eq!(g["generation"], i as u64);
        assert!(g["elapsed_ms"].is_u64() && g["evaluations"].is_u64(), "{g}");
    }
    let conn = duckdb::Connection::open(results_db).unwrap();
    let (stored, status): (i64, String) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM generations WHERE run_id = 'live'), status FROM runs WHERE run_id = 'live'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(conn);
    assert_eq!((stored, status.as_str()), (gens.len() as i64, "interrupted"));

    // A completed run.
    let out = run(&[
        "evolve",
        "--data",
        "sample:goog-1d",
        "--seeds",
        "ema_crossover",
        "--population",
        "8",
        "--generations",
        "3",
        "-w",
        "1",
        "--run-id",
        "done",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = json(&run(&["runs", "list", "--json"]));
    let ids: Vec<(&str, &str, usize)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["run_id"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["generations"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(ids, vec![("live", "interrupted", gens.len()), ("done", "completed", 3)]);

    // Without the published documents (a database from before them) the database answers.
    let mut docs = results_db.as_os_str().to_owned();
    docs.push(".runs");
    std::fs::remove_dir_all(&docs).unwrap();
    assert_eq!(comparable(json(&run(&["runs", "list", "--json"]))), comparable(list));
    let out = run(&["runs", "show", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no run `nope`"));
}

/// A run list without the fields that differ by source: the documents name their writer
/// and when they were published; the database alone knows neither.
fn comparable(mut list: Value) -> Value {
    for r in list.as_array_mut().unwrap() {
        r["writer"] = Value::Null;
        r["updated_at_ms"] = Value::Null;
    }
    list
}

#[test]
fn runs_on_the_local_backend_while_a_run_writes_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("evoflow.duckdb");
    let db_text = db.display().to_string();
    check_backend(&["--storage", "local", "--db", &db_text], &db);
}

#[test]
fn runs_on_the_shared_backend_while_a_run_writes_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().display().to_string();
    check_backend(
        &["--storage", "shared", "--shared-dir", &shared],
        &dir.path().join("results.duckdb"),
    );
}
