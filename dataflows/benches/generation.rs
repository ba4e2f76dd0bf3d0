//! Per-generation cost of the evolution loop: overhead with trivial evaluation, and scaling with
//! an expensive (1 ms busy-wait) evaluation at 1 and 2 workers. Times are per generation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use evoflow_dataflows::toy::Sphere;
use evoflow_dataflows::{run, run_sequential, ClusterConfig, GaConfig};

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

fn scaling(c: &mut Criterion) {
    let generations = 3;
    let config = GaConfig {
        population: 400,
        generations,
        seed: 1,
        ..GaConfig::default()
    };
    let problem = Arc::new(Sphere::new(4).with_eval_cost(Duration::from_millis(1)));
    let mut group = c.benchmark_group("scaling_pop400_eval_1ms");
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

criterion_group!(benches, overhead, scaling);
criterion_main!(benches);
