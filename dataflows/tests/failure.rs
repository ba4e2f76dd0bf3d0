//! A panicking evaluation on one worker makes `run` return an error instead of hanging.

use std::sync::Arc;

use evoflow_dataflows::toy::Sphere;
use evoflow_dataflows::{run, ClusterConfig, DataflowError, Fitness, GaConfig, Problem, Rng};

/// Sphere whose evaluation panics on worker 1 for some genomes.
struct Fragile(Sphere);

impl Problem for Fragile {
    type Genome = Vec<i64>;
    fn random_genome(&self, rng: &mut Rng) -> Vec<i64> {
        self.0.random_genome(rng)
    }
    fn mutate(&self, g: &Vec<i64>, rng: &mut Rng) -> Vec<i64> {
        self.0.mutate(g, rng)
    }
    fn crossover(&self, a: &Vec<i64>, b: &Vec<i64>, rng: &mut Rng) -> Vec<i64> {
        self.0.crossover(a, b, rng)
    }
    fn evaluate(&self, g: &Vec<i64>) -> Fitness {
        if std::thread::current().name() == Some("timely:work-1") && g[0] > 2000 {
            panic!("evaluation failed on purpose");
        }
        self.0.evaluate(g)
    }
}

#[test]
fn a_worker_panic_is_an_error_not_a_hang() {
    let config = GaConfig {
        population: 200,
        generations: 5,
        seed: 1,
        ..GaConfig::default()
    };
    for workers in [2, 3] {
        let cluster = ClusterConfig {
            workers,
            ..ClusterConfig::default()
        };
        let err = run(Arc::new(Fragile(Sphere::new(3))), &config, &cluster, None, |_| {}).unwrap_err();
        match err {
            DataflowError::WorkerFailed { worker, message } => {
                assert_eq!(worker, 1);
                assert_eq!(message, "evaluation failed on purpose");
            }
            other => panic!("unexpected error {other}"),
        }
    }
}
