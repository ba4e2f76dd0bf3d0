//! Telemetry: every `evolve` process's Prometheus metrics and its `/metrics` endpoint (see docs/metrics.md).
//!
//! [`RunTelemetry::start`] registers the metrics of one process in its own registry (with the
//! `process_*` metrics of the `prometheus` crate) and serves them from a background thread.
//! The dataflow's workers report through [`WorkerMetrics`], an
//! [`EvaluationObserver`](evoflow_dataflows::EvaluationObserver) that counts worker-locally
//! and publishes once per generation; the coordinator's per-generation callback, the storage
//! writer and the end of the run report through [`RunTelemetry`]'s methods.

mod error;
mod held_out;
mod observer;
mod registry;
mod run;
mod server;

pub use error::TelemetryError;
pub use held_out::{HeldOut, HeldOutScorer};
pub use observer::{WorkerMetrics, WorkerRecorder};
pub use registry::{status, Metrics};
pub use run::{RunLabels, RunTelemetry};
pub use server::{parse_addr, MetricsServer};
