//! `evoflow evolve` end to end: same answer on every topology, resume after SIGKILL, clear errors for bad flags and lost peers.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use evoflow::storage::{open_storage, OpenMode, StorageConfig};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_evoflow");

/// Small, quick runs on the daily sample: four indicator seeds and both ML seeds.
const SEEDS: &str =
    "ema_crossover,rsi_filter,bollinger_bands,donchian_breakout,linear_svc_classifier,pca_tree_quantile";

fn base_args(db: &Path) -> Vec<String> {
    [
        "evolve",
        "--data",
        "sample:goog-1d",
        "--seeds",
        SEEDS,
        "--population",
        "24",
        "--generations",
        "5",
        "--seed",
        "7",
        "--min-trades",
        "3",
        "--json",
        "--storage",
        "local",
        "--db",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([db.display().to_string()])
    .collect()
}

/// [`base_args`] on one worker thread (by default a process has a worker per CPU).
fn one_worker(db: &Path) -> Vec<String> {
    let mut args = base_args(db);
    args.extend(["-w".to_string(), "1".to_string()]);
    args
}

/// Kills the child when dropped, so a failing test leaves no process behind.
struct Guard(Child);

impl Guard {
    /// Starts `evoflow` with `args`, its stdout and stderr piped.
    fn spawn(args: &[String]) -> Guard {
        Guard(
            Command::new(BIN)
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn evoflow"),
        )
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(args: &[String]) -> Output {
    Command::new(BIN).args(args).output().expect("run evoflow")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "evoflow failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// The parts of the result that must not depend on topology or timing.
fn answer(v: &Value) -> Value {
    serde_json::json!({ "generations": v["generations"], "best": v["best"] })
}

fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    listeners.iter().map(|l| l.local_addr().expect("addr").port()).collect()
}

/// Makes `args` those of process `p` of two over `hosts`.
fn add_process_flags(args: &mut Vec<String>, p: usize, hosts: &Path) {
    args.extend(["-n", "2", "-p", &p.to_string(), "-h", &hosts.display().to_string()].map(String::from));
}

fn hostfile(dir: &Path, ports: &[u16]) -> PathBuf {
    let path = dir.join("hosts.txt");
    let text: String = ports.iter().map(|p| format!("127.0.0.1:{p}\n")).collect();
    std::fs::write(&path, text).expect("write hostfile");
    path
}

#[test]
fn json_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let v = json_of(&run(&base_args(&dir.path().join("a.duckdb"))));
    for key in [
        "run_id",
        "generations",
        "evaluations",
        "cache_hits",
        "elapsed_s",
        "best",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["generations"], 5);
    let best = v["best"].as_array().unwrap();
    assert!(!best.is_empty());
    let first = &best[0];
    for key in ["seed", "params", "fitness", "train", "test"] {
        assert!(first.get(key).is_some(), "missing best[0].{key}");
    }
    assert!(first["train"].get("sharpe_ratio").is_some() && first["test"].get("num_trades").is_some());
    let fitness: Vec<f64> = best.iter().map(|b| b["fitness"].as_f64().unwrap()).collect();
    assert!(fitness.windows(2).all(|w| w[0] >= w[1]), "best first: {fitness:?}");
}

/// On the hourly sample, with the default settings, the search finds several donchian
/// parameter sets that make the same trades; the hall of fame lists one of them.
#[test]
fn the_hall_of_fame_lists_each_behaviour_once() {
    let args: Vec<String> = [
        "evolve",
        "--seed",
        "42",
        "--population",
        "96",
        "--generations",
        "25",
        "--no-store",
        "--json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let v = json_of(&run(&args));
    let best = v["best"].as_array().unwrap();
    assert_eq!(best.len(), 10);
    for (i, a) in best.iter().enumerate() {
        for b in &best[..i] {
            let alike = a["seed"] == b["seed"] && a["fitness"] == b["fitness"] && a["train"] == b["train"];
            assert!(!alike, "the same behaviour twice:\n{a}\n{b}");
        }
    }
}

#[test]
fn same_answer_on_one_and_several_threads_and_with_serialization() {
    let dir = tempfile::tempdir().unwrap();
    let one = answer(&json_of(&run(&one_worker(&dir.path().join("w1.duckdb")))));
    let mut w3 = base_args(&dir.path().join("w3.duckdb"));
    w3.extend(["-w".to_string(), "3".to_string()]);
    assert_eq!(answer(&json_of(&run(&w3))), one, "-w 3 differs from -w 1");
    let mut z = base_args(&dir.path().join("z.duckdb"));
    z.extend(["-w".to_string(), "2".to_string(), "-z".to_string()]);
    assert_eq!(answer(&json_of(&run(&z))), one, "-w 2 -z differs from -w 1");
}

#[test]
fn two_processes_give_the_same_answer_as_one_worker() {
    let dir = tempfile::tempdir().unwrap();
    let one_json = json_of(&run(&one_worker(&dir.path().join("w1.duckdb"))));
    let one = answer(&one_json);
    let hosts = hostfile(dir.path(), &free_ports(2));
    let spawn = |p: usize, zerocopy: bool| {
        let mut args = base_args(&dir.path().join(format!("n2-{p}.duckdb")));
        add_process_flags(&mut args, p, &hosts);
        args.extend(["--connect-timeout".to_string(), "30".to_string()]);
        if zerocopy {
            args.push("-z".to_string());
        }
        Guard::spawn(&args)
    };
    let mut p1 = spawn(1, true);
    let mut p0 = spawn(0, true);
    let two_json = json_of(&coordinator_output(&mut p0, &mut p1));
    assert_eq!(answer(&two_json), one, "-n 2 differs from -w 1");

    // Every stored individual carries the key statistics computed where it was evaluated
    // (half of them in process 1): the same as the single-worker run's, bit for bit.
    let stored = |db: &str, json: &Value| {
        let config = StorageConfig::local(dir.path().join(db));
        let s = open_storage(&config, OpenMode::ReadOnly).expect("open the run's database");
        let run_id = json["run_id"].as_str().expect("run_id");
        let rows: Vec<_> = s
            .read_individuals(run_id, None)
            .expect("individuals")
            .into_iter()
            .map(|i| {
                let bits = [i.fitness, i.sharpe, i.return_pct, i.max_drawdown_pct].map(f64::to_bits);
                (i.generation, i.genome_json, bits, i.num_trades)
            })
            .collect();
        rows
    };
    let (rows_one, rows_two) = (stored("w1.duckdb", &one_json), stored("n2-0.duckdb", &two_json));
    assert_eq!(rows_one.len(), 24 * 5);
    assert_eq!(
        rows_one, rows_two,
        "individuals' statistics differ between -w 1 and -n 2"
    );
    assert!(
        rows_two.iter().any(|r| r.3 > 0),
        "statistics were recorded, not left undefined"
    );
}

/// Two processes on one host read their market data from the local DuckDB file that process
/// 0 writes the run to: every process reads before it connects, and process 0 opens the file
/// for writing only once both have connected (DuckDB lets no process read a file another one
/// writes). Same answer as one worker on the same bars from the sample.
#[test]
fn processes_on_one_host_read_their_data_from_the_database_process_0_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared-host.duckdb");
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/market/samples/goog_daily.csv");
    let import = run(&[
        "data".to_string(),
        "import".to_string(),
        csv.display().to_string(),
        "--symbol".to_string(),
        "GOOG".to_string(),
        "--timeframe".to_string(),
        "1d".to_string(),
        "--storage".to_string(),
        "local".to_string(),
        "--db".to_string(),
        db.display().to_string(),
    ]);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let one = answer(&json_of(&run(&one_worker(&dir.path().join("w1.duckdb")))));

    let hosts = hostfile(dir.path(), &free_ports(2));
    let spawn = |p: usize| {
        let mut args = base_args(&db);
        let at = args.iter().position(|a| a == "--data").expect("--data");
        args.splice(at..at + 2, ["--symbol", "GOOG", "--timeframe", "1d"].map(String::from));
        add_process_flags(&mut args, p, &hosts);
        args.extend(["--connect-timeout".to_string(), "30".to_string()]);
        Guard::spawn(&args)
    };
    // Process 0 first, with time to open the file: before, it held the file for writing from
    // then on, and process 1 failed to read it ("in use").
    let mut p0 = spawn(0);
    std::thread::sleep(Duration::from_secs(1));
    let mut p1 = spawn(1);
    let two = json_of(&coordinator_output(&mut p0, &mut p1));
    assert_eq!(answer(&two), one, "-n 2 on stored bars differs from -w 1 on the sample");
    let s = open_storage(&StorageConfig::local(db), OpenMode::ReadOnly).expect("open the database");
    let run_id = two["run_id"].as_str().expect("run_id");
    assert!(
        s.get_run(run_id).expect("read runs").is_some(),
        "process 0 wrote the run to the file"
    );
}

/// Process 0 finds a problem with storage only after the processes have connected (here: the
/// run id is taken): it fails with the reason, and the other process stops at once with a
/// lost connection instead of waiting for a run that never starts.
#[test]
fn a_coordinator_that_cannot_store_the_run_stops_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("taken.duckdb");
    let mut first = one_worker(&db);
    first.extend(["--run-id".to_string(), "taken".to_string()]);
    json_of(&run(&first));

    let hosts = hostfile(dir.path(), &free_ports(2));
    let spawn = |p: usize| {
        let mut args = base_args(&db);
        add_process_flags(&mut args, p, &hosts);
        args.extend(["--run-id", "taken", "--connect-timeout", "60"].map(String::from));
        Guard::spawn(&args)
    };
    let mut p0 = spawn(0);
    let mut p1 = spawn(1);
    let out0 = wait_output(&mut p0, Duration::from_secs(60));
    let out1 = wait_output(&mut p1, Duration::from_secs(20));
    let err0 = String::from_utf8_lossy(&out0.stderr);
    assert_eq!(out0.status.code(), Some(2), "{err0}");
    assert!(err0.contains("run `taken` already exists"), "{err0}");
    let err1 = String::from_utf8_lossy(&out1.stderr);
    assert_eq!(out1.status.code(), Some(1), "{err1}");
    assert!(err1.contains("lost the connection to process 0"), "{err1}");
}

/// Waits for both processes of a two-process run; process 1 must succeed and print nothing
/// (only the coordinator prints results). Returns process 0's output.
fn coordinator_output(p0: &mut Guard, p1: &mut Guard) -> Output {
    let out0 = wait_output(p0, Duration::from_secs(120));
    let out1 = wait_output(p1, Duration::from_secs(30));
    assert!(
        out1.status.success(),
        "process 1 failed: {}",
        String::from_utf8_lossy(&out1.stderr)
    );
    assert!(out1.stdout.is_empty(), "only the coordinator prints results");
    out0
}

fn wait_output(guard: &mut Guard, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = guard.0.try_wait() {
            break;
        }
        assert!(start.elapsed() < limit, "process did not finish within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let child = &mut guard.0;
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    use std::io::Read;
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_end(&mut stdout);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_end(&mut stderr);
    }
    Output {
        status: child.wait().expect("status"),
        stdout,
        stderr,
    }
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_the_uninterrupted_answer() {
    let dir = tempfile::tempdir().unwrap();
    let mut full = base_args(&dir.path().join("full.duckdb"));
    set_flag(&mut full, "--generations", "12");
    let uninterrupted = answer(&json_of(&run(&full)));

    let db = dir.path().join("killed.duckdb");
    let mut args = base_args(&db);
    set_flag(&mut args, "--generations", "12");
    args.extend([
        "--run-id".to_string(),
        "victim".to_string(),
        "--log-checkpoints".to_string(),
    ]);
    let mut child = Guard::spawn(&args);
    let stderr = child.0.stderr.take().unwrap();
    let mut seen = 0;
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.starts_with("checkpoint ") {
            seen += 1;
            if seen == 4 {
                break;
            }
        }
    }
    assert_eq!(seen, 4, "the run ended before writing 4 checkpoints");
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();

    let mut resume = base_args(&db);
    set_flag(&mut resume, "--generations", "12");
    resume.extend(["--resume".to_string(), "victim".to_string()]);
    let resumed = answer(&json_of(&run(&resume)));
    assert_eq!(resumed, uninterrupted, "resumed run differs from the uninterrupted one");
}

#[test]
fn a_finished_run_can_be_extended() {
    let dir = tempfile::tempdir().unwrap();
    let mut full = base_args(&dir.path().join("full.duckdb"));
    set_flag(&mut full, "--generations", "8");
    let uninterrupted = answer(&json_of(&run(&full)));
    let db = dir.path().join("ext.duckdb");
    let mut first = base_args(&db);
    first.extend(["--run-id".to_string(), "ext".to_string()]);
    json_of(&run(&first));
    let mut more = base_args(&db);
    set_flag(&mut more, "--generations", "8");
    more.extend(["--resume".to_string(), "ext".to_string()]);
    let resumed = run(&more);
    assert_eq!(answer(&json_of(&resumed)), uninterrupted);
    assert!(resumed.stderr.is_empty(), "same build: no warning");

    // A run started by another build resumes with a warning that results may differ.
    let other = "0.0.1+src.0000000000000000";
    let conn = duckdb::Connection::open(&db).unwrap();
    conn.execute("UPDATE runs SET code_version = ? WHERE run_id = 'ext'", [other])
        .unwrap();
    drop(conn);
    set_flag(&mut more, "--generations", "9");
    let resumed = run(&more);
    json_of(&resumed);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: run ext was started by evoflow {other} and resumes with {}",
            evoflow::BUILD
        )),
        "{stderr}"
    );
}

