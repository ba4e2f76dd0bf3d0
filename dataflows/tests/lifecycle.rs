//! Run lifecycle with real processes of `evoflow-sphere`: SIGTERM to any process of a 2-process
//! run stops both at one boundary with 128+15 and a durable checkpoint, and the same commands
//! resume it; SIGKILL of either process at several moments (also while the checkpoint is being
//! written) makes the survivor exit non-zero within 10 s naming the lost process, and a restart,
//! also with another -n/-w and with -z, ends bit-identical to an uninterrupted run.
//! Measured stop latencies and detection times are printed (`--nocapture`).

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use evoflow_dataflows::toy::Sphere;
use evoflow_dataflows::{run_sequential, Checkpoint, GaConfig};

const BIN: &str = env!("CARGO_BIN_EXE_evoflow-sphere");

/// A running `evoflow-sphere`, killed on drop so a failing test leaves no process behind; its
/// stderr lines arrive on `lines` (and are kept in `err`).
struct Process {
    child: Child,
    lines: Receiver<String>,
    err: Vec<String>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    fn spawn(args: &[String]) -> Process {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn evoflow-sphere");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        Process {
            child,
            lines,
            err: Vec::new(),
        }
    }

    /// Waits (at most 60 s) for a stderr line equal to `line`.
    fn wait_for(&mut self, line: &str) {
        while !self.err.iter().any(|l| l == line) {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(l) => self.err.push(l),
                Err(_) => panic!("no {line:?} on stderr; got {:?}", self.err),
            }
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill(1) (procps)");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the exit within `limit`; returns (status code, stdout, stderr).
    fn finish(&mut self, limit: Duration) -> (Option<i32>, String, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                start.elapsed() < limit,
                "process did not exit within {limit:?}: {:?}",
                self.err
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut out = String::new();
        self.child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.err.push(line);
        }
        (status.code(), out, self.err.join("\n"))
    }
}

/// Two free localhost ports in a hostfile.
fn hostfile(name: &str) -> PathBuf {
    let listeners: Vec<TcpListener> = (0..2).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let addresses: Vec<String> = listeners.iter().map(|l| l.local_addr().unwrap().to_string()).collect();
    drop(listeners);
    let path = std::env::temp_dir().join(format!("evoflow-lifecycle-{}-{name}.txt", std::process::id()));
    std::fs::write(&path, addresses.join("\n") + "\n").unwrap();
    path
}

