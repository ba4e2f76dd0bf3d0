//! Per-generation cost of the evolution loop: overhead with trivial evaluation, and scaling with
//! an expensive evaluation at 1 and 2 workers. Times are per generation.
//!
//! Two expensive evaluations: `spin` busy-waits 1 ms (CPU-bound, like a backtest: scaling needs
//! a free core per worker) and `sleep` sleeps 1 ms (shows the dataflow evaluates concurrently
//! whatever the machine's load).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use evoflow_dataflows::toy::Sphere;
use evoflow_dataflows::{run, run_sequential, ClusterConfig, Fitness, GaConfig, Problem, Rng};

/// Sphere whose evaluation sleeps for 1 ms.
struct SleepySphere(Sphere);

impl Problem for SleepySphere {
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
        std::thread::sleep(Duration::from_millis(1));
        self.0.evaluate(g)
    }
}

/// Runs `iters` whole runs and returns the time per generation.
fn per_generation(iters: u64, generations: u64, mut one_run: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        one_run();
    }
    start.elapsed() / generations as u32
}

fn overhead(c: &mut Criterion) {
    let generations = 200;
    let config = GaConfig {
        population: 100,
        generations,
        seed: 1,
        ..GaConfig::default()
    };
    let mut group = c.benchmark_group("loop_overhead_pop100_trivial_eval");
    group.bench_function("dataflow_w1_per_generation", |b| {
        b.iter_custom(|iters| {
            per_generation(iters, generations, || {
                let cluster = ClusterConfig::default();
                let outcome = run(Arc::new(Sphere::new(4)), &config, &cluster, None, |_| {}).expect("run");
                assert!(outcome.into_result().is_some());
            })
        })
    });
    group.bench_function("sequential_per_generation", |b| {
        b.iter_custom(|iters| {
            per_generation(iters, generations, || {
                run_sequential(&Sphere::new(4), &config, None, |_| {}).expect("run");
            })
        })
    });
    group.finish();
}

fn scaling_with<P: Problem>(c: &mut Criterion, name: &str, problem: Arc<P>) {
    let generations = 3;
    let config = GaConfig {
        population: 400,
        generations,
        seed: 1,
        ..GaConfig::default()
    };
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    for workers in [1, 2] {
        group.bench_function(format!("dataflow_w{workers}_per_generation"), |b| {
            b.iter_custom(|iters| {
                per_generation(iters, generations, || {
                    let cluster = ClusterConfig {
                        workers,
                        ..ClusterConfig::default()
                    };
                    run(Arc::clone(&problem), &config, &cluster, None, |_| {}).expect("run");
                })
            })
        });
    }
    group.finish();
}

fn scaling(c: &mut Criterion) {
    let spin = Arc::new(Sphere::new(4).with_eval_cost(Duration::from_millis(1)));
    scaling_with(c, "scaling_pop400_eval_spin_1ms", spin);
    scaling_with(
        c,
        "scaling_pop400_eval_sleep_1ms",
        Arc::new(SleepySphere(Sphere::new(4))),
    );
}

criterion_group!(benches, overhead, scaling);
criterion_main!(benches);