fn set_flag(args: &mut [String], flag: &str, value: &str) {
    let i = args.iter().position(|a| a == flag).expect("flag present");
    args[i + 1] = value.to_string();
}

fn fails_with(args: &[&str], needle: &str) {
    let out = Command::new(BIN).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit 2 for {args:?}, stderr: {stderr}"
    );
    assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The cause is told once (an error must not be both in the message and its source).
    assert!(!stderr.contains("(os error 2): No such file"), "{stderr}");
}

#[test]
fn bad_flags_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.duckdb").display().to_string();
    fails_with(&["evolve", "--db", &db, "--seeds", "nope"], "unknown seed `nope`");
    fails_with(
        &["evolve", "--db", &db, "--population", "1"],
        "population must be at least 2",
    );
    fails_with(
        &["evolve", "--db", &db, "--objective", "luck"],
        "unknown objective `luck`",
    );
    fails_with(&["evolve", "--db", &db, "--test-fraction", "1.5"], "--test-fraction");
    fails_with(&["evolve", "--no-store", "--run-id", ""], "invalid run id ``");
    fails_with(
        &["evolve", "--no-store", "--population", "2"],
        "--elitism (2) must be smaller than --population (2)",
    );
    let hosts = dir.path().join("one.txt");
    std::fs::write(&hosts, "127.0.0.1:1\n").unwrap();
    let hosts = hosts.display().to_string();
    fails_with(&["evolve", "--db", &db, "-n", "2", "-p", "0", "-h", &hosts], "one.txt");
    fails_with(
        &["evolve", "--db", &db, "--data", "/no/such/file.csv"],
        "/no/such/file.csv",
    );
    fails_with(
        &["evolve", "--db", &db, "-n", "2", "-p", "0", "-h", "/no/such/hosts.txt"],
        "cannot read hostfile /no/such/hosts.txt",
    );
}

