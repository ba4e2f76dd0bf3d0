//! Resuming a checkpoint whose stopping rule already holds runs no generation: every worker ends at once with that reason (what lets a supervisor restart every process of a finished run).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use evoflow_dataflows::toy::Sphere;
use evoflow_dataflows::{connect, run_sequential, ClusterConfig, GaConfig, StopReason};

fn config() -> GaConfig {
    GaConfig {
        population: 16,
        generations: 5,
        seed: 11,
        ..GaConfig::default()
    }
}

#[test]
fn a_finished_checkpoint_ends_every_worker_without_a_generation() {
    let problem = Arc::new(Sphere::new(3));
    let done = run_sequential(&*problem, &config(), None, |_| {}).unwrap();
    assert_eq!(done.last_checkpoint.generation, 5);
    for workers in [1, 3] {
        let cluster = ClusterConfig {
            workers,
            ..ClusterConfig::default()
        };
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        let end = connect(Arc::clone(&problem), &config(), &cluster)
            .unwrap()
            .execute(Some(done.last_checkpoint.clone()), move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        assert_eq!(end.stop, StopReason::Generations, "{workers} workers");
        assert!(end.result.is_none(), "{workers} workers: no generation, no new result");
        assert_eq!(seen.load(Ordering::SeqCst), 0, "{workers} workers: no report");
    }
}

#[test]
fn the_same_checkpoint_with_more_generations_continues_as_before() {
    // The guard only applies when the stopping rule holds: extending the run still runs it.
    let problem = Arc::new(Sphere::new(3));
    let done = run_sequential(&*problem, &config(), None, |_| {}).unwrap();
    let longer = GaConfig {
        generations: 8,
        ..config()
    };
    let whole = run_sequential(&*problem, &longer, None, |_| {}).unwrap();
    let cluster = ClusterConfig {
        workers: 2,
        ..ClusterConfig::default()
    };
    let end = connect(Arc::clone(&problem), &longer, &cluster)
        .unwrap()
        .execute(Some(done.last_checkpoint), |_| {})
        .unwrap();
    let resumed = end.result.expect("coordinator result");
    assert_eq!(resumed.hall_of_fame, whole.hall_of_fame);
    assert_eq!(resumed.last_checkpoint.generation, 8);
}
