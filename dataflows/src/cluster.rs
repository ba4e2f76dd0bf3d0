//! `ClusterConfig`: timely's `-w/-n/-p/-h/-z` flags as a validated config, and `timely::Config` from it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

/// The default `--connect-timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// The most worker threads one process may run (`-w`). Every worker has channels to every
/// other worker, so a process's memory and start-up time grow with `-w` times all workers:
/// 256 workers take about 0.8 s and 150 MB before any work, and a mistyped `-w 3000` was
/// still setting up after two minutes. 1,024 is beyond any machine's cores.
pub const MAX_WORKERS_PER_PROCESS: usize = 1024;

/// The first port used when `--processes > 1` and no hostfile is given (timely's convention).
pub const DEFAULT_BASE_PORT: u16 = 2101;

/// An invalid cluster flag or hostfile, or a failure to connect the processes.
#[derive(Debug, Error)]
pub enum ClusterError {
    /// A flag value that does not parse or is out of range.
    #[error("invalid value {value:?} for {flag}: {reason}")]
    BadFlag {
        /// The flag as written (e.g. `-w`).
        flag: String,
        /// The value given.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A flag given without its value.
    #[error("{0} needs a value")]
    MissingValue(String),
    /// The hostfile cannot be read.
    #[error("cannot read hostfile {path}: {error}")]
    HostfileUnreadable {
        /// The hostfile.
        path: PathBuf,
        /// The I/O error (in the message; not a `source`, which `{:#}` would print again).
        error: std::io::Error,
    },
    /// A hostfile line is not a valid `host:port`.
    #[error("{path}:{line}: {message}")]
    HostfileLine {
        /// The hostfile.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The hostfile lists fewer addresses than processes.
    #[error("{path} lists {found} address(es) but --processes is {processes}")]
    HostfileTooShort {
        /// The hostfile.
        path: PathBuf,
        /// Addresses found.
        found: usize,
        /// Processes requested.
        processes: usize,
    },
    /// This process cannot listen on its own address.
    #[error("process {process} cannot listen on {address}: {error}")]
    Listen {
        /// This process.
        process: usize,
        /// Its address.
        address: String,
        /// The I/O error (in the message; not a `source`, which `{:#}` would print again).
        error: std::io::Error,
    },
    /// A lower-numbered peer could not be reached in time.
    #[error("could not connect to process {process} at {address} within {} s ({last_error})", timeout.as_secs_f64())]
    ConnectTimeout {
        /// The peer.
        process: usize,
        /// Its address.
        address: String,
        /// The configured timeout.
        timeout: Duration,
        /// The last connection error seen.
        last_error: String,
    },
    /// A higher-numbered peer did not connect in time.
    #[error("process {process} (at {address}) did not connect within {} s", timeout.as_secs_f64())]
    AcceptTimeout {
        /// The peer.
        process: usize,
        /// Its address.
        address: String,
        /// The configured timeout.
        timeout: Duration,
    },
    /// A peer that had connected closed its connection while this process still waited for
    /// others: it refused another process, or failed, and the run cannot start.
    #[error(
        "process {process} (at {address}) left before the run started (it refused another process or failed; \
         its output says why)"
    )]
    PeerLeft {
        /// The peer.
        process: usize,
        /// Its address.
        address: String,
    },
    /// A peer sent an unexpected handshake.
    #[error("unexpected connection handshake: {0}")]
    Handshake(String),
    /// Two processes run different numbers of worker threads (timely needs the same number in
    /// every process).
    #[error(
        "processes {low} and {high} run {low_workers} and {high_workers} worker threads: every process needs the \
         same -w (give it explicitly when the hosts have different numbers of CPUs)"
    )]
    WorkersDiffer {
        /// The lower-numbered process.
        low: usize,
        /// Its worker threads.
        low_workers: usize,
        /// The higher-numbered process.
        high: usize,
        /// Its worker threads.
        high_workers: usize,
    },
    /// Two processes would run different evolutions: other GA settings, or a problem with
    /// another [`Problem::fingerprint`](crate::Problem::fingerprint) (other data, settings or
    /// program build).
    #[error(
        "processes {low} and {high} were started with different settings, data or builds (run fingerprints \
         {low_fingerprint:016x} and {high_fingerprint:016x}): start every process of the same build with the same \
         flags, apart from -p, and the same market data"
    )]
    RunsDiffer {
        /// The lower-numbered process.
        low: usize,
        /// Its run fingerprint.
        low_fingerprint: u64,
        /// The higher-numbered process.
        high: usize,
        /// Its run fingerprint.
        high_fingerprint: u64,
    },
    /// An I/O error while establishing connections (in the message; not a `source`, which
    /// `{:#}` would print again).
    #[error("network error while connecting processes: {0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for ClusterError {
    fn from(error: std::io::Error) -> Self {
        ClusterError::Io(error)
    }
}