#[test]
fn a_peer_that_never_comes_up_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = hostfile(dir.path(), &free_ports(2));
    let mut args = base_args(&dir.path().join("t.duckdb"));
    args.extend(
        [
            "-n",
            "2",
            "-p",
            "0",
            "-h",
            &hosts.display().to_string(),
            "--connect-timeout",
            "2",
        ]
        .map(String::from),
    );
    let start = Instant::now();
    let mut child = Guard::spawn(&args);
    let out = wait_output(&mut child, Duration::from_secs(30));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("connect"), "{stderr}");
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn processes_given_different_data_refuse_to_run_together() {
    // The EFS pattern: every process loads the data itself, so a stale copy on one host must
    // stop the run instead of silently scoring half the genomes on other bars.
    let dir = tempfile::tempdir().unwrap();
    let hosts = hostfile(dir.path(), &free_ports(2));
    let spawn = |p: usize| {
        let mut args = one_worker(&dir.path().join(format!("x{p}.duckdb")));
        if p == 1 {
            set_flag(&mut args, "--data", "sample:eurusd-1h");
        }
        add_process_flags(&mut args, p, &hosts);
        Guard::spawn(&args)
    };
    let mut p1 = spawn(1);
    let mut p0 = spawn(0);
    let outputs = [&mut p0, &mut p1].map(|p| wait_output(p, Duration::from_secs(60)));
    let expected = "error: processes 0 and 1 were started with different settings, data or builds";
    for out in &outputs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
        assert!(stderr.contains(expected), "stderr: {stderr}");
        assert!(out.stdout.is_empty(), "no result printed");
    }
}

#[test]
fn a_peer_that_dies_makes_the_other_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = hostfile(dir.path(), &free_ports(2));
    let spawn = |p: usize| {
        let mut args = base_args(&dir.path().join(format!("d{p}.duckdb")));
        set_flag(&mut args, "--generations", "100000");
        add_process_flags(&mut args, p, &hosts);
        Guard::spawn(&args)
    };
    let mut p1 = spawn(1);
    let mut p0 = spawn(0);
    std::thread::sleep(Duration::from_secs(3));
    assert!(p0.0.try_wait().unwrap().is_none(), "coordinator ended early");
    p1.0.kill().unwrap();
    let out = wait_output(&mut p0, Duration::from_secs(30));
    assert!(!out.status.success(), "coordinator should fail when its peer dies");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error"), "{stderr}");
}
