//! `Metrics`: the Prometheus registry of one evoflow process and every metric it exports (documented in docs/metrics.md).

use prometheus::core::Collector;
use prometheus::{
    CounterVec, Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use super::error::TelemetryError;

/// `evoflow_run_status` values.
pub mod status {
    /// The run is going on (or has not started its first generation yet).
    pub const RUNNING: i64 = 0;
    /// The run reached its stopping rule.
    pub const COMPLETED: i64 = 1;
    /// The run stopped on a signal; its checkpoint resumes it.
    pub const INTERRUPTED: i64 = 2;
    /// The run ended with an error.
    pub const FAILED: i64 = 3;
}

/// Upper bounds of `evoflow_evaluation_duration_seconds`: 50 µs to about 26 s (indicator
/// backtests take well under a millisecond on the samples, ML genomes up to about a second).
const EVALUATION_BUCKETS: [f64; 20] = [
    0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0,
    50.0, 100.0,
];
/// Upper bounds of `evoflow_generation_duration_seconds`: 10 ms to 20 min.
const GENERATION_BUCKETS: [f64; 16] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 600.0, 1200.0,
];
/// Upper bounds of `evoflow_storage_write_duration_seconds`: 0.5 ms to 60 s.
const STORAGE_BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Every metric of one process, registered in its own [`Registry`] (with the process
/// collector's `process_*` metrics: CPU seconds, resident memory, start time, open files).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// `evoflow_build_info{version}`: 1.
    pub build_info: IntGaugeVec,
    /// `evoflow_run_info{run_id,process}`: 1.
    pub run_info: IntGaugeVec,
    /// `evoflow_generation`: the last completed generation (-1 before the first).
    pub generation: IntGauge,
    /// `evoflow_generations_planned`.
    pub generations_planned: IntGauge,
    /// `evoflow_fitness_best`.
    pub fitness_best: Gauge,
    /// `evoflow_fitness_mean`.
    pub fitness_mean: Gauge,
    /// `evoflow_fitness_test_best`.
    pub fitness_test_best: Gauge,
    /// `evoflow_evaluations_total{worker}`.
    pub evaluations: IntCounterVec,
    /// `evoflow_fitness_cache_hits_total{worker}`.
    pub cache_hits: IntCounterVec,
    /// `evoflow_evaluation_duration_seconds{family}`.
    pub evaluation_duration: HistogramVec,
    /// `evoflow_worker_busy_seconds_total{worker}`.
    pub worker_busy: CounterVec,
    /// `evoflow_generation_duration_seconds`.
    pub generation_duration: Histogram,
    /// `evoflow_population_family_size{family}`.
    pub family_size: IntGaugeVec,
    /// `evoflow_storage_write_duration_seconds`.
    pub storage_write_duration: Histogram,
    /// `evoflow_checkpoint_generation`.
    pub checkpoint_generation: IntGauge,
    /// `evoflow_checkpoint_timestamp_seconds`.
    pub checkpoint_timestamp: Gauge,
    /// `evoflow_peers_connected`.
    pub peers_connected: IntGauge,
    /// `evoflow_workers`.
    pub workers: IntGauge,
    /// `evoflow_run_status` (see [`status`]).
    pub run_status: IntGauge,
}