/// How the computation is spread over threads and processes (timely's flags).
///
/// `-w/--threads` workers per process, `-n/--processes`, `-p/--process` (this process's
/// index), `-h/--hostfile` (one `host:port` per line, in process order; `#` starts a comment,
/// blank lines are ignored; without it process `i` is at `localhost:2101+i`), `-z/--zerocopy`
/// (serialize even between workers of one process), `-r/--report` (print connection progress),
/// and evoflow's `--connect-timeout SECONDS`. Process 0 is the coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Worker threads per process (`-w`).
    pub workers: usize,
    /// Number of processes (`-n`).
    pub processes: usize,
    /// This process's index (`-p`).
    pub process: usize,
    /// The hostfile (`-h`).
    pub hostfile: Option<PathBuf>,
    /// Zero-copy (serializing) channels inside a process (`-z`).
    pub zerocopy: bool,
    /// Report connection progress (`-r`).
    pub report: bool,
    /// How long to wait for the other processes (`--connect-timeout`).
    pub connect_timeout: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            workers: 1,
            processes: 1,
            process: 0,
            hostfile: None,
            zerocopy: false,
            report: false,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// Parses a positive count for `flag`.
fn parse_count(flag: &str, value: &str, min: usize) -> Result<usize, ClusterError> {
    let bad = |reason: String| ClusterError::BadFlag {
        flag: flag.to_string(),
        value: value.to_string(),
        reason,
    };
    let n: usize = value.trim().parse().map_err(|e| bad(format!("{e}")))?;
    if n < min {
        return Err(bad(format!("must be at least {min}")));
    }
    Ok(n)
}

/// Parses `--connect-timeout` seconds (fractions allowed, must be > 0).
pub fn parse_timeout(flag: &str, value: &str) -> Result<Duration, ClusterError> {
    let bad = |reason: &str| ClusterError::BadFlag {
        flag: flag.to_string(),
        value: value.to_string(),
        reason: reason.into(),
    };
    let secs: f64 = value.trim().parse().map_err(|_| bad("expected a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(bad("must be a positive number of seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Checks one `host:port` entry, returning an error message naming what is wrong.
fn check_address(entry: &str) -> Result<(), String> {
    let Some((host, port)) = entry.rsplit_once(':') else {
        return Err(format!("expected host:port, got {entry:?}"));
    };
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return Err(format!("expected host:port, got {entry:?} (bad host)"));
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("bad port {port:?} in {entry:?} (expected 1-65535)")),
        Ok(_) => Ok(()),
    }
}

/// Reads a hostfile: one `host:port` per line, in process order; `#` starts a comment and
/// blank lines are ignored. Errors name the file and line.
pub fn parse_hostfile(path: &Path) -> Result<Vec<String>, ClusterError> {
    let text = std::fs::read_to_string(path).map_err(|error| ClusterError::HostfileUnreadable {
        path: path.to_path_buf(),
        error,
    })?;
    parse_hostfile_text(path, &text)
}

/// Parses hostfile contents (see [`parse_hostfile`]); `path` is only used in errors.
pub fn parse_hostfile_text(path: &Path, text: &str) -> Result<Vec<String>, ClusterError> {
    let mut addresses: Vec<(usize, String)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let entry = raw.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let error = |message: String| ClusterError::HostfileLine {
            path: path.to_path_buf(),
            line,
            message,
        };
        check_address(entry).map_err(error)?;
        if let Some((first, _)) = addresses.iter().find(|(_, a)| a == entry) {
            return Err(error(format!("address {entry} repeats line {first}")));
        }
        addresses.push((line, entry.to_string()));
    }
    Ok(addresses.into_iter().map(|(_, a)| a).collect())
}

