//! `evolve --metrics-addr` / `EVOFLOW_METRICS_ADDR`: bad and busy addresses, port 0, and /metrics counters that add up to the run's result on `-w 2` and `-n 2`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_evoflow");

/// A small run on the daily sample.
fn small_run(db: &Path) -> Vec<String> {
    [
        "evolve",
        "--data",
        "sample:goog-1d",
        "--seeds",
        "ema_crossover,rsi_filter,donchian_breakout",
        "--population",
        "16",
        "--generations",
        "5",
        "--seed",
        "7",
        "--min-trades",
        "3",
        "--json",
        "--db",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([db.display().to_string()])
    .collect()
}

/// Kills the child when dropped, so a failing test leaves no process behind.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process started with its stdout in `out` and its `metrics: http://…` address sent on.
fn spawn(args: &[String], env: &[(&str, &str)], out: &Path) -> (Guard, Receiver<String>) {
    let mut child = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .stdout(File::create(out).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn evoflow");
    let (tx, rx) = channel();
    let pipe = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (Guard(child), rx)
}

/// The metrics URL printed on stderr (the other lines are kept in `lines`).
fn metrics_url(stderr: &Receiver<String>, lines: &mut Vec<String>) -> String {
    loop {
        let line = stderr
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("no `metrics: http://` line; stderr: {lines:?}"));
        if let Some(url) = line.strip_prefix("metrics: ") {
            return url.to_string();
        }
        lines.push(line);
    }
}

/// Waits until `out` holds the run's whole JSON result.
fn wait_for_json(out: &Path, guard: &mut Guard) -> Value {
    loop {
        if let Ok(v) = serde_json::from_str::<Value>(&std::fs::read_to_string(out).unwrap_or_default()) {
            return v;
        }
        if let Some(status) = guard.0.try_wait().unwrap() {
            panic!("evoflow exited ({status}) without a JSON result");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The samples of a text exposition: `name{labels}` → value.
fn scrape(url: &str) -> BTreeMap<String, f64> {
    let mut response = ureq::get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = response.body_mut().read_to_string().unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_string(), value.parse::<f64>().unwrap())
        })
        .collect()
}

/// The sum of every sample of metric `name` (all label sets).
fn total(samples: &BTreeMap<String, f64>, name: &str) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| *k == name || k.starts_with(&format!("{name}{{")))
        .map(|(_, v)| v)
        .sum()
}

