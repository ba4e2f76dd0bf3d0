//! docker-compose.yml end to end: images built here, a 3-process evolution whose hall of fame equals `-w 1`.

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

/// `docker inspect` of a container: (running, exit code).
fn state(id: &str) -> (bool, i64) {
    let out = output(Command::new("docker").args(["inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", id]));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    (
        it.next() == Some("true"),
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
    let db = dir.join("local.duckdb");
    let out = Command::new(BIN)
        .arg("evolve")
        .args(FLAGS)
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

#[test]
fn network_disconnect_stops_the_others_with_a_clear_error() {
    require_docker();
    build_images();
    // Long enough to be mid-run when cut off; no restart, so the first exit is the one seen.
    let mut flags = FLAGS.to_vec();
    flags[7] = "100000";
    flags.push("--log-checkpoints");
    let project = Project::new("net", &flags, "    restart: \"no\"\n");
    project.run(&["up", "-d", "evoflow-0", "evoflow-1", "evoflow-2"]);
    let ids: Vec<String> = (0..3).map(|p| project.container(&format!("evoflow-{p}"))).collect();
    // Mid-run: process 0 has stored a few generations.
    let start = Instant::now();
    while !container_logs(&ids[0]).contains("checkpoint 3") {
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "no checkpoint 3 after 180 s; logs:\n{}",
            project.logs()
        );
        assert!(state(&ids[0]).0, "evoflow-0 stopped early; logs:\n{}", project.logs());
        std::thread::sleep(Duration::from_millis(300));
    }
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
}