/// A fresh checkpoint path.
fn checkpoint_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("evoflow-lifecycle-{}-{name}.ckpt", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn read_checkpoint(path: &Path) -> Checkpoint<Vec<i64>> {
    bincode::deserialize(&std::fs::read(path).expect("checkpoint file")).expect("a whole checkpoint")
}

const POPULATION: usize = 30;
const GENERATIONS: u64 = 40;
const SEED: u64 = 11;
const DIMS: usize = 3;

fn config() -> GaConfig {
    GaConfig {
        population: POPULATION,
        generations: GENERATIONS,
        seed: SEED,
        ..GaConfig::default()
    }
}

/// The run's flags (3 ms per evaluation: about 50 ms a generation), with `checkpoint`.
fn args(checkpoint: &Path, topology: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--population",
        &POPULATION.to_string(),
        "--generations",
        &GENERATIONS.to_string(),
        "--seed",
        &SEED.to_string(),
        "--dims",
        &DIMS.to_string(),
        "--eval-micros",
        "3000",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(topology.iter().map(|s| s.to_string()));
    args
}

/// The topology flags of process `p` of a 2-process run on `hosts`.
fn pair(hosts: &Path, p: usize, extra: &[&str]) -> Vec<String> {
    let mut flags: Vec<String> = ["-n", "2", "-p", &p.to_string(), "-h", hosts.to_str().unwrap()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    flags.extend(extra.iter().map(|s| s.to_string()));
    flags
}

fn spawn_pair(checkpoint: &Path, hosts: &Path, extra: [&[&str]; 2]) -> [Process; 2] {
    let make = |p: usize| {
        let topology = pair(hosts, p, extra[p]);
        let topology: Vec<&str> = topology.iter().map(String::as_str).collect();
        Process::spawn(&args(checkpoint, &topology))
    };
    let p0 = make(0);
    let p1 = make(1);
    [p0, p1]
}

/// The uninterrupted run's final population and hall of fame lines, and per generation its
/// `generation G best X` line start (evaluation counts restart with the caches after a resume).
fn expected() -> (Vec<String>, Vec<String>) {
    let result = run_sequential(&Sphere::new(DIMS), &config(), None, |_| {}).unwrap();
    let generations = result
        .stats
        .iter()
        .map(|s| format!("generation {} best {:x}", s.generation, s.best.value().to_bits()))
        .collect();
    let mut finals = Vec::new();
    for m in &result.final_population {
        let coords: Vec<String> = m.genome.iter().map(|c| c.to_string()).collect();
        let metrics: Vec<String> = m.metrics.iter().map(|v| format!("{:x}", v.to_bits())).collect();
        finals.push(format!(
            "individual {:x} {} metrics {}",
            m.fitness.value().to_bits(),
            coords.join(","),
            metrics.join(",")
        ));
    }
    for e in &result.hall_of_fame {
        let coords: Vec<String> = e.genome.iter().map(|c| c.to_string()).collect();
        finals.push(format!(
            "hall {:x} {} generation {}",
            e.fitness.value().to_bits(),
            coords.join(","),
            e.generation
        ));
    }
    (generations, finals)
}

/// The generation numbers printed by a coordinator, checked against the uninterrupted run.
fn check_generations(label: &str, out: &str, expected: &[String]) -> Vec<u64> {
    out.lines()
        .filter(|l| l.starts_with("generation "))
        .map(|line| {
            let g: u64 = line.split(' ').nth(1).unwrap().parse().unwrap();
            assert!(
                line.starts_with(&format!("{} ", expected[g as usize])),
                "{label}: {line} differs from the uninterrupted {}",
                expected[g as usize]
            );
            g
        })
        .collect()
}

/// Runs the processes given to completion and checks that the coordinator ends as the
/// uninterrupted run, continuing from generation `from`.
fn resume_to_the_end(label: &str, mut processes: Vec<Process>, from: u64) {
    let (generations, finals) = expected();
    let outputs: Vec<_> = processes
        .iter_mut()
        .map(|p| p.finish(Duration::from_secs(60)))
        .collect();
    for (p, (code, _, err)) in outputs.iter().enumerate() {
        assert_eq!(*code, Some(0), "{label}: resumed process {p}: {err}");
    }
    let out = &outputs[0].1;
    let seen = check_generations(label, out, &generations);
    assert_eq!(
        seen,
        (from..GENERATIONS).collect::<Vec<_>>(),
        "{label}: resumed generations"
    );
    let rest: Vec<&str> = out.lines().filter(|l| !l.starts_with("generation ")).collect();
    assert_eq!(rest, finals, "{label}: final population and hall of fame");
}

#[test]
fn sigterm_to_either_process_stops_both_and_the_same_commands_resume() {
    for victim in [0usize, 1] {
        let label = format!("SIGTERM to process {victim}");
        let hosts = hostfile(&format!("term{victim}"));
        let checkpoint = checkpoint_path(&format!("term{victim}"));
        let mut processes = spawn_pair(&checkpoint, &hosts, [&[], &[]]);
        processes[0].wait_for("checkpoint 3");
        let sent = Instant::now();
        processes[victim].signal("TERM");
        let mut ends = Vec::new();
        for p in processes.iter_mut() {
            let end = p.finish(Duration::from_secs(10));
            ends.push((end, sent.elapsed()));
        }
        for (p, ((code, _, err), _)) in ends.iter().enumerate() {
            assert_eq!(*code, Some(143), "{label}: process {p}: {err}");
            assert!(err.contains("interrupted by signal 15"), "{label}: process {p}: {err}");
        }
        assert_eq!(ends[1].0 .1.trim(), "not coordinator");
        let (generations, _) = expected();
        let seen = check_generations(&label, &ends[0].0 .1, &generations);
        let last = *seen.last().unwrap();
        assert_eq!(seen, (0..=last).collect::<Vec<_>>());
        assert!((3..GENERATIONS - 1).contains(&last), "{label}: stopped after {last}");
        // The last completed generation's checkpoint is durable.
        assert!(ends[0].0 .2.contains(&format!("checkpoint {last}")), "{label}");
        assert_eq!(read_checkpoint(&checkpoint).generation, last + 1, "{label}");
        eprintln!(
            "{label}: stop latency {:?} (process 0), {:?} (process 1), stopped after generation {last}",
            ends[0].1, ends[1].1
        );
        // The same commands again resume and end as the uninterrupted run.
        let again = spawn_pair(&checkpoint, &hosts, [&[], &[]]);
        resume_to_the_end(&label, again.into(), last + 1);
    }
}

#[test]
fn sigkill_at_any_moment_stops_the_survivor_naming_the_lost_process_and_a_restart_ends_identical() {
    // (victim, after this stderr line of process 0, checkpoint write delay, restart topology)
    let cases: [(usize, &str, &str, &[&str]); 3] = [
        (1, "checkpoint 1", "0", &["-n2"]),
        (0, "checkpoint 4", "0", &["-w", "3"]),
        // Process 1 dies while process 0 is writing checkpoint 6 (300 ms between write and rename).
        (1, "writing checkpoint 6", "300", &["-n2", "-w", "2", "-z"]),
    ];
    for (case, (victim, moment, delay, restart)) in cases.into_iter().enumerate() {
        let label = format!("SIGKILL of process {victim} after {moment:?}");
        let hosts = hostfile(&format!("kill{case}"));
        let checkpoint = checkpoint_path(&format!("kill{case}"));
        let extra: [&[&str]; 2] = [&["--checkpoint-delay-ms", delay], &["-z"]];
        let mut processes = spawn_pair(&checkpoint, &hosts, extra);
        processes[0].wait_for(moment);
        let killed = Instant::now();
        processes[victim].child.kill().unwrap();
        let survivor = 1 - victim;
        let (code, _, err) = processes[survivor].finish(Duration::from_secs(10));
        let detected = killed.elapsed();
        assert_eq!(code, Some(1), "{label}: survivor {survivor}: {err}");
        assert!(
            err.contains(&format!("error: lost the connection to process {victim}")),
            "{label}: survivor {survivor}: {err}"
        );
        let durable = read_checkpoint(&checkpoint);
        if moment.starts_with("writing") {
            // Killed mid-write: the previous checkpoint is intact.
            assert_eq!(durable.generation, 6, "{label}");
        }
        eprintln!(
            "{label}: survivor exited after {detected:?}; restart from generation {}",
            durable.generation
        );
        drop(processes);

        let restarted: Vec<Process> = if restart[0] == "-n2" {
            spawn_pair(&checkpoint, &hosts, [&restart[1..], &restart[1..]]).into()
        } else {
            vec![Process::spawn(&args(&checkpoint, restart))]
        };
        resume_to_the_end(
            &format!("{label}, restarted {restart:?}"),
            restarted,
            durable.generation,
        );
    }
}

#[test]
fn a_second_sigterm_exits_at_once_without_waiting_for_the_boundary() {
    let checkpoint = checkpoint_path("twice");
    // One second per generation: the boundary is far away.
    let mut args = args(&checkpoint, &[]);
    args.extend(["--eval-micros", "100000", "--population", "10"].map(String::from));
    let mut process = Process::spawn(&args);
    std::thread::sleep(Duration::from_millis(300));
    process.signal("TERM");
    std::thread::sleep(Duration::from_millis(100));
    process.signal("TERM");
    let (code, out, err) = process.finish(Duration::from_secs(10));
    assert_eq!(code, Some(143), "{err}");
    assert!(out.is_empty(), "no result: {out}");
    assert!(!err.contains("interrupted by signal"), "not the graceful stop: {err}");
    assert!(!checkpoint.exists(), "no generation completed");
}
