//! `--metrics-addr` and `--metrics-linger` of `evolve`: start the process's `/metrics` endpoint and hand its telemetry to the run.

use std::sync::Arc;
use std::time::Duration;

use evoflow::evolution::{EvolveSettings, TradingProblem};
use evoflow::market::MarketData;
use evoflow::telemetry::{HeldOut, RunLabels, RunTelemetry};
use evoflow_dataflows::{ClusterConfig, Connection, Problem, RunEnd};

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

    /// Starts the endpoint of process `cluster.process` of run `run_id` (bad or busy
    /// address: a usage error) and prints its URL on stderr; the coordinator also scores
    /// each generation's best on the held-out bars of `data` from bar `split`.
    pub fn start(
        &self,
        run_id: &str,
        cluster: &ClusterConfig,
        settings: &EvolveSettings,
        problem: &Arc<TradingProblem>,
        data: &MarketData,
        split: usize,
    ) -> anyhow::Result<EvolveMetrics> {
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
        let labels = RunLabels {
            version: evoflow::BUILD.to_string(),
            run_id: run_id.to_string(),
            process: cluster.process,
            workers: cluster.workers,
            generations_planned: settings.ga.generations,
            families: problem.families().iter().map(|f| f.name().to_string()).collect(),
        };
        let held_out = (cluster.process == 0 && split < data.bars.len()).then(|| HeldOut {
            problem: Arc::clone(problem),
            full: Arc::new(data.clone()),
            split,
            objective: settings.objective,
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
    /// The telemetry, for the per-generation callback and the storage writer.
    pub fn handle(&self) -> Option<Arc<RunTelemetry>> {
        self.telemetry.clone()
    }

    /// Makes `connection`'s workers report to the metrics; all its peers are connected.
    pub fn attach<P: Problem>(&self, connection: Connection<P>) -> Connection<P> {
        match &self.telemetry {
            Some(t) => {
                t.connected(connection.peers());
                connection.observe(t.observer())
            }
            None => connection,
        }
    }

    /// The dataflow ended like this (`evoflow_run_status`).
    pub fn ended<G: evoflow_dataflows::Genome, E>(&self, end: &Result<RunEnd<G>, E>) {
        if let Some(t) = &self.telemetry {
            t.ended(end.as_ref().ok().map(|e| &e.stop));
        }
    }
}

impl Drop for EvolveMetrics {
    fn drop(&mut self) {
        if let Some(t) = &self.telemetry {
            t.finish(self.linger);
        }
    }
}