impl ClusterConfig {
    /// Extracts the cluster flags from `args` (without the program name), returning the
    /// config and the remaining arguments in order. Accepts `-w 4`, `-w4`, `--threads 4`,
    /// `--threads=4` (likewise `-n/--processes`, `-p/--process`, `-h/--hostfile`,
    /// `--connect-timeout`), and the switches `-z/--zerocopy`, `-r/--report`.
    /// The result is not validated; call [`ClusterConfig::validate`].
    pub fn parse_args<I>(args: I) -> Result<(ClusterConfig, Vec<String>), ClusterError>
    where
        I: IntoIterator<Item = String>,
    {
        let mut config = ClusterConfig::default();
        let mut rest = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline): (&str, Option<String>) = match arg.as_str() {
                "-z" | "--zerocopy" => {
                    config.zerocopy = true;
                    continue;
                }
                "-r" | "--report" => {
                    config.report = true;
                    continue;
                }
                a if a.starts_with("--") => match a.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (a, None),
                },
                a if a.len() > 2 && a.starts_with('-') && !a.starts_with("--") => (&a[..2], Some(a[2..].to_string())),
                a => (a, None),
            };
            let key = match name {
                "-w" | "--threads" => "w",
                "-n" | "--processes" => "n",
                "-p" | "--process" => "p",
                "-h" | "--hostfile" => "h",
                "--connect-timeout" => "t",
                _ => {
                    rest.push(arg);
                    continue;
                }
            };
            let flag = name.to_string();
            let value = match inline {
                Some(v) => v,
                None => args.next().ok_or_else(|| ClusterError::MissingValue(flag.clone()))?,
            };
            match key {
                "w" => config.workers = parse_count(&flag, &value, 1)?,
                "n" => config.processes = parse_count(&flag, &value, 1)?,
                "p" => config.process = parse_count(&flag, &value, 0)?,
                "h" => config.hostfile = Some(PathBuf::from(value)),
                _ => config.connect_timeout = parse_timeout(&flag, &value)?,
            }
        }
        Ok((config, rest))
    }

    /// Checks the flags together and, for several processes, the hostfile; returns the
    /// process addresses (empty for a single process).
    pub fn validate(&self) -> Result<Vec<String>, ClusterError> {
        let bad = |flag: &str, value: usize, reason: String| ClusterError::BadFlag {
            flag: flag.to_string(),
            value: value.to_string(),
            reason,
        };
        if self.workers == 0 {
            return Err(bad("--threads", 0, "must be at least 1".into()));
        }
        if self.workers > MAX_WORKERS_PER_PROCESS {
            return Err(bad(
                "--threads",
                self.workers,
                format!("must be at most {MAX_WORKERS_PER_PROCESS} per process"),
            ));
        }
        if self.processes == 0 {
            return Err(bad("--processes", 0, "must be at least 1".into()));
        }
        if self.process >= self.processes {
            return Err(bad(
                "--process",
                self.process,
                format!("must be below --processes ({})", self.processes),
            ));
        }
        if self.connect_timeout.is_zero() {
            return Err(ClusterError::BadFlag {
                flag: "--connect-timeout".into(),
                value: "0".into(),
                reason: "must be a positive number of seconds".into(),
            });
        }
        match &self.hostfile {
            Some(path) => {
                let addresses = parse_hostfile(path)?;
                if addresses.len() < self.processes {
                    return Err(ClusterError::HostfileTooShort {
                        path: path.clone(),
                        found: addresses.len(),
                        processes: self.processes,
                    });
                }
                if self.processes == 1 {
                    return Ok(Vec::new());
                }
                Ok(addresses.into_iter().take(self.processes).collect())
            }
            None if self.processes == 1 => Ok(Vec::new()),
            None => {
                let last = DEFAULT_BASE_PORT as usize + self.processes - 1;
                if last > u16::MAX as usize {
                    return Err(bad(
                        "--processes",
                        self.processes,
                        "too many processes for default ports".into(),
                    ));
                }
                Ok((0..self.processes)
                    .map(|i| format!("localhost:{}", DEFAULT_BASE_PORT as usize + i))
                    .collect())
            }
        }
    }

    /// Whether this process is the coordinator (process 0), which alone writes results.
    pub fn is_coordinator(&self) -> bool {
        self.process == 0
    }

    /// Total number of workers over all processes.
    pub fn total_workers(&self) -> usize {
        self.workers * self.processes
    }

    /// The equivalent `timely::Config` (validated). Note that timely's own cluster start-up
    /// retries forever; [`crate::run()`] instead connects with `connect_timeout`.
    pub fn to_timely_config(&self) -> Result<timely::Config, ClusterError> {
        let addresses = self.validate()?;
        let communication = if self.processes > 1 {
            timely::CommunicationConfig::Cluster {
                threads: self.workers,
                process: self.process,
                addresses,
                report: self.report,
                zerocopy: self.zerocopy,
            }
        } else if self.zerocopy {
            timely::CommunicationConfig::ProcessBinary(self.workers)
        } else if self.workers > 1 {
            timely::CommunicationConfig::Process(self.workers)
        } else {
            timely::CommunicationConfig::Thread
        };
        Ok(timely::Config {
            communication,
            worker: timely::WorkerConfig::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_flags_and_keeps_the_rest() {
        let (config, rest) = ClusterConfig::parse_args(args(&[
            "evolve",
            "-w",
            "4",
            "--processes=3",
            "-p2",
            "-z",
            "--seed",
            "7",
            "--connect-timeout",
            "2.5",
            "-h",
            "hosts.txt",
        ]))
        .unwrap();
        assert_eq!(config.workers, 4);
        assert_eq!(config.processes, 3);
        assert_eq!(config.process, 2);
        assert!(config.zerocopy);
        assert_eq!(config.connect_timeout, Duration::from_millis(2500));
        assert_eq!(config.hostfile, Some(PathBuf::from("hosts.txt")));
        assert_eq!(rest, args(&["evolve", "--seed", "7"]));
    }

    #[test]
    fn flag_errors_name_the_flag() {
        let err = ClusterConfig::parse_args(args(&["-w", "zero"])).unwrap_err();
        assert!(err.to_string().starts_with("invalid value \"zero\" for -w"), "{err}");
        let err = ClusterConfig::parse_args(args(&["--threads=0"])).unwrap_err();
        assert_eq!(err.to_string(), "invalid value \"0\" for --threads: must be at least 1");
        let (config, _) = ClusterConfig::parse_args(args(&["-w", "3000"])).unwrap();
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "invalid value \"3000\" for --threads: must be at most 1024 per process"
        );
        let err = ClusterConfig::parse_args(args(&["-n"])).unwrap_err();
        assert_eq!(err.to_string(), "-n needs a value");
        let err = ClusterConfig::parse_args(args(&["--connect-timeout", "-1"])).unwrap_err();
        assert!(err.to_string().contains("--connect-timeout"), "{err}");
        let config = ClusterConfig {
            processes: 2,
            process: 2,
            ..ClusterConfig::default()
        };
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "invalid value \"2\" for --process: must be below --processes (2)"
        );
    }

    #[test]
    fn hostfile_lines_are_checked_with_file_and_line() {
        let path = Path::new("hosts.txt");
        let ok = parse_hostfile_text(
            path,
            "# cluster\n\n10.0.0.1:2101\n10.0.0.2:2101  # second\n[::1]:9000\n",
        )
        .unwrap();
        assert_eq!(ok, vec!["10.0.0.1:2101", "10.0.0.2:2101", "[::1]:9000"]);
        let err = parse_hostfile_text(path, "a:1\nb\n").unwrap_err();
        assert_eq!(err.to_string(), "hosts.txt:2: expected host:port, got \"b\"");
        let err = parse_hostfile_text(path, "a:1\n\nb:99999\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "hosts.txt:3: bad port \"99999\" in \"b:99999\" (expected 1-65535)"
        );
        let err = parse_hostfile_text(path, "a:1\na:1\n").unwrap_err();
        assert_eq!(err.to_string(), "hosts.txt:2: address a:1 repeats line 1");
        let err = parse_hostfile_text(path, ":80\n").unwrap_err();
        assert!(err.to_string().starts_with("hosts.txt:1:"), "{err}");
    }

    #[test]
    fn timely_config_matches_the_flags() {
        let c = ClusterConfig::default().to_timely_config().unwrap();
        assert!(matches!(c.communication, timely::CommunicationConfig::Thread));
        let c = ClusterConfig {
            workers: 3,
            ..ClusterConfig::default()
        }
        .to_timely_config()
        .unwrap();
        assert!(matches!(c.communication, timely::CommunicationConfig::Process(3)));
        let c = ClusterConfig {
            workers: 2,
            zerocopy: true,
            ..ClusterConfig::default()
        }
        .to_timely_config()
        .unwrap();
        assert!(matches!(c.communication, timely::CommunicationConfig::ProcessBinary(2)));
        let c = ClusterConfig {
            workers: 2,
            processes: 2,
            process: 1,
            ..ClusterConfig::default()
        }
        .to_timely_config()
        .unwrap();
        match c.communication {
            timely::CommunicationConfig::Cluster {
                threads,
                process,
                addresses,
                ..
            } => {
                assert_eq!((threads, process), (2, 1));
                assert_eq!(addresses, vec!["localhost:2101", "localhost:2102"]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