impl Metrics {
    /// The metrics of process `process` of run `run_id`, with `evoflow_build_info` and
    /// `evoflow_run_info` set and the process metrics (on Linux). The coordinator's own
    /// metrics (fitness, family sizes, generation time, storage, checkpoint) are registered
    /// on process 0 only, so that no other process exports values it never sets.
    pub fn new(version: &str, run_id: &str, process: usize) -> Result<Metrics, TelemetryError> {
        let histogram = |name: &str, help: &str, buckets: &[f64]| {
            Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))
        };
        let metrics = Metrics {
            build_info: IntGaugeVec::new(
                Opts::new("evoflow_build_info", "The evoflow build (always 1)"),
                &["version"],
            )?,
            run_info: IntGaugeVec::new(
                Opts::new(
                    "evoflow_run_info",
                    "The run and process index of this process (always 1)",
                ),
                &["run_id", "process"],
            )?,
            generation: IntGauge::new(
                "evoflow_generation",
                "The last completed generation (-1 before the first)",
            )?,
            generations_planned: IntGauge::new(
                "evoflow_generations_planned",
                "The generations the run is planned to reach",
            )?,
            fitness_best: Gauge::new(
                "evoflow_fitness_best",
                "Best training fitness of the last completed generation",
            )?,
            fitness_mean: Gauge::new(
                "evoflow_fitness_mean",
                "Mean training fitness of the last completed generation",
            )?,
            fitness_test_best: Gauge::new(
                "evoflow_fitness_test_best",
                "Objective on the held-out bars of the best individual of the last completed generation",
            )?,
            evaluations: IntCounterVec::new(
                Opts::new(
                    "evoflow_evaluations_total",
                    "Fitness evaluations run (cache misses) by worker",
                ),
                &["worker"],
            )?,
            cache_hits: IntCounterVec::new(
                Opts::new(
                    "evoflow_fitness_cache_hits_total",
                    "Fitness values served from the worker's cache",
                ),
                &["worker"],
            )?,
            evaluation_duration: HistogramVec::new(
                HistogramOpts::new(
                    "evoflow_evaluation_duration_seconds",
                    "Time to evaluate one genome (a training backtest) by family",
                )
                .buckets(EVALUATION_BUCKETS.to_vec()),
                &["family"],
            )?,
            worker_busy: CounterVec::new(
                Opts::new(
                    "evoflow_worker_busy_seconds_total",
                    "Time the worker spent evaluating genomes (its rate is the worker's utilisation)",
                ),
                &["worker"],
            )?,
            generation_duration: histogram(
                "evoflow_generation_duration_seconds",
                "Wall time of one generation on the coordinator",
                &GENERATION_BUCKETS,
            )?,
            family_size: IntGaugeVec::new(
                Opts::new(
                    "evoflow_population_family_size",
                    "Individuals of each family (niche) in the last completed generation",
                ),
                &["family"],
            )?,
            storage_write_duration: histogram(
                "evoflow_storage_write_duration_seconds",
                "Time to store one generation (statistics, individuals, checkpoint)",
                &STORAGE_BUCKETS,
            )?,
            checkpoint_generation: IntGauge::new(
                "evoflow_checkpoint_generation",
                "Generation of the last stored checkpoint (the generation a resume starts at; -1: none yet)",
            )?,
            checkpoint_timestamp: Gauge::new(
                "evoflow_checkpoint_timestamp_seconds",
                "Unix time at which the last checkpoint was stored (NaN: none yet)",
            )?,
            peers_connected: IntGauge::new(
                "evoflow_peers_connected",
                "Other processes of the run connected to this one",
            )?,
            workers: IntGauge::new("evoflow_workers", "Worker threads of this process")?,
            run_status: IntGauge::new(
                "evoflow_run_status",
                "0 running, 1 completed, 2 interrupted (resumable), 3 failed",
            )?,
            registry: Registry::new(),
        };
        let m = &metrics;
        let every: Vec<Box<dyn Collector>> = vec![
            Box::new(m.build_info.clone()),
            Box::new(m.run_info.clone()),
            Box::new(m.generation.clone()),
            Box::new(m.generations_planned.clone()),
            Box::new(m.evaluations.clone()),
            Box::new(m.cache_hits.clone()),
            Box::new(m.evaluation_duration.clone()),
            Box::new(m.worker_busy.clone()),
            Box::new(m.peers_connected.clone()),
            Box::new(m.workers.clone()),
            Box::new(m.run_status.clone()),
        ];
        let coordinator: Vec<Box<dyn Collector>> = vec![
            Box::new(m.fitness_best.clone()),
            Box::new(m.fitness_mean.clone()),
            Box::new(m.fitness_test_best.clone()),
            Box::new(m.generation_duration.clone()),
            Box::new(m.family_size.clone()),
            Box::new(m.storage_write_duration.clone()),
            Box::new(m.checkpoint_generation.clone()),
            Box::new(m.checkpoint_timestamp.clone()),
        ];
        let registered = if process == 0 {
            every.into_iter().chain(coordinator).collect::<Vec<_>>()
        } else {
            every
        };
        for collector in registered {
            m.registry.register(collector)?;
        }
        m.build_info.with_label_values(&[version]).set(1);
        m.run_info.with_label_values(&[run_id, &process.to_string()]).set(1);
        m.generation.set(-1);
        m.checkpoint_generation.set(-1);
        for unknown in [
            &m.fitness_best,
            &m.fitness_mean,
            &m.fitness_test_best,
            &m.checkpoint_timestamp,
        ] {
            unknown.set(f64::NAN);
        }
        #[cfg(target_os = "linux")]
        m.registry
            .register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;
        Ok(metrics)
    }

    /// Everything in the Prometheus text exposition format.
    pub fn encode(&self) -> Vec<u8> {
        let mut buffer = Vec::new();
        // Writing to a Vec cannot fail, and every family has a name and a type.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        buffer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Metrics exported by the coordinator only.
    const COORDINATOR_ONLY: [&str; 8] = [
        "evoflow_fitness_best",
        "evoflow_fitness_mean",
        "evoflow_fitness_test_best",
        "evoflow_generation_duration_seconds",
        "evoflow_population_family_size",
        "evoflow_storage_write_duration_seconds",
        "evoflow_checkpoint_generation",
        "evoflow_checkpoint_timestamp_seconds",
    ];

    #[test]
    fn other_processes_do_not_export_the_coordinators_metrics() {
        let m = Metrics::new("v", "run-1", 1).unwrap();
        let text = String::from_utf8(m.encode()).unwrap();
        for name in COORDINATOR_ONLY {
            assert!(
                !text.contains(&format!("# TYPE {name} ")),
                "{name} exported by process 1"
            );
        }
        assert!(text.contains("# TYPE evoflow_run_status gauge\n"), "{text}");
        assert!(
            text.contains("evoflow_run_info{process=\"1\",run_id=\"run-1\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn every_documented_metric_is_exported_with_its_type() {
        let m = Metrics::new("0.1.0+src.test", "run-1", 0).unwrap();
        m.evaluations.with_label_values(&["3"]).inc_by(2);
        m.cache_hits.with_label_values(&["3"]).inc();
        m.worker_busy.with_label_values(&["3"]).inc_by(0.5);
        m.evaluation_duration
            .with_label_values(&["sma_crossover"])
            .observe(0.001);
        m.family_size.with_label_values(&["sma_crossover"]).set(7);
        let text = String::from_utf8(m.encode()).unwrap();
        let docs = include_str!("../../docs/metrics.md");
        for (name, kind) in [
            ("evoflow_build_info", "gauge"),
            ("evoflow_run_info", "gauge"),
            ("evoflow_generation", "gauge"),
            ("evoflow_generations_planned", "gauge"),
            ("evoflow_fitness_best", "gauge"),
            ("evoflow_fitness_mean", "gauge"),
            ("evoflow_fitness_test_best", "gauge"),
            ("evoflow_evaluations_total", "counter"),
            ("evoflow_fitness_cache_hits_total", "counter"),
            ("evoflow_evaluation_duration_seconds", "histogram"),
            ("evoflow_worker_busy_seconds_total", "counter"),
            ("evoflow_generation_duration_seconds", "histogram"),
            ("evoflow_population_family_size", "gauge"),
            ("evoflow_storage_write_duration_seconds", "histogram"),
            ("evoflow_checkpoint_generation", "gauge"),
            ("evoflow_checkpoint_timestamp_seconds", "gauge"),
            ("evoflow_peers_connected", "gauge"),
            ("evoflow_workers", "gauge"),
            ("evoflow_run_status", "gauge"),
        ] {
            assert!(
                text.contains(&format!("# TYPE {name} {kind}\n")),
                "{name} {kind} missing:\n{text}"
            );
            assert!(
                docs.contains(&format!("`{name}`")),
                "{name} is not documented in docs/metrics.md"
            );
        }
        assert!(text.contains("evoflow_build_info{version=\"0.1.0+src.test\"} 1\n"));
        assert!(text.contains("evoflow_run_info{process=\"0\",run_id=\"run-1\"} 1\n"));
        assert!(text.contains("evoflow_fitness_best NaN\n"), "{text}");
        assert!(text.contains("evoflow_evaluations_total{worker=\"3\"} 2\n"));
        assert!(text.contains("evoflow_generation -1\n"));
        #[cfg(target_os = "linux")]
        assert!(text.contains("process_resident_memory_bytes "), "{text}");
    }
}
