//! docker-compose.yml end to end: images built here, a 3-process evolution whose hall of fame equals `-w 1`, a killed container the cluster heals by itself, a disconnected one that stops the others and, reconnected, completes the run identically.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_evoflow");
const INSTALL: &str = "install and start Docker: apt-get update && apt-get install -y docker.io docker-compose prometheus && service docker start";

/// The evolution both runs do: small and quick on the daily sample.
const FLAGS: [&str; 13] = [
    "--data",
    "sample:goog-1d",
    "--seeds",
    "ema_crossover,rsi_filter,donchian_breakout",
    "--population",
    "12",
    "--generations",
    "4",
    "--seed",
    "11",
    "--min-trades",
    "3",
    "--json",
];

/// A longer evolution (all families, 2,000 generations; tens of seconds on one local worker), so that a
/// container is killed or cut off mid-run; `--run-id ID --resume-if-exists` is the supervisor's
/// command of docker-compose.yml.
fn long_flags(id: &'static str) -> Vec<&'static str> {
    vec![
        "--data",
        "sample:goog-1d",
        "--population",
        "64",
        "--generations",
        "2000",
        "--seed",
        "11",
        "--min-trades",
        "3",
        "--json",
        "--log-checkpoints",
        "--run-id",
        id,
        "--resume-if-exists",
    ]
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}); {INSTALL}"))
}

