//! The real Prometheus scrapes a real 2-process run (`-n 2`, `--metrics-addr 127.0.0.1:0`); every query of the Grafana dashboard returns data.
//!
//! Prometheus (Debian's `prometheus`) listens on a free loopback port, scrapes every second into a
//! temporary TSDB, and finds the run's metrics endpoints through a file_sd targets file written
//! once both processes have printed their `metrics: http://…` address. The run is planned far
//! longer than needed; once Prometheus has scraped both processes at least `MIN_SCRAPES` times
//! and the coordinator has completed `MIN_GENERATIONS` generations, the coordinator gets
//! SIGTERM, which stops the whole run at a generation boundary (both processes report
//! `evoflow_run_status` 2 and linger until scraped). Then every target of every panel of
//! `monitoring/grafana/dashboards/evoflow.json` goes through `/api/v1/query_range` with Grafana's
//! variables substituted.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_evoflow");
const INSTALL: &str = "install Prometheus: apt-get update && apt-get install -y prometheus (Debian's package brings prometheus and promtool)";

/// Scrape interval of the test's Prometheus, in seconds.
const SCRAPE_S: u64 = 1;
/// Scrapes of each process before the run is stopped.
const MIN_SCRAPES: u64 = 12;
/// Generations the coordinator must have completed before the run is stopped.
const MIN_GENERATIONS: i64 = 4;
/// Give up waiting for anything after this long (a hung run, a Prometheus that never scrapes).
const PATIENCE: Duration = Duration::from_secs(900);

/// A child process killed (and reaped) when dropped, also when the test fails.
struct Guard {
    child: Child,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    listeners.iter().map(|l| l.local_addr().expect("addr").port()).collect()
}

fn now_s() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Fails (never skips) when there is no prometheus binary.
fn require_prometheus() {
    let out = Command::new("prometheus")
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run prometheus ({e}); {INSTALL}"));
    assert!(out.status.success(), "prometheus --version failed; {INSTALL}");
}

/// Prometheus on a free loopback port with its TSDB and configuration under `dir`.
struct Prometheus {
    _guard: Guard,
    url: String,
    agent: ureq::Agent,
    log: PathBuf,
}

impl Prometheus {
    /// Starts Prometheus scraping the targets of `targets` (file_sd JSON) every second.
    fn start(dir: &Path, targets: &Path) -> Prometheus {
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: {SCRAPE_S}s\n  scrape_timeout: {SCRAPE_S}s\n  evaluation_interval: {SCRAPE_S}s\n\
                 scrape_configs:\n  - job_name: evoflow\n    file_sd_configs:\n      - files: [\"{}\"]\n        refresh_interval: 1s\n",
                targets.display()
            ),
        )
        .unwrap();
        let port = free_ports(1)[0];
        let log = dir.join("prometheus.log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start prometheus ({e}); {INSTALL}"));
        let mut guard = Guard { child };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = guard.child.try_wait() {
                panic!(
                    "prometheus exited ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if let Ok(response) = agent.get(&format!("{url}/-/ready")).call() {
                if response.status() == 200 {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "prometheus is not ready after 120 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Prometheus {
            _guard: guard,
            url,
            agent,
            log,
        }
    }

    /// The `data.result` of a successful API call; panics with Prometheus' error otherwise.
    fn api(&self, path: &str, params: &[(&str, String)]) -> Vec<Value> {
        let mut request = self.agent.get(&format!("{}{path}", self.url));
        for (key, value) in params {
            request = request.query(*key, value);
        }
        let mut response = request.call().unwrap_or_else(|e| panic!("{path} {params:?}: {e}"));
        let body = response.body_mut().read_to_string().expect("response body");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}"));
        assert_eq!(v["status"], "success", "{path} {params:?}: {body}");
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    fn query(&self, expr: &str) -> Vec<Value> {
        self.api("/api/v1/query", &[("query", expr.to_string())])
    }

    fn query_range(&self, expr: &str, start: f64, end: f64, step: u64) -> Vec<Value> {
        self.api(
            "/api/v1/query_range",
            &[
                ("query", expr.to_string()),
                ("start", format!("{start:.3}")),
                ("end", format!("{end:.3}")),
                ("step", format!("{step}s")),
            ],
        )
    }

    /// The value of a one-series instant query, if there is exactly one.
    fn scalar(&self, expr: &str) -> Option<f64> {
        match self.query(expr).as_slice() {
            [one] => one["value"][1].as_str().and_then(|v| v.parse().ok()),
            _ => None,
        }
    }
}

/// One evoflow process, its stderr collected, the address of its metrics endpoint read from it.
struct Process {
    guard: Guard,
    stderr: Arc<Mutex<String>>,
    metrics: Receiver<String>,
}

