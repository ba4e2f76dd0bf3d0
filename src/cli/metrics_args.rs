//! `--metrics-addr` and `--metrics-linger` of `evolve`: start the process's `/metrics` endpoint and hand its telemetry to the run.

use std::sync::Arc;
use std::time::Duration;

use evoflow::run::{Prepared, RunEnding, RunError, RunPlan};
use evoflow::telemetry::{HeldOut, RunLabels, RunTelemetry};
use evoflow_dataflows::StopReason;

use super::UsageError;

/// The environment variable read when `--metrics-addr` is not given.
pub const METRICS_ADDR_ENV: &str = "EVOFLOW_METRICS_ADDR";

/// Prometheus metrics of this process.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct MetricsArgs {
    /// Serve Prometheus metrics at http://HOST:PORT/metrics while the run lasts (every process
    /// serves its own; `:PORT` listens on every interface, port 0 picks a free port; the address
    /// is printed on stderr). Default: $EVOFLOW_METRICS_ADDR, else no metrics. See docs/metrics.md.
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,
    /// When the run has ended, keep serving /metrics until its final state has been scraped
    /// once, for at most SECS (0: exit at once).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub metrics_linger: f64,
}

/// The telemetry of an `evolve` process, or nothing when metrics are off. Dropping it (when
/// `evolve` returns) marks a run that reported no end as failed and lingers (see
/// `--metrics-linger`).
pub struct EvolveMetrics {
    telemetry: Option<Arc<RunTelemetry>>,
    linger: Duration,
}

impl MetricsArgs {
    /// The address to serve on: the flag, else the environment (empty: off).
    fn addr(&self) -> Option<String> {
        self.metrics_addr
            .clone()
            .or_else(|| std::env::var(METRICS_ADDR_ENV).ok())
            .filter(|a| !a.trim().is_empty())
    }

    /// Starts the endpoint of this process of `plan` (a bad or busy address is a usage
    /// error) and prints its URL on stderr; process 0 also scores each generation's best on
    /// the held-out bars.
    pub fn start(&self, plan: &RunPlan, prepared: &Prepared) -> anyhow::Result<EvolveMetrics> {
        if !(self.metrics_linger.is_finite() && self.metrics_linger >= 0.0) {
            return Err(UsageError(format!(
                "--metrics-linger must be a number of seconds >= 0, got {}",
                self.metrics_linger
            ))
            .into());
        }
        let linger = Duration::from_secs_f64(self.metrics_linger);
        let Some(addr) = self.addr() else {
            return Ok(EvolveMetrics {
                telemetry: None,
                linger,
            });
        };
        let cluster = &plan.cluster;
        // Held-out metrics need one held-out part: holdout runs only.
        let split = prepared.holdout_split().unwrap_or(plan.data.bars.len());
        let labels = RunLabels {
            version: evoflow::BUILD.to_string(),
            run_id: plan.run_id.clone(),
            process: cluster.process,
            workers: cluster.workers,
            generations_planned: plan.settings.ga.generations,
            families: prepared
                .problem
                .families()
                .iter()
                .map(|f| f.name().to_string())
                .collect(),
        };
        let held_out = (cluster.process == 0 && split < plan.data.bars.len()).then(|| HeldOut {
            problem: Arc::clone(&prepared.problem),
            full: Arc::clone(&plan.data),
            split,
            objective: plan.settings.objective,
        });
        let telemetry = RunTelemetry::start(&addr, &labels, held_out).map_err(|e| {
            if e.is_bad_input() {
                anyhow::Error::new(UsageError(e.to_string()))
            } else {
                anyhow::Error::new(e)
            }
        })?;
        eprintln!("metrics: {}", telemetry.url());
        Ok(EvolveMetrics {
            telemetry: Some(telemetry),
            linger,
        })
    }
}

impl EvolveMetrics {
    /// The telemetry, for the run plan ([`RunPlan::telemetry`]).
    pub fn handle(&self) -> Option<Arc<RunTelemetry>> {
        self.telemetry.clone()
    }

    /// The run ended like this (`evoflow_run_status`).
    pub fn ended(&self, ending: &Result<RunEnding, RunError>) {
        let Some(t) = &self.telemetry else { return };
        let stop = match ending {
            Ok(RunEnding::Completed(_)) => Some(StopReason::Generations),
            Ok(RunEnding::Interrupted { signal, .. }) => Some(StopReason::Interrupted { signal: *signal }),
            Ok(RunEnding::Worker(stop)) => Some(*stop),
            Err(_) => None,
        };
        t.ended(stop.as_ref());
    }
}

impl Drop for EvolveMetrics {
    fn drop(&mut self) {
        if let Some(t) = &self.telemetry {
            t.finish(self.linger);
        }
    }
}
