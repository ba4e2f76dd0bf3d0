//! `WorkerMetrics`: the dataflow's `EvaluationObserver` that counts worker-locally and publishes to the registry once per generation.

use std::time::Duration;

use evoflow_dataflows::{EvaluationObserver, WorkerObserver};
use prometheus::local::LocalHistogram;
use prometheus::{Counter, IntCounter};

use super::registry::Metrics;

/// The label of a genome whose niche names no family.
const UNKNOWN_FAMILY: &str = "unknown";

/// Makes each worker's [`WorkerRecorder`]; `families[niche]` names the family of a niche.
pub struct WorkerMetrics {
    metrics: Metrics,
    families: Vec<String>,
    /// Whether this process's workers set `evoflow_generation` (not on the coordinator,
    /// whose per-generation callback sets it when a generation is complete).
    sets_generation: bool,
}

impl WorkerMetrics {
    /// Observers publishing to `metrics`; with `sets_generation` each worker also sets
    /// `evoflow_generation` to the newest generation it finished evaluating.
    pub fn new(metrics: Metrics, families: Vec<String>, sets_generation: bool) -> WorkerMetrics {
        WorkerMetrics {
            metrics,
            families,
            sets_generation,
        }
    }
}

impl EvaluationObserver for WorkerMetrics {
    fn worker(&self, worker: u64) -> Box<dyn WorkerObserver> {
        let label = worker.to_string();
        Box::new(WorkerRecorder {
            evaluations_total: self.metrics.evaluations.with_label_values(&[&label]),
            cache_hits_total: self.metrics.cache_hits.with_label_values(&[&label]),
            busy_total: self.metrics.worker_busy.with_label_values(&[&label]),
            latency: Vec::new(),
            metrics: self.metrics.clone(),
            families: self.families.clone(),
            sets_generation: self.sets_generation,
            evaluations: 0,
            cache_hits: 0,
            busy: Duration::ZERO,
        })
    }
}

/// One worker's plain counters, added to the registry at each generation it finishes (and
/// when the dataflow is dropped).
pub struct WorkerRecorder {
    metrics: Metrics,
    families: Vec<String>,
    sets_generation: bool,
    evaluations_total: IntCounter,
    cache_hits_total: IntCounter,
    busy_total: Counter,
    /// Unsynchronised evaluation-time histograms by niche, created on first use.
    latency: Vec<Option<LocalHistogram>>,
    evaluations: u64,
    cache_hits: u64,
    busy: Duration,
}

impl WorkerRecorder {
    fn latency_of(&mut self, niche: u32) -> &LocalHistogram {
        let index = niche as usize;
        let index = if index < self.families.len() {
            index
        } else {
            self.families.len()
        };
        if self.latency.len() <= index {
            self.latency.resize_with(index + 1, || None);
        }
        let family = self.families.get(index).map_or(UNKNOWN_FAMILY, String::as_str);
        let histogram = &self.metrics.evaluation_duration;
        self.latency[index].get_or_insert_with(|| histogram.with_label_values(&[family]).local())
    }

    fn publish(&mut self) {
        self.evaluations_total.inc_by(std::mem::take(&mut self.evaluations));
        self.cache_hits_total.inc_by(std::mem::take(&mut self.cache_hits));
        self.busy_total.inc_by(std::mem::take(&mut self.busy).as_secs_f64());
        for histogram in self.latency.iter().flatten() {
            histogram.flush();
        }
    }
}

impl WorkerObserver for WorkerRecorder {
    fn evaluated(&mut self, niche: u32, took: Duration) {
        self.evaluations += 1;
        self.latency_of(niche).observe(took.as_secs_f64());
    }

    fn cache_hit(&mut self) {
        self.cache_hits += 1;
    }

    fn busy(&mut self, busy: Duration) {
        self.busy += busy;
    }

    fn generation_evaluated(&mut self, generation: u64) {
        self.publish();
        if self.sets_generation {
            let generation = i64::try_from(generation).unwrap_or(i64::MAX);
            if generation > self.metrics.generation.get() {
                self.metrics.generation.set(generation);
            }
        }
    }
}

impl Drop for WorkerRecorder {
    fn drop(&mut self) {
        self.publish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_stay_local_until_the_generation_ends() {
        let metrics = Metrics::new("v", "r", 1).unwrap();
        let observer = WorkerMetrics::new(metrics.clone(), vec!["a".into(), "b".into()], true);
        let mut worker = observer.worker(3);
        worker.evaluated(1, Duration::from_millis(2));
        worker.evaluated(9, Duration::from_millis(1));
        worker.cache_hit();
        worker.busy(Duration::from_millis(5));
        let text = String::from_utf8(metrics.encode()).unwrap();
        assert!(text.contains("evoflow_evaluations_total{worker=\"3\"} 0\n"), "{text}");
        worker.generation_evaluated(4);
        let text = String::from_utf8(metrics.encode()).unwrap();
        assert!(text.contains("evoflow_evaluations_total{worker=\"3\"} 2\n"), "{text}");
        assert!(
            text.contains("evoflow_fitness_cache_hits_total{worker=\"3\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("evoflow_worker_busy_seconds_total{worker=\"3\"} 0.005\n"),
            "{text}"
        );
        assert!(
            text.contains("evoflow_evaluation_duration_seconds_count{family=\"b\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("evoflow_evaluation_duration_seconds_count{family=\"unknown\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("evoflow_generation 4\n"), "{text}");
        // An older generation never moves it back.
        worker.generation_evaluated(2);
        assert_eq!(metrics.generation.get(), 4);
    }
}
