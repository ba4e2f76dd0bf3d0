//! Multi-process runs of the `evoflow-sphere` binary on localhost: equality with the sequential
//! GA, a lost peer makes the survivor exit non-zero, a missing peer hits the connect timeout,
//! processes started with different flags refuse to run together, a process that leaves
//! before the run starts stops the others.

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use evoflow_dataflows::toy::Sphere;
use evoflow_dataflows::{run_sequential, GaConfig};

const BIN: &str = env!("CARGO_BIN_EXE_evoflow-sphere");

/// Kills the child on drop, so a failing test never leaves processes behind.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `n` free localhost ports and a hostfile listing them.
fn hostfile_n(name: &str, n: usize) -> (PathBuf, Vec<String>) {
    let listeners: Vec<TcpListener> = (0..n).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let addresses: Vec<String> = listeners.iter().map(|l| l.local_addr().unwrap().to_string()).collect();
    drop(listeners);
    let path = std::env::temp_dir().join(format!("evoflow-cluster-{}-{name}.txt", std::process::id()));
    std::fs::write(&path, format!("# test cluster\n{}\n", addresses.join("\n"))).unwrap();
    (path, addresses)
}

/// Two free localhost ports and a hostfile listing them.
fn hostfile(name: &str) -> (PathBuf, Vec<String>) {
    hostfile_n(name, 2)
}

/// The lines `evoflow-sphere` prints on process 0, computed with the sequential GA.
fn expected_output(config: &GaConfig, dims: usize) -> Vec<String> {
    let expected = run_sequential(&Sphere::new(dims), config, None, |_| {}).unwrap();
    let mut lines = Vec::new();
    for s in &expected.stats {
        lines.push(format!(
            "generation {} best {:x} evaluations {} cache_hits {}",
            s.generation,
            s.best.value().to_bits(),
            s.evaluations,
            s.cache_hits
        ));
    }
    for m in &expected.final_population {
        let coords: Vec<String> = m.genome.iter().map(|c| c.to_string()).collect();
        let metrics: Vec<String> = m.metrics.iter().map(|v| format!("{:x}", v.to_bits())).collect();
        assert_eq!(
            m.metrics.len(),
            1,
            "the sphere reports its distance with every individual"
        );
        lines.push(format!(
            "individual {:x} {} metrics {}",
            m.fitness.value().to_bits(),
            coords.join(","),
            metrics.join(",")
        ));
    }
    for e in &expected.hall_of_fame {
        let coords: Vec<String> = e.genome.iter().map(|c| c.to_string()).collect();
        lines.push(format!(
            "hall {:x} {} generation {}",
            e.fitness.value().to_bits(),
            coords.join(","),
            e.generation
        ));
    }
    lines
}

fn spawn(args: &[&str]) -> Guard {
    Guard(
        Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn evoflow-sphere"),
    )
}

