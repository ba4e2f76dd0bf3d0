//! Helpers shared by the integration tests: running both implementations and comparing reports.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use evoflow_dataflows::{run, run_sequential, Checkpoint, ClusterConfig, GaConfig, GenerationReport, Problem};

/// Every report of a dataflow run (coordinator side), in generation order.
pub fn dataflow_reports<P: Problem>(
    problem: P,
    config: &GaConfig,
    cluster: &ClusterConfig,
    resume: Option<Checkpoint<P::Genome>>,
) -> Vec<GenerationReport<P::Genome>> {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let outcome = run(Arc::new(problem), config, cluster, resume, move |r| {
        sink.lock().unwrap().push(r.clone())
    })
    .expect("dataflow run");
    let result = outcome.into_result().expect("coordinator");
    let reports = std::mem::take(&mut *reports.lock().unwrap());
    assert_eq!(result.stats.len(), reports.len());
    assert_eq!(result.final_population, reports.last().unwrap().population);
    reports
}

/// Every report of the sequential reference, in generation order.
pub fn sequential_reports<P: Problem>(
    problem: &P,
    config: &GaConfig,
    resume: Option<Checkpoint<P::Genome>>,
) -> Vec<GenerationReport<P::Genome>> {
    let mut reports = Vec::new();
    run_sequential(problem, config, resume, |r| reports.push(r.clone())).expect("sequential run");
    reports
}

/// Removes what may legitimately differ between runs: wall time, and with `cache` also the
/// cache counters (which restart after a resume).
pub fn normalise<G: evoflow_dataflows::Genome>(
    mut reports: Vec<GenerationReport<G>>,
    cache: bool,
) -> Vec<GenerationReport<G>> {
    for r in &mut reports {
        r.stats.elapsed = Duration::ZERO;
        if cache {
            r.stats.evaluations = 0;
            r.stats.cache_hits = 0;
        }
    }
    reports
}

/// Asserts two report sequences are identical generation by generation, with a readable message.
pub fn assert_same_reports<G: evoflow_dataflows::Genome>(
    label: &str,
    expected: &[GenerationReport<G>],
    actual: &[GenerationReport<G>],
) {
    assert_eq!(expected.len(), actual.len(), "{label}: number of generations");
    for (e, a) in expected.iter().zip(actual) {
        let g = e.stats.generation;
        assert_eq!(e.population, a.population, "{label}: population of generation {g}");
        assert_eq!(e.stats, a.stats, "{label}: stats of generation {g}");
        assert_eq!(
            e.hall_of_fame, a.hall_of_fame,
            "{label}: hall of fame after generation {g}"
        );
        assert_eq!(e.checkpoint, a.checkpoint, "{label}: checkpoint after generation {g}");
    }
}

/// Cluster config for `workers` threads in one process.
pub fn threads(workers: usize, zerocopy: bool) -> ClusterConfig {
    ClusterConfig {
        workers,
        zerocopy,
        ..ClusterConfig::default()
    }
}