impl Process {
    fn spawn(args: &[String], dir: &Path, index: usize) -> Process {
        let mut child = Command::new(BIN)
            .args(args)
            .current_dir(dir)
            .stdout(File::create(dir.join(format!("stdout-{index}.txt"))).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn evoflow");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, metrics) = channel();
        let pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("metrics: http://") {
                    let _ = tx.send(url.trim_end_matches("/metrics").to_string());
                }
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        Process {
            guard: Guard { child },
            stderr,
            metrics,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The `HOST:PORT` the process printed as its metrics address.
    fn metrics_addr(&self) -> String {
        self.metrics
            .recv_timeout(Duration::from_secs(300))
            .unwrap_or_else(|_| panic!("no `metrics: http://…` line on stderr:\n{}", self.stderr()))
    }

    /// Waits for the process to exit; its status.
    fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.guard.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "the process did not exit within {limit:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `expr` with Grafana's variables replaced: the built-ins for a range of `range_s` seconds
/// queried at `step_s`, and the dashboard's template variables by their "All" value.
fn substitute(expr: &str, templating: &[Value], range_s: u64, step_s: u64) -> String {
    // Grafana: $__rate_interval = max($__interval + scrape interval, 4 × scrape interval).
    let rate_interval = (step_s + SCRAPE_S).max(4 * SCRAPE_S);
    let mut vars: Vec<(String, String)> = vec![
        ("__rate_interval".into(), format!("{rate_interval}s")),
        ("__interval_ms".into(), (step_s * 1000).to_string()),
        ("__interval".into(), format!("{step_s}s")),
        ("__range_ms".into(), (range_s * 1000).to_string()),
        ("__range_s".into(), range_s.to_string()),
        ("__range".into(), format!("{range_s}s")),
    ];
    for variable in templating {
        let name = variable["name"].as_str().expect("variable name").to_string();
        let current = &variable["current"]["value"];
        let all = current == "$__all" || current.as_array().is_some_and(|v| v.iter().any(|x| x == "$__all"));
        let value = if all || variable["includeAll"] == true && current.is_null() {
            variable["allValue"].as_str().unwrap_or(".*").to_string()
        } else {
            match current {
                Value::Array(values) => values.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("|"),
                other => other.as_str().unwrap_or_default().to_string(),
            }
        };
        vars.push((name, value));
    }
    // Longest names first, so `$__range` does not eat the start of `$__range_s`.
    vars.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    let mut out = expr.to_string();
    for (name, value) in &vars {
        out = out.replace(&format!("[[{name}]]"), value);
        // `${name}` and `${name:format}`.
        while let Some(start) = out.find(&format!("${{{name}")) {
            let rest = &out[start + name.len() + 2..];
            let Some(end) = rest.find('}') else { break };
            if !(rest.starts_with('}') || rest.starts_with(':')) {
                break;
            }
            out.replace_range(start..start + name.len() + 3 + end, value);
        }
        out = out.replace(&format!("${name}"), value);
    }
    assert!(!out.contains('$'), "a Grafana variable is left in {out}");
    out
}

/// Whether any series of `result` (a query_range matrix) has a finite value.
fn has_data(result: &[Value]) -> bool {
    result.iter().any(|series| {
        series["values"].as_array().is_some_and(|values| {
            values
                .iter()
                .filter_map(|v| v[1].as_str())
                .filter_map(|v| v.parse::<f64>().ok())
                .any(f64::is_finite)
        })
    })
}

#[test]
fn prometheus_scrapes_both_processes_and_every_dashboard_panel_has_data() {
    require_prometheus();
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.json");
    std::fs::write(&targets, "[]").unwrap();
    let prometheus = Prometheus::start(dir.path(), &targets);

    let ports = free_ports(2);
    let hosts = dir.path().join("hosts.txt");
    std::fs::write(
        &hosts,
        ports.iter().map(|p| format!("127.0.0.1:{p}\n")).collect::<String>(),
    )
    .unwrap();
    let db = dir.path().join("evoflow.duckdb");
    let run_start = now_s();
    let mut processes: Vec<Process> = (0..2)
        .map(|p| {
            let args: Vec<String> = [
                "evolve",
                "-n",
                "2",
                "-p",
                &p.to_string(),
                "-h",
                &hosts.display().to_string(),
                "-w",
                "1",
                "--run-id",
                "monitoring-test",
                "--db",
                &db.display().to_string(),
                "--population",
                "48",
                "--generations",
                "100000",
                "--seed",
                "5",
                "--metrics-addr",
                "127.0.0.1:0",
                "--metrics-linger",
                "60",
                "--json",
            ]
            .map(String::from)
            .to_vec();
            Process::spawn(&args, dir.path(), p)
        })
        .collect();
    let addrs: Vec<String> = processes.iter().map(Process::metrics_addr).collect();
    // Written whole, then renamed: Prometheus never reads half a file.
    let staged = dir.path().join("targets.json.new");
    std::fs::write(&staged, serde_json::json!([{ "targets": addrs }]).to_string()).unwrap();
    std::fs::rename(&staged, &targets).unwrap();

    // Let the run go on until Prometheus has seen enough of it.
    let started = Instant::now();
    loop {
        let scrapes: Vec<f64> = addrs
            .iter()
            .map(|a| {
                prometheus
                    .scalar(&format!("count_over_time(up{{job=\"evoflow\",instance=\"{a}\"}}[15m])"))
                    .unwrap_or(0.0)
            })
            .collect();
        let generation = prometheus
            .scalar(&format!("evoflow_generation{{instance=\"{}\"}}", addrs[0]))
            .unwrap_or(-1.0);
        if scrapes.iter().all(|&n| n >= MIN_SCRAPES as f64) && generation >= MIN_GENERATIONS as f64 {
            break;
        }
        for (p, process) in processes.iter_mut().enumerate() {
            if let Ok(Some(status)) = process.guard.child.try_wait() {
                panic!("process {p} ended early ({status}):\n{}", process.stderr());
            }
        }
        assert!(
            started.elapsed() < PATIENCE,
            "after {PATIENCE:?}: scrapes {scrapes:?}, coordinator generation {generation}; prometheus log:\n{}",
            std::fs::read_to_string(&prometheus.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_secs(1));
    }

    // Stop the whole run through the coordinator: both processes stop at the same boundary.
    let pid = processes[0].guard.child.id() as i32;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "kill -TERM {pid}");
    for (p, process) in processes.iter_mut().enumerate() {
        let status = process.wait(Duration::from_secs(180));
        eprintln!("process {p} exited with {status}");
    }
    let end = now_s();
    let range_s = (end - run_start).ceil() as u64;

    // Both processes were up, and their final status (interrupted) was scraped (--metrics-linger).
    let up = prometheus.query_range("up{job=\"evoflow\"}", run_start, end, 1);
    for addr in &addrs {
        let series = up
            .iter()
            .find(|s| s["metric"]["instance"] == addr.as_str())
            .unwrap_or_else(|| panic!("up{{job=\"evoflow\"}} has no series of {addr}: {up:?}"));
        let ups = series["values"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v[1] == "1")
            .count();
        assert!(ups >= MIN_SCRAPES as usize, "{addr} was up in {ups} scrapes");
        let status = prometheus.scalar(&format!(
            "max_over_time(evoflow_run_status{{instance=\"{addr}\"}}[15m])"
        ));
        assert_eq!(status, Some(2.0), "{addr}: the interrupted status was not scraped");
    }

    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("monitoring/grafana/dashboards/evoflow.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let templating = dashboard["templating"]["list"].as_array().cloned().unwrap_or_default();
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 11, "{} panels", panels.len());
    let step = 1;
    let mut empty = Vec::new();
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or("?");
        for target in panel["targets"].as_array().expect("targets") {
            let expr = substitute(target["expr"].as_str().expect("expr"), &templating, range_s, step);
            let result = prometheus.query_range(&expr, run_start, end, step);
            if !has_data(&result) {
                empty.push(format!("{title}: {expr}"));
            }
        }
    }
    assert!(empty.is_empty(), "queries without data:\n{}", empty.join("\n"));

    // What the report quotes: each worker's utilisation (10 s rates) over the run, printed.
    for (what, function) in [("mean", "avg_over_time"), ("peak", "max_over_time")] {
        for series in prometheus.query(&format!(
            "{function}(rate(evoflow_worker_busy_seconds_total[10s])[{range_s}s:1s])"
        )) {
            eprintln!(
                "worker {} {what} utilisation (10 s rate): {}",
                series["metric"]["worker"], series["value"][1]
            );
        }
    }
}

#[test]
fn grafana_variables_are_substituted() {
    let templating = vec![serde_json::json!({
        "name": "instance", "includeAll": true, "allValue": ".*",
        "current": { "text": ["All"], "value": ["$__all"] }
    })];
    assert_eq!(
        substitute(
            "rate(x{instance=~\"$instance\"}[$__rate_interval]) + y[${__range}] + z[$__range_s] + w[[instance]] + ${instance:regex}",
            &templating,
            90,
            1
        ),
        "rate(x{instance=~\".*\"}[4s]) + y[90s] + z[90] + w.* + .*"
    );
}
