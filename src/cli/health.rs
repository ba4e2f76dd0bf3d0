//! `evoflow health [--json] [--location-only] [--cluster -n N -p I -h HOSTFILE]`: checks the configured storage (or a whole cluster); exit status 0 only when healthy.

use std::path::PathBuf;

use evoflow::storage::{check_health, check_location, HealthReport, HealthStatus};

use super::health_cluster;
use super::market_args::MarketArgs;
use super::storage_args::StorageArgs;

/// Flags of `evoflow health`. `-h` is the host file (as in `evolve`), so help is `--help` only.
#[derive(clap::Args, Debug)]
#[command(disable_help_flag = true)]
pub struct HealthArgs {
    /// Print the report as JSON: {"status", "backend", "location", "checks": [{"name", "ok", "latency_ms", "detail"}]}.
    #[arg(long)]
    pub json: bool,
    /// Check only that the storage location exists and is writable, without opening the
    /// database (safe next to a running writer: the compose healthcheck).
    #[arg(long, conflicts_with = "cluster")]
    pub location_only: bool,
    /// Check a cluster before a run: run it on every host with -n/-p/-h (as `evolve`). Every
    /// process must be reachable, run the same build, load the same market data, and see the
    /// storage that process 0 writes; the first failure is named and the exit status is 1.
    #[arg(long)]
    pub cluster: bool,
    /// Number of processes (with --cluster).
    #[arg(short = 'n', long = "processes", default_value_t = 1, requires = "cluster")]
    pub processes: usize,
    /// This process's index, 0 is the coordinator (with --cluster).
    #[arg(short = 'p', long = "process", default_value_t = 0, requires = "cluster")]
    pub process: usize,
    /// Host file: one host:port per line, in process order (with --cluster).
    #[arg(short = 'h', long = "hostfile", requires = "cluster")]
    pub hostfile: Option<PathBuf>,
    /// Seconds to wait for the other processes (with --cluster).
    #[arg(long, default_value_t = 60.0)]
    pub connect_timeout: f64,
    #[command(flatten)]
    pub market: MarketArgs,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// The storage is not healthy (exit status 1); the report has been printed.
#[derive(Debug, thiserror::Error)]
#[error("storage at {location} is {status}")]
pub struct NotHealthy {
    pub location: String,
    pub status: &'static str,
}

/// Prints `report` (as JSON with `json`).
pub fn print_report(report: &HealthReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        println!(
            "{}: {} storage at {}",
            status_text(report.status),
            report.backend,
            report.location
        );
        for c in &report.checks {
            println!(
                "  [{}] {:<22} {:>9.3} ms  {}",
                if c.ok { " ok " } else { "FAIL" },
                c.name,
                c.latency_ms,
                c.detail
            );
        }
    }
    Ok(())
}

/// "healthy", "degraded" or "unhealthy".
pub fn status_text(status: HealthStatus) -> &'static str {
    match status {
        HealthStatus::Healthy => "healthy",
        HealthStatus::Degraded => "degraded",
        HealthStatus::Unhealthy => "unhealthy",
    }
}

/// Runs `evoflow health`.
pub fn run(args: HealthArgs) -> anyhow::Result<()> {
    if args.cluster {
        return health_cluster::run(&args);
    }
    let config = args.storage.config()?;
    let report = if args.location_only {
        check_location(&config)
    } else {
        check_health(&config)
    };
    print_report(&report, args.json)?;
    match report.status {
        HealthStatus::Healthy => Ok(()),
        status => Err(NotHealthy {
            location: report.location,
            status: status_text(status),
        }
        .into()),
    }
}