/// Fails (never skips) when there is no docker client or daemon.
fn require_docker() {
    let out = output(Command::new("docker").arg("info"));
    assert!(
        out.status.success(),
        "the Docker daemon is not reachable: {}; {INSTALL}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let out = output(Command::new("docker-compose").arg("version"));
    assert!(out.status.success(), "docker-compose does not run; {INSTALL}");
}

fn build_images() {
    let start = Instant::now();
    let out = output(Command::new(root().join("docker/build-images.sh")).arg(BIN));
    assert!(
        out.status.success(),
        "docker/build-images.sh failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("images built in {:.1} s", start.elapsed().as_secs_f64());
}

/// A compose project under a unique name; `down -v` when dropped, also on failure.
struct Project {
    name: String,
    files: Vec<PathBuf>,
    _dir: tempfile::TempDir,
}

impl Project {
    /// docker-compose.yml plus an override that gives every evoflow service `flags` (and the
    /// service keys `extra`, indented lines).
    fn new(tag: &str, flags: &[&str], extra: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let over = dir.path().join("docker-compose.test.yml");
        let mut text = String::from("services:\n");
        for p in 0..3 {
            let cmd: Vec<String> = [
                "evolve",
                "-n",
                "3",
                "-p",
                &p.to_string(),
                "-h",
                "/etc/evoflow/hosts.txt",
                "-w",
                "1",
                "--storage",
                "shared",
                "--shared-dir",
                "/data",
                "--connect-timeout",
                "120",
            ]
            .iter()
            .chain(flags.iter())
            .map(|s| format!("\"{s}\""))
            .collect();
            text.push_str(&format!("  evoflow-{p}:\n    command: [{}]\n{extra}", cmd.join(", ")));
        }
        std::fs::write(&over, text).unwrap();
        Project {
            name: format!("evoflowtest{}{tag}", std::process::id()),
            files: vec![root().join("docker-compose.yml"), over],
            _dir: dir,
        }
    }

    fn compose(&self) -> Command {
        let mut cmd = Command::new("docker-compose");
        // Prometheus on a port Docker picks, so a test never collides with one already running.
        cmd.env("PROMETHEUS_PUBLISH", "127.0.0.1:");
        cmd.arg("-p").arg(&self.name);
        for f in &self.files {
            cmd.arg("-f").arg(f);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = output(self.compose().args(args));
        assert!(
            out.status.success(),
            "docker-compose {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn container(&self, service: &str) -> String {
        let out = self.run(&["ps", "-q", service]);
        let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(!id.is_empty(), "no container for {service}");
        id
    }

    fn logs(&self) -> String {
        let out = output(self.compose().args(["logs", "--no-color"]));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self
            .compose()
            .args(["down", "-v", "--remove-orphans", "-t", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// `docker inspect` of a container: (running or restarting, exit code).
fn state(id: &str) -> (bool, i64) {
    let out = output(Command::new("docker").args(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", id]));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    (
        it.next() != Some("exited"),
        it.next().and_then(|c| c.parse().ok()).unwrap_or(-1),
    )
}

/// Waits until container `id` has stopped; its exit code.
fn wait_exit(project: &Project, id: &str, limit: Duration) -> i64 {
    let start = Instant::now();
    loop {
        let (running, code) = state(id);
        if !running {
            return code;
        }
        assert!(
            start.elapsed() < limit,
            "{id} still running after {limit:?}; logs:\n{}",
            project.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The parts of the result that must not depend on topology or timing.
fn answer(v: &Value) -> Value {
    serde_json::json!({ "generations": v["generations"], "best": v["best"] })
}

fn local_answer(dir: &Path) -> Value {
    local_answer_of(dir, &FLAGS)
}

/// `-w 1` of `flags` on a local database (without the supervisor flags, which change nothing).
fn local_answer_of(dir: &Path, flags: &[&str]) -> Value {
    let db = dir.join("local.duckdb");
    let _ = std::fs::remove_file(&db);
    let flags: Vec<&str> = flags
        .iter()
        .copied()
        .filter(|f| *f != "--resume-if-exists" && *f != "--log-checkpoints")
        .collect();
    let out = Command::new(BIN)
        .arg("evolve")
        .args(flags)
        .args(["-w", "1", "--storage", "local", "--db"])
        .arg(&db)
        .env_remove("EVOFLOW_STORAGE")
        .env_remove("EVOFLOW_SHARED_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "local run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    answer(&serde_json::from_slice(&out.stdout).expect("local stdout is JSON"))
}

#[test]
fn compose_cluster_of_three_equals_one_worker() {
    require_docker();
    build_images();
    let project = Project::new("eq", &FLAGS, "");
    let start = Instant::now();
    project.run(&["up", "-d", "evoflow-0", "evoflow-1", "evoflow-2"]);
    let id = project.container("evoflow-0");
    let code = wait_exit(&project, &id, Duration::from_secs(300));
    eprintln!("compose run finished in {:.1} s", start.elapsed().as_secs_f64());
    assert_eq!(code, 0, "evoflow-0 exited {code}; logs:\n{}", project.logs());
    // Its stdout only (docker logs sends the container's stderr to stderr).
    let out = output(Command::new("docker").args(["logs", &id]));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "evoflow-0's stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let local = local_answer(dir.path());
    assert!(!local["best"].as_array().unwrap().is_empty(), "{local}");
    assert_eq!(answer(&v), local, "compose cluster differs from -w 1");
    for p in 1..3 {
        let other = project.container(&format!("evoflow-{p}"));
        assert_eq!(wait_exit(&project, &other, Duration::from_secs(30)), 0, "evoflow-{p}");
    }
}

/// The stderr (and stdout) of container `id`.
fn container_logs(id: &str) -> String {
    let out = output(Command::new("docker").args(["logs", id]));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Waits until container `id` has logged `checkpoint N` (N >= `n`), failing after 180 s.
fn wait_checkpoint(project: &Project, id: &str, n: u64) {
    let start = Instant::now();
    while checkpoints(&container_logs(id)).last().is_none_or(|&c| c < n) {
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "no checkpoint {n} after 180 s; logs:\n{}",
            project.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The numbers of the `checkpoint N` lines in `logs`, in order.
fn checkpoints(logs: &str) -> Vec<u64> {
    logs.lines()
        .filter_map(|l| l.trim().strip_prefix("checkpoint ")?.trim().parse().ok())
        .collect()
}

/// `docker inspect` field `format` of container `id`.
fn inspect(id: &str, format: &str) -> String {
    let out = output(Command::new("docker").args(["inspect", "-f", format, id]));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// evoflow-0's stdout parsed as the run's JSON result.
fn result_of(id: &str) -> Value {
    let out = output(Command::new("docker").args(["logs", id]));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "evoflow-0's stdout is not one JSON result ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn a_killed_container_is_restarted_and_the_cluster_ends_identically() {
    require_docker();
    build_images();
    let flags = long_flags("heal");
    let project = Project::new("heal", &flags, "");
    project.run(&["up", "-d", "evoflow-0", "evoflow-1", "evoflow-2"]);
    let ids: Vec<String> = (0..3).map(|p| project.container(&format!("evoflow-{p}"))).collect();
    wait_checkpoint(&project, &ids[0], 20);
    // A crash as Docker sees one: the container's process dies by SIGKILL from outside (a
    // `docker kill` would count as a manual stop, which restart policies ignore).
    let pid = inspect(&ids[1], "{{.State.Pid}}");
    let before = checkpoints(&container_logs(&ids[0])).len();
    assert!(Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
    let killed = Instant::now();
    // Recovery: until evoflow-0 (restarted after losing its peer) stores its next generation.
    let mut recovery = None;
    let code = loop {
        let (running, code) = state(&ids[0]);
        let restarts: u64 = inspect(&ids[0], "{{.RestartCount}}").parse().unwrap_or(0);
        if recovery.is_none() && restarts > 0 && checkpoints(&container_logs(&ids[0])).len() > before {
            recovery = Some(killed.elapsed());
        }
        if !running && restarts > 0 {
            break code;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(300),
            "the cluster did not finish within 300 s of the kill; logs:\n{}",
            project.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let recovery = recovery.expect("evoflow-0 stored a generation after its restart");
    eprintln!(
        "recovery: {:.1} s from the kill of evoflow-1 to the next stored generation",
        recovery.as_secs_f64()
    );
    assert_eq!(code, 0, "evoflow-0 exited {code}; logs:\n{}", project.logs());
    for (p, id) in ids.iter().enumerate() {
        let restarts: u64 = inspect(id, "{{.RestartCount}}").parse().unwrap_or(0);
        assert!(restarts >= 1, "evoflow-{p} was not restarted");
    }
    for (p, id) in ids.iter().enumerate().skip(1) {
        assert_eq!(wait_exit(&project, id, Duration::from_secs(60)), 0, "evoflow-{p}");
    }
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        answer(&result_of(&ids[0])),
        local_answer_of(dir.path(), &flags),
        "the healed cluster differs from -w 1"
    );
}

#[test]
fn network_disconnect_stops_the_others_with_a_clear_error_and_reconnected_the_run_completes() {
    require_docker();
    build_images();
    // No restart, so the first exit is the one seen; the same containers are started again
    // once the network is back (what restart: on-failure does by itself).
    let flags = long_flags("net");
    let project = Project::new("net", &flags, "    restart: \"no\"\n");
    project.run(&["up", "-d", "evoflow-0", "evoflow-1", "evoflow-2"]);
    let ids: Vec<String> = (0..3).map(|p| project.container(&format!("evoflow-{p}"))).collect();
    wait_checkpoint(&project, &ids[0], 20);
    let network = format!("{}_evoflow", project.name);
    let cut = Instant::now();
    let out = output(Command::new("docker").args(["network", "disconnect", "-f", &network, &ids[2]]));
    assert!(
        out.status.success(),
        "disconnect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (p, id) in ids.iter().enumerate().take(2) {
        let code = wait_exit(&project, id, Duration::from_secs(30));
        let took = cut.elapsed().as_secs_f64();
        eprintln!("evoflow-{p} stopped {took:.1} s after the disconnect, exit {code}");
        let logs = container_logs(id);
        assert_ne!(code, 0, "evoflow-{p} exited 0 after losing a peer:\n{logs}");
        assert!(took < 10.0, "evoflow-{p} took {took:.1} s to stop");
        assert!(
            logs.contains("lost the connection"),
            "evoflow-{p} stopped without a clear error:\n{logs}"
        );
    }
    let code = wait_exit(&project, &ids[2], Duration::from_secs(60));
    assert_ne!(code, 0, "the cut-off evoflow-2 exited 0");
    let out = output(Command::new("docker").args(["network", "connect", &network, &ids[2]]));
    assert!(
        out.status.success(),
        "connect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same containers, the same commands: they resume from the last stored checkpoint.
    let out = output(Command::new("docker").args(["start", &ids[0], &ids[1], &ids[2]]));
    assert!(out.status.success(), "start: {}", String::from_utf8_lossy(&out.stderr));
    let code = wait_exit(&project, &ids[0], Duration::from_secs(300));
    assert_eq!(code, 0, "evoflow-0 after reconnecting: {}", project.logs());
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        answer(&result_of(&ids[0])),
        local_answer_of(dir.path(), &flags),
        "the reconnected cluster differs from -w 1"
    );
}

/// The address of container `id` on the compose network (reachable from this host).
fn container_ip(id: &str) -> String {
    inspect(id, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")
}

/// The `up` value of every evoflow target Prometheus (at `ip`) knows: (instance, value).
fn evoflow_up(ip: &str) -> Vec<(String, String)> {
    let url = format!("http://{ip}:9090/api/v1/query?query=up%7Bjob%3D%22evoflow%22%7D");
    let Ok(mut response) = ureq::get(&url).call() else {
        return Vec::new();
    };
    let Ok(body) = response.body_mut().read_to_string() else {
        return Vec::new();
    };
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    v["data"]["result"]
        .as_array()
        .map(|series| {
            series
                .iter()
                .map(|s| {
                    (
                        s["metric"]["instance"].as_str().unwrap_or_default().to_string(),
                        s["value"][1].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn prometheus_in_the_compose_network_sees_all_three_processes_up() {
    require_docker();
    build_images();
    // A run that does not end while Prometheus scrapes (every 5 s); stopped by `down`.
    let mut flags = FLAGS.to_vec();
    flags[7] = "100000";
    let project = Project::new("prom", &flags, "    restart: \"no\"\n");
    project.run(&["up", "-d", "evoflow-0", "evoflow-1", "evoflow-2", "prometheus"]);
    let ip = container_ip(&project.container("prometheus"));
    let start = Instant::now();
    let up = loop {
        let up = evoflow_up(&ip);
        if up.len() == 3 && up.iter().all(|(_, v)| v == "1") {
            break up;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "Prometheus at {ip} does not see three evoflow targets up after 90 s: {up:?}; logs:\n{}",
            project.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    eprintln!(
        "Prometheus saw {up:?} {:.1} s after `up`",
        start.elapsed().as_secs_f64()
    );
    let mut instances: Vec<&str> = up.iter().map(|(i, _)| i.as_str()).collect();
    instances.sort_unstable();
    assert_eq!(instances, ["evoflow-0:9464", "evoflow-1:9464", "evoflow-2:9464"]);
}