/// Waits for the child to exit within `limit`; returns (status code, stdout, stderr).
fn finish(guard: &mut Guard, limit: Duration) -> (Option<i32>, String, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = guard.0.try_wait().unwrap() {
            let mut out = String::new();
            let mut err = String::new();
            guard.0.stdout.take().unwrap().read_to_string(&mut out).unwrap();
            guard.0.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            return (status.code(), out, err);
        }
        assert!(start.elapsed() < limit, "process did not exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_processes_match_the_sequential_ga() {
    let (hosts, _) = hostfile("equal");
    let hosts = hosts.to_str().unwrap();
    let common = [
        "-n",
        "2",
        "-h",
        hosts,
        "--population",
        "30",
        "--generations",
        "12",
        "--seed",
        "5",
        "--dims",
        "3",
    ];
    let mut p1 = spawn(&[&common[..], &["-p", "1", "-w", "2", "-z"]].concat());
    let mut p0 = spawn(&[&common[..], &["-p", "0", "-w", "2"]].concat());
    let (code0, out0, err0) = finish(&mut p0, Duration::from_secs(60));
    let (code1, out1, err1) = finish(&mut p1, Duration::from_secs(60));
    assert_eq!(code0, Some(0), "process 0 stderr: {err0}");
    assert_eq!(code1, Some(0), "process 1 stderr: {err1}");
    assert_eq!(out1.trim(), "not coordinator");

    let config = GaConfig {
        population: 30,
        generations: 12,
        seed: 5,
        ..GaConfig::default()
    };
    let lines = expected_output(&config, 3);
    assert_eq!(out0.lines().collect::<Vec<_>>(), lines);
}

#[test]
fn three_processes_match_the_sequential_ga() {
    let (hosts, _) = hostfile_n("three", 3);
    let hosts = hosts.to_str().unwrap();
    let common = [
        "-n",
        "3",
        "-h",
        hosts,
        "--population",
        "25",
        "--generations",
        "10",
        "--seed",
        "9",
        "--dims",
        "2",
    ];
    // Started in reverse order: the connect logic must wait for lower-numbered peers.
    let mut processes: Vec<Guard> = (0..3)
        .rev()
        .map(|p| spawn(&[&common[..], &["-p", &p.to_string()]].concat()))
        .collect();
    processes.reverse();
    let outputs: Vec<_> = processes
        .iter_mut()
        .map(|p| finish(p, Duration::from_secs(60)))
        .collect();
    for (p, (code, out, err)) in outputs.iter().enumerate() {
        assert_eq!(*code, Some(0), "process {p} stderr: {err}");
        if p > 0 {
            assert_eq!(out.trim(), "not coordinator");
        }
    }
    let config = GaConfig {
        population: 25,
        generations: 10,
        seed: 9,
        ..GaConfig::default()
    };
    assert_eq!(outputs[0].1.lines().collect::<Vec<_>>(), expected_output(&config, 2));
}

#[test]
fn losing_a_peer_makes_the_survivor_exit_non_zero() {
    for victim in [1usize, 0] {
        let (hosts, _) = hostfile(&format!("kill{victim}"));
        let hosts = hosts.to_str().unwrap();
        // 40 x 5 ms per generation for 10_000 generations: far longer than the test.
        let common = [
            "-n",
            "2",
            "-h",
            hosts,
            "--population",
            "40",
            "--generations",
            "10000",
            "--eval-micros",
            "5000",
        ];
        let p0 = spawn(&[&common[..], &["-p", "0"]].concat());
        let p1 = spawn(&[&common[..], &["-p", "1"]].concat());
        let mut processes = [p0, p1];
        std::thread::sleep(Duration::from_secs(2));
        for p in processes.iter_mut() {
            assert!(
                p.0.try_wait().unwrap().is_none(),
                "both processes should still be running"
            );
        }
        processes[victim].0.kill().unwrap();
        let survivor = 1 - victim;
        let start = Instant::now();
        let (code, _, err) = finish(&mut processes[survivor], Duration::from_secs(15));
        assert_eq!(code, Some(1), "survivor {survivor} stderr: {err}");
        assert!(
            err.contains(&format!("error: lost the connection to process {victim}")),
            "stderr: {err}"
        );
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}

#[test]
fn a_peer_that_never_comes_up_hits_the_connect_timeout() {
    let (hosts, addresses) = hostfile("timeout");
    let hosts = hosts.to_str().unwrap();
    // Process 1 dials process 0, which never starts.
    let start = Instant::now();
    let mut p1 = spawn(&["-n", "2", "-p", "1", "-h", hosts, "--connect-timeout", "2"]);
    let (code, _, err) = finish(&mut p1, Duration::from_secs(20));
    assert_eq!(code, Some(1), "stderr: {err}");
    assert!(
        err.contains(&format!(
            "error: could not connect to process 0 at {} within 2 s",
            addresses[0]
        )),
        "stderr: {err}"
    );
    assert!(start.elapsed() >= Duration::from_secs(2));

    // Process 0 waits for process 1, which never starts.
    let mut p0 = spawn(&["-n", "2", "-p", "0", "-h", hosts, "--connect-timeout", "2"]);
    let (code, _, err) = finish(&mut p0, Duration::from_secs(20));
    assert_eq!(code, Some(1), "stderr: {err}");
    assert!(
        err.contains(&format!(
            "error: process 1 (at {}) did not connect within 2 s",
            addresses[1]
        )),
        "stderr: {err}"
    );
}

/// Starts processes 0 and 1 with `common` and each its own extra flags; both must exit with
/// status 2 and the same one-line error containing `expected`.
fn both_refuse(name: &str, extra: [&[&str]; 2], expected: &str) {
    let (hosts, _) = hostfile(name);
    let hosts = hosts.to_str().unwrap();
    let mut guards: Vec<Guard> = (0..2)
        .map(|p| {
            let p = p.to_string();
            let mut args = vec!["-n", "2", "-p", p.as_str(), "-h", hosts, "--connect-timeout", "20"];
            args.extend_from_slice(extra[p.parse::<usize>().unwrap()]);
            spawn(&args)
        })
        .collect();
    let errors: Vec<String> = guards
        .iter_mut()
        .map(|g| {
            let (code, out, err) = finish(g, Duration::from_secs(30));
            assert_eq!(code, Some(2), "stdout: {out} stderr: {err}");
            assert!(out.is_empty(), "nothing ran: {out}");
            err
        })
        .collect();
    assert!(errors[0].contains(expected), "{}", errors[0]);
    assert_eq!(errors[0], errors[1], "both processes give the same reason");
}

#[test]
fn processes_with_different_workers_or_settings_refuse_to_run_together() {
    both_refuse(
        "workers",
        [&["-w", "2"], &["-w", "1"]],
        "error: processes 0 and 1 run 2 and 1 worker threads: every process needs the same -w",
    );
    both_refuse(
        "dims",
        [&["--dims", "4"], &["--dims", "5"]],
        "error: processes 0 and 1 were started with different settings, data or builds",
    );
    both_refuse(
        "seed",
        [&["--seed", "1"], &["--seed", "2"]],
        "error: processes 0 and 1 were started with different settings, data or builds",
    );
}

/// Processes 0 and 2 of three connect; process 1 never comes up, and process 0 dies while
/// waiting for it. Process 2, still dialing process 1, must stop at once (process 0 left)
/// instead of waiting out its connect timeout for a run that can no longer start.
#[test]
fn a_peer_that_leaves_before_the_run_starts_stops_the_others_at_once() {
    use std::io::{BufRead, BufReader};
    let (hosts, addresses) = hostfile_n("left", 3);
    let hosts = hosts.to_str().unwrap();
    let args = |p: &'static str| vec!["-n", "3", "-h", hosts, "--connect-timeout", "60", "-r", "-p", p];
    let mut p0 = spawn(&args("0"));
    let mut p2 = spawn(&args("2"));
    // Wait until process 2 reports its connection to process 0, keeping the rest of its stderr.
    let lines = BufReader::new(p2.0.stderr.take().unwrap()).lines();
    let (sender, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let mut err2: Vec<String> = Vec::new();
    while !err2.iter().any(|l| l.contains("process 2: connected to process 0")) {
        err2.push(
            received
                .recv_timeout(Duration::from_secs(20))
                .expect("process 2 connects to process 0"),
        );
    }
    p0.0.kill().unwrap();
    p0.0.wait().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = p2.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "process 2 still waits {:?} after process 0 died",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    err2.extend(received.iter());
    let err2 = err2.join("\n");
    assert_eq!(status.code(), Some(1), "process 2 stderr: {err2}");
    assert!(
        err2.contains(&format!(
            "error: process 0 (at {}) left before the run started",
            addresses[0]
        )),
        "process 2 stderr: {err2}"
    );
}

#[test]
fn bad_flags_exit_with_status_2() {
    let mut p = spawn(&["-w", "zero"]);
    let (code, _, err) = finish(&mut p, Duration::from_secs(20));
    assert_eq!(code, Some(2));
    assert!(err.contains("invalid value \"zero\" for -w"), "{err}");
    let mut p = spawn(&["-n", "2", "-p", "2"]);
    let (code, _, err) = finish(&mut p, Duration::from_secs(20));
    assert_eq!(code, Some(2));
    assert!(
        err.contains("error: invalid value \"2\" for --process: must be below --processes (2)"),
        "{err}"
    );
    let mut p = spawn(&["--population", "1"]);
    let (code, _, err) = finish(&mut p, Duration::from_secs(20));
    assert_eq!(code, Some(2));
    assert!(err.contains("error: population must be at least 2 (got 1)"), "{err}");
}
