//! Overfitting guard rails through the real binary: a random walk gives no significant strategy, walk-forward is the same on every topology and after resume, bad `--validation` / `--pbo` values exit 2.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_evoflow");

fn run(args: &[String]) -> Output {
    Command::new(BIN).args(args).output().expect("run evoflow")
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "evoflow failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// What must not depend on the topology or on a resume.
fn result_of(v: &Value) -> Value {
    serde_json::json!({
        "generations": v["generations"],
        "validation": v["validation"],
        "n_trials": v["n_trials"],
        "sr_variance": v["sr_variance"],
        "same_behaviour_merged": v["same_behaviour_merged"],
        "pbo": v["pbo"],
        "best": v["best"],
    })
}

/// A seeded geometric random walk of `n` daily bars (xorshift64* and Box-Muller), as CSV.
fn write_random_walk(path: &Path, n: usize, seed: u64) {
    let mut state = seed.max(1);
    let mut uniform = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut normal = move || {
        let (u1, u2) = (uniform().max(1e-300), uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let mut text = String::from("timestamp,open,high,low,close,volume\n");
    let start = 1_420_070_400_000i64; // 2015-01-01
    let mut close = 100.0f64;
    for i in 0..n {
        let open = close * (1.0 + 0.002 * normal());
        close = open * (1.0 + 0.012 * normal());
        let high = open.max(close) * (1.0 + 0.004 * normal().abs());
        let low = open.min(close) * (1.0 - 0.004 * normal().abs());
        let ts = chrono::DateTime::from_timestamp_millis(start + i as i64 * 86_400_000).unwrap();
        text.push_str(&format!(
            "{},{open:.6},{high:.6},{low:.6},{close:.6},{}\n",
            ts.format("%Y-%m-%dT%H:%M:%SZ"),
            1000 + i
        ));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn the_best_strategy_evolved_on_a_random_walk_is_not_significant() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("walk.csv");
    write_random_walk(&csv, 1500, 20_261_207);
    let out = run(&strings(&[
        "evolve",
        "--data",
        csv.to_str().unwrap(),
        "--seeds",
        "ema_crossover,rsi_filter,bollinger_bands,donchian_breakout,stochastic_oscillator",
        "--population",
        "48",
        "--generations",
        "8",
        "--min-trades",
        "5",
        "--no-store",
        "--json",
        "-w",
        "2",
    ]));
    let v = json_of(&out);
    let best = v["best"].as_array().unwrap();
    assert!(!best.is_empty());
    let n_trials = v["n_trials"].as_u64().unwrap();
    assert!(n_trials > 48, "distinct genomes tried: {n_trials}");
    let top = &best[0]["validation"];
    let dsr = top["dsr"].as_f64().unwrap_or_else(|| panic!("no DSR: {}", best[0]));
    assert!(dsr < 0.95, "a random walk gave a significant strategy: {top}");
    assert_eq!(top["n_trials"].as_u64(), Some(n_trials));
    for key in ["psr", "sr_per_period", "sr_variance", "skew", "kurtosis", "n_obs"] {
        assert!(top[key].is_number(), "{key} missing in {top}");
    }
    let warnings: Vec<&str> = best[0]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(warnings.iter().any(|w| w.starts_with("dsr ")), "{warnings:?}");
    let pbo = v["pbo"]["pbo"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&pbo));
    assert_eq!(v["pbo"]["combinations"].as_u64(), Some(12_870));
}

/// The walk-forward plan, stored in `db` (`None`: `--no-store`).
fn walk_forward_args(db: Option<&Path>, generations: &str) -> Vec<String> {
    let mut args = strings(&[
        "evolve",
        "--data",
        "sample:goog-1d",
        "--seeds",
        "ema_crossover,rsi_filter,bollinger_bands",
        "--validation",
        "walk-forward:3",
        "--population",
        "24",
        "--generations",
        generations,
        "--seed",
        "11",
        "--min-trades",
        "3",
        "--pbo",
        "8",
        "--json",
    ]);
    match db {
        Some(db) => args.extend(strings(&["--storage", "local", "--db", db.to_str().unwrap()])),
        None => args.push("--no-store".into()),
    }
    args
}

fn with(mut args: Vec<String>, more: &[&str]) -> Vec<String> {
    args.extend(strings(more));
    args
}

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn walk_forward_is_the_same_at_one_and_two_workers_and_after_resume() {
    let dir = tempfile::tempdir().unwrap();
    let db = |name: &str| dir.path().join(name);
    let one = json_of(&run(&with(walk_forward_args(Some(&db("a.duckdb")), "6"), &["-w", "1"])));
    assert_eq!(one["validation"], "walk-forward:3");
    let two = json_of(&run(&with(walk_forward_args(Some(&db("b.duckdb")), "6"), &["-w", "2"])));
    assert_eq!(result_of(&one), result_of(&two), "-w 1 and -w 2");

    // Extended: 4 generations, then --resume to 6.
    let first = with(
        walk_forward_args(Some(&db("c.duckdb")), "4"),
        &["-w", "1", "--run-id", "ext"],
    );
    json_of(&run(&first));
    let resume = with(
        strings(&[
            "evolve",
            "--resume",
            "ext",
            "--generations",
            "6",
            "--json",
            "-w",
            "2",
            "--db",
        ]),
        &[db("c.duckdb").to_str().unwrap()],
    );
    assert_eq!(result_of(&json_of(&run(&resume))), result_of(&one), "resume extension");

    // Killed after its third checkpoint, then the plain resume.
    let args = with(
        walk_forward_args(Some(&db("d.duckdb")), "6"),
        &["-w", "1", "--run-id", "crash", "--log-checkpoints"],
    );
    let mut child = Guard(
        Command::new(BIN)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stderr.take().unwrap()).lines();
    let mut seen = 0;
    for line in lines.by_ref() {
        if line.unwrap().starts_with("checkpoint ") {
            seen += 1;
            if seen == 3 {
                break;
            }
        }
    }
    assert_eq!(seen, 3, "the run ended before 3 checkpoints");
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let plain = with(
        strings(&["evolve", "--resume", "crash", "--json", "-w", "1", "--db"]),
        &[db("d.duckdb").to_str().unwrap()],
    );
    assert_eq!(result_of(&json_of(&run(&plain))), result_of(&one), "kill and resume");

    // The validation mode is part of the plan.
    let other = with(
        strings(&[
            "evolve",
            "--resume",
            "crash",
            "--validation",
            "holdout",
            "--json",
            "--db",
        ]),
        &[db("d.duckdb").to_str().unwrap()],
    );
    let out = run(&other);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--validation holdout") && stderr.contains("--validation walk-forward:3"),
        "{stderr}"
    );
}

#[test]
fn bad_validation_and_pbo_values_exit_2_with_a_clear_message() {
    for (flag, value, says) in [
        ("--validation", "walk-forward:0", "--validation walk-forward:0"),
        ("--validation", "walk-forward:x", "--validation walk-forward:x"),
        ("--validation", "kfold", "expected `holdout` or `walk-forward:K`"),
        ("--pbo", "7", "--pbo 7: the number of blocks must be an even number"),
        ("--pbo", "0", "--pbo 0"),
    ] {
        let out = run(&strings(&["evolve", "--no-store", "--generations", "1", flag, value]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(says), "{flag} {value}: {stderr}");
    }
}

fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    listeners.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

#[test]
fn walk_forward_on_two_processes_equals_one_worker() {
    let dir = tempfile::tempdir().unwrap();
    let one = json_of(&run(&with(walk_forward_args(None, "6"), &["-w", "1"])));
    let hosts = dir.path().join("hosts.txt");
    let text: String = free_ports(2).iter().map(|p| format!("127.0.0.1:{p}\n")).collect();
    std::fs::write(&hosts, text).unwrap();
    let spawn = |p: &str| {
        let args = with(
            walk_forward_args(None, "6"),
            &[
                "-w",
                "1",
                "-n",
                "2",
                "-p",
                p,
                "-h",
                hosts.to_str().unwrap(),
                "--connect-timeout",
                "30",
            ],
        );
        Guard(
            Command::new(BIN)
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        )
    };
    let mut p1 = spawn("1");
    let mut p0 = spawn("0");
    let out0 = output_of(&mut p0);
    let out1 = output_of(&mut p1);
    assert!(
        out1.status.success(),
        "process 1: {}",
        String::from_utf8_lossy(&out1.stderr)
    );
    assert_eq!(result_of(&json_of(&out0)), result_of(&one), "-n 2 and -w 1");
}

/// Reads a spawned process's stdout and stderr to their end and waits for it.
fn output_of(g: &mut Guard) -> Output {
    use std::io::Read;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    g.0.stdout.take().unwrap().read_to_end(&mut stdout).unwrap();
    g.0.stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
    Output {
        status: g.0.wait().unwrap(),
        stdout,
        stderr,
    }
}