/// Scrapes `url` until `evoflow_run_status` is 1 (the process finished its run).
fn scrape_completed(url: &str) -> BTreeMap<String, f64> {
    for _ in 0..600 {
        let samples = scrape(url);
        if samples.get("evoflow_run_status") == Some(&1.0) {
            return samples;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{url} never reported evoflow_run_status 1");
}

#[test]
fn bad_and_busy_addresses_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.duckdb");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().to_string();
    for (addr, wanted) in [
        (busy.as_str(), "cannot listen on"),
        ("localhost", "no port"),
        ("127.0.0.1:70000", "is not a number from 0 to 65535"),
    ] {
        let mut args = small_run(&db);
        args.extend(["--metrics-addr".to_string(), addr.to_string()]);
        let out = Command::new(BIN).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{addr}: {stderr}");
        assert!(stderr.contains(&format!("--metrics-addr {addr}: ")), "{stderr}");
        assert!(stderr.contains(wanted), "{addr}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // The environment variable is read the same way.
    let out = Command::new(BIN)
        .args(small_run(&db))
        .env("EVOFLOW_METRICS_ADDR", &busy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen on"));
    let mut args = small_run(&db);
    args.extend(["--metrics-linger", "-1"].map(String::from));
    let out = Command::new(BIN).args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_counters_of_w2_add_up_to_the_result_and_the_process_waits_for_the_final_scrape() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = small_run(&dir.path().join("a.duckdb"));
    args.extend(["-w", "2", "--run-id", "m-w2", "--metrics-linger", "120"].map(String::from));
    let out = dir.path().join("out.json");
    // Port 0 through the environment: the chosen port is printed.
    let (mut guard, stderr) = spawn(&args, &[("EVOFLOW_METRICS_ADDR", "127.0.0.1:0")], &out);
    let url = metrics_url(&stderr, &mut Vec::new());
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/metrics"),
        "{url}"
    );
    assert!(!url.contains(":0/"), "{url}");
    let result = wait_for_json(&out, &mut guard);
    let samples = scrape_completed(&url);
    let generations = result["generations"].as_f64().unwrap();
    assert_eq!(
        total(&samples, "evoflow_evaluations_total"),
        result["evaluations"].as_f64().unwrap()
    );
    assert_eq!(
        total(&samples, "evoflow_fitness_cache_hits_total"),
        result["cache_hits"].as_f64().unwrap()
    );
    for worker in ["0", "1"] {
        let key = format!("evoflow_worker_busy_seconds_total{{worker=\"{worker}\"}}");
        assert!(samples.get(&key).is_some_and(|&busy| busy > 0.0), "{key}: {samples:?}");
    }
    assert_eq!(samples["evoflow_generation"], generations - 1.0);
    assert_eq!(samples["evoflow_generations_planned"], 5.0);
    assert_eq!(samples["evoflow_checkpoint_generation"], generations);
    assert_eq!(samples["evoflow_workers"], 2.0);
    assert_eq!(samples["evoflow_peers_connected"], 0.0);
    assert_eq!(samples["evoflow_storage_write_duration_seconds_count"], generations);
    assert_eq!(samples["evoflow_generation_duration_seconds_count"], generations);
    assert_eq!(
        total(&samples, "evoflow_population_family_size"),
        16.0,
        "the family sizes make up the population"
    );
    assert_eq!(
        total(&samples, "evoflow_evaluation_duration_seconds_count"),
        result["evaluations"].as_f64().unwrap()
    );
    assert!(samples["evoflow_fitness_best"].is_finite());
    assert!(
        samples.contains_key("evoflow_run_info{process=\"0\",run_id=\"m-w2\"}"),
        "{samples:?}"
    );
    assert!(samples.contains_key("process_resident_memory_bytes"), "{samples:?}");
    // That scrape saw the final state: the process exits now (well before --metrics-linger).
    let status = guard.0.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn both_processes_of_n2_serve_their_own_workers_counters() {
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..2)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect::<Vec<_>>()
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    let hosts = dir.path().join("hosts.txt");
    std::fs::write(
        &hosts,
        ports.iter().map(|p| format!("127.0.0.1:{p}\n")).collect::<String>(),
    )
    .unwrap();
    let mut processes = Vec::new();
    for p in 0..2 {
        let mut args = small_run(&dir.path().join("a.duckdb"));
        args.extend(
            [
                "-n",
                "2",
                "-p",
                &p.to_string(),
                "-h",
                &hosts.display().to_string(),
                "-w",
                "1",
                "--run-id",
                "m-n2",
                "--metrics-addr",
                "127.0.0.1:0",
                "--metrics-linger",
                "120",
            ]
            .map(String::from),
        );
        let out = dir.path().join(format!("out{p}.json"));
        let (guard, stderr) = spawn(&args, &[], &out);
        processes.push((guard, stderr, out));
    }
    let urls: Vec<String> = processes
        .iter()
        .map(|(_, stderr, _)| metrics_url(stderr, &mut Vec::new()))
        .collect();
    let (coordinator, _, coordinator_out) = &mut processes[0];
    let result = wait_for_json(coordinator_out, coordinator);
    let samples: Vec<BTreeMap<String, f64>> = urls.iter().map(|u| scrape_completed(u)).collect();
    let sum = |name: &str| samples.iter().map(|s| total(s, name)).sum::<f64>();
    assert_eq!(
        sum("evoflow_evaluations_total"),
        result["evaluations"].as_f64().unwrap()
    );
    assert_eq!(
        sum("evoflow_fitness_cache_hits_total"),
        result["cache_hits"].as_f64().unwrap()
    );
    let generations = result["generations"].as_f64().unwrap();
    for (p, s) in samples.iter().enumerate() {
        // Worker p is process p's only worker: each process serves its own.
        let own = format!("evoflow_evaluations_total{{worker=\"{p}\"}}");
        assert!(s.get(&own).is_some_and(|&n| n > 0.0), "process {p}: {s:?}");
        assert_eq!(
            s.keys().filter(|k| k.starts_with("evoflow_evaluations_total{")).count(),
            1,
            "process {p} serves only its own worker"
        );
        assert_eq!(s["evoflow_peers_connected"], 1.0, "process {p}");
        assert_eq!(s["evoflow_generation"], generations - 1.0, "process {p}");
        assert!(
            s.contains_key(&format!("evoflow_run_info{{process=\"{p}\",run_id=\"m-n2\"}}")),
            "{s:?}"
        );
    }
    assert!(samples[0].contains_key("evoflow_fitness_best"));
    assert!(
        !samples[1].contains_key("evoflow_fitness_best"),
        "only the coordinator has fitness"
    );
    for (p, (guard, _, _)) in processes.iter_mut().enumerate() {
        let status = guard.0.wait().unwrap();
        assert!(status.success(), "process {p}: {status}");
    }
}
