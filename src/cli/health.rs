//! `evoflow health [--json]`: exercises the configured storage end to end; exit status 0 only when healthy.

use evoflow::storage::{check_health, HealthStatus};

use super::storage_args::StorageArgs;

/// Flags of `evoflow health`.
#[derive(clap::Args, Debug)]
pub struct HealthArgs {
    /// Print the report as JSON: {"status", "backend", "location", "checks": [{"name", "ok", "latency_ms", "detail"}]}.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// The storage is not healthy (exit status 1); the report has been printed.
#[derive(Debug, thiserror::Error)]
#[error("storage at {location} is {status}")]
pub struct NotHealthy {
    pub location: String,
    pub status: &'static str,
}

/// Runs `evoflow health`.
pub fn run(args: HealthArgs) -> anyhow::Result<()> {
    let config = args.storage.config()?;
    let report = check_health(&config);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let status = match report.status {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Unhealthy => "unhealthy",
        };
        println!("{status}: {} storage at {}", report.backend, report.location);
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
    match report.status {
        HealthStatus::Healthy => Ok(()),
        HealthStatus::Degraded => Err(NotHealthy {
            location: report.location,
            status: "degraded",
        }
        .into()),
        HealthStatus::Unhealthy => Err(NotHealthy {
            location: report.location,
            status: "unhealthy",
        }
        .into()),
    }
}
