//! `evoflow health --cluster`: the pre-run check of a cluster (every process reachable, one build, one market data set, storage written by process 0 visible to all).
//!
//! Run once on every host, with the `-n/-p/-h` of the run. The processes connect with the
//! handshake of `evolve` (so a host that cannot be reached is named with its address), then
//! speak a small line protocol over those sockets, one JSON object per line:
//! 1. every process `i > 0` sends process 0 its [`Hello`] (build, market-data fingerprint);
//! 2. process 0 checks its storage is writable (creating its location if needed), writes a
//!    probe file with a fresh token into the storage location, and sends every process the
//!    [`Probe`] (file name, token);
//! 3. every process reads that file in its own configured storage location and answers a
//!    [`Seen`];
//! 4. process 0 removes the probe, sends every process the [`Verdict`] (one line per failure)
//!    and everyone prints it: exit 0 when there is none, else 1.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use evoflow::storage::{self, check_location, BackendKind, HealthStatus, StorageConfig};
use evoflow_dataflows::network::{connect, RunHeader};
use evoflow_dataflows::{stable_hash, ClusterConfig};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::health::HealthArgs;
use super::UsageError;

/// What every process tells process 0.
#[derive(Serialize, Deserialize, Debug)]
struct Hello {
    process: usize,
    build: String,
    market: String,
    market_label: String,
}

/// The probe file process 0 wrote (a name in the storage location) and its contents.
#[derive(Serialize, Deserialize, Debug)]
struct Probe {
    file: String,
    token: String,
}

/// Whether a process saw the probe file, and what it found.
#[derive(Serialize, Deserialize, Debug)]
struct Seen {
    ok: bool,
    detail: String,
}

/// Process 0's conclusion, sent to every process.
#[derive(Serialize, Deserialize, Debug)]
struct Verdict {
    failures: Vec<String>,
}

/// The cluster check failed (exit status 1); every failure has been printed.
#[derive(Debug, thiserror::Error)]
#[error("cluster check failed: {0}")]
pub struct ClusterUnhealthy(pub String);

/// The directory a process's storage lives in.
fn storage_dir(config: &StorageConfig) -> PathBuf {
    match config.backend {
        BackendKind::Shared => config.location().to_path_buf(),
        BackendKind::Local => match config.db_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        },
        // A server, not a directory: the probe file goes to the working directory.
        BackendKind::Postgres => PathBuf::from("."),
    }
}

fn send<T: Serialize>(mut stream: &TcpStream, value: &T) -> anyhow::Result<()> {
    let mut line = serde_json::to_string(value)?;
    line.push('\n');
    stream.write_all(line.as_bytes())?;
    Ok(())
}

fn receive<T: DeserializeOwned>(reader: &mut BufReader<&TcpStream>, who: &str) -> anyhow::Result<T> {
    let mut line = String::new();
    let read = reader.read_line(&mut line);
    match read {
        Ok(0) => Err(ClusterUnhealthy(format!("{who} closed the connection during the check")).into()),
        Ok(_) => Ok(serde_json::from_str(&line)
            .map_err(|e| ClusterUnhealthy(format!("{who} sent a bad health message: {e}")))?),
        Err(e) => Err(ClusterUnhealthy(format!("{who} did not answer the health check: {e}")).into()),
    }
}

/// Runs `evoflow health --cluster`.
pub fn run(args: &HealthArgs) -> anyhow::Result<()> {
    if !(args.connect_timeout.is_finite() && args.connect_timeout > 0.0) {
        return Err(UsageError(format!(
            "--connect-timeout must be a positive number of seconds, got {}",
            args.connect_timeout
        ))
        .into());
    }
    let timeout = Duration::from_secs_f64(args.connect_timeout);
    let cluster = ClusterConfig {
        workers: 1,
        processes: args.processes,
        process: args.process,
        hostfile: args.hostfile.clone(),
        zerocopy: false,
        report: false,
        connect_timeout: timeout,
    };
    let addresses = cluster.validate().map_err(|e| UsageError(e.to_string()))?;
    let config = args.storage.config()?;
    let data = args
        .market
        .load_from(Some(evoflow::market::sample::DEFAULT_SAMPLE), Some(&config))?;
    let me = Hello {
        process: args.process,
        build: evoflow::BUILD.to_string(),
        market: storage::market_fingerprint(&data),
        market_label: args.market.label(Some(evoflow::market::sample::DEFAULT_SAMPLE)),
    };
    // A header no evolve run has, so a health check never joins a run by mistake.
    let header = RunHeader {
        workers: 1,
        fingerprint: stable_hash(&"evoflow health --cluster v1"),
    };
    let sockets = connect(&addresses, args.process, header, timeout, false)?;
    for s in sockets.iter().flatten() {
        s.set_read_timeout(Some(timeout))?;
    }
    let failures = if args.process == 0 {
        coordinate(&sockets, &addresses, &me, &config)?
    } else {
        let stream = sockets[0].as_ref().expect("a socket to process 0");
        let mut reader = BufReader::new(stream);
        send(stream, &me)?;
        let probe: Probe = receive(&mut reader, "process 0")?;
        send(stream, &look_for(&storage_dir(&config), &probe))?;
        let verdict: Verdict = receive(&mut reader, "process 0")?;
        verdict.failures
    };
    if failures.is_empty() {
        println!(
            "healthy: {} processes reachable, build {}, market data {} ({}), storage {} written by process 0 and visible to all",
            addresses.len(),
            me.build,
            me.market_label,
            me.market,
            config.location().display()
        );
        Ok(())
    } else {
        println!("unhealthy cluster:");
        for f in &failures {
            println!("  FAIL {f}");
        }
        Err(ClusterUnhealthy(failures.join("; ")).into())
    }
}

/// Process 0's side: gathers the hellos, probes storage and returns the failures (also sent
/// to every process).
fn coordinate(
    sockets: &[Option<TcpStream>],
    addresses: &[String],
    me: &Hello,
    config: &StorageConfig,
) -> anyhow::Result<Vec<String>> {
    let peers: Vec<(usize, &TcpStream)> = sockets
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
        .collect();
    let mut readers: Vec<BufReader<&TcpStream>> = peers.iter().map(|(_, s)| BufReader::new(*s)).collect();
    let who = |i: usize| format!("process {i} at {}", addresses[i]);
    let mut failures = Vec::new();
    for ((i, _), reader) in peers.iter().zip(readers.iter_mut()) {
        let hello: Hello = receive(reader, &who(*i))?;
        if hello.build != me.build {
            failures.push(format!(
                "{} runs build {}, process 0 runs {} (install the same evoflow everywhere)",
                who(*i),
                hello.build,
                me.build
            ));
        }
        if hello.market != me.market {
            failures.push(format!(
                "{} loaded market data {} with fingerprint {}, process 0 loaded {} with {}",
                who(*i),
                hello.market_label,
                hello.market,
                me.market_label,
                me.market
            ));
        }
    }
    let dir = storage_dir(config);
    if config.backend == BackendKind::Shared {
        let _ = std::fs::create_dir_all(&dir);
    }
    let report = check_location(config);
    if report.status == HealthStatus::Unhealthy {
        for c in report.checks.iter().filter(|c| !c.ok && c.critical) {
            failures.push(format!(
                "storage of process 0 ({}): {} failed: {}",
                dir.display(),
                c.name,
                c.detail
            ));
        }
    }
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let probe = Probe {
        file: format!(".evoflow-cluster-probe-{}-{nanos}", std::process::id()),
        token: format!("{:016x}", stable_hash(&(nanos, std::process::id()))),
    };
    let path = dir.join(&probe.file);
    if let Err(e) = std::fs::write(&path, &probe.token) {
        failures.push(format!("process 0 cannot write {}: {e}", path.display()));
    }
    for (_, s) in &peers {
        send(s, &probe)?;
    }
    for ((i, _), reader) in peers.iter().zip(readers.iter_mut()) {
        let seen: Seen = receive(reader, &who(*i))?;
        if !seen.ok {
            failures.push(format!(
                "{} does not see the storage process 0 writes: {}",
                who(*i),
                seen.detail
            ));
        }
    }
    let _ = std::fs::remove_file(&path);
    let verdict = Verdict { failures };
    for (_, s) in &peers {
        send(s, &verdict)?;
    }
    Ok(verdict.failures)
}

/// Reads `probe.file` in `dir` and compares its contents with the token.
fn look_for(dir: &Path, probe: &Probe) -> Seen {
    let path = dir.join(&probe.file);
    match std::fs::read_to_string(&path) {
        Ok(text) if text == probe.token => Seen {
            ok: true,
            detail: format!("read {}", path.display()),
        },
        Ok(_) => Seen {
            ok: false,
            detail: format!(
                "{} holds another token (another storage with the same path?)",
                path.display()
            ),
        },
        Err(e) => Seen {
            ok: false,
            detail: format!(
                "cannot read {}: {e} (is the shared volume mounted here?)",
                path.display()
            ),
        },
    }
}
