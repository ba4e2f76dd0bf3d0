//! Criterion bench: the cost of the metrics instrumentation, evaluation with and without it (a worker's hot loop, and whole runs).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use evoflow::backtest::BacktestConfig;
use evoflow::evolution::{select_families, split_point, Constraints, Objective, TradingProblem};
use evoflow::market::sample::load_sample;
use evoflow::strategy::Genome;
use evoflow::telemetry::{Metrics, WorkerMetrics};
use evoflow_dataflows::{connect, ClusterConfig, EvaluationObserver, GaConfig, Problem, Rng};

/// Genomes per bench iteration: one default generation.
const GENOMES: usize = 96;

/// The indicator seeds on the hourly sample: the cheapest evaluations (no ML seed, whose
/// genomes cost up to 90 times more), so the instrumentation's share is the largest.
fn problem() -> Arc<TradingProblem> {
    let data = load_sample("eurusd-1h").expect("sample");
    let split = split_point(data.bars.len(), 0.3).expect("split");
    let seeds: Vec<String> = evoflow::seeds::all_seeds()
        .iter()
        .filter(|s| s.kind() != evoflow::strategy::StrategyType::MlClassifier && !s.needs_funding())
        .map(|s| s.name().to_string())
        .collect();
    let families = select_families(&seeds, &data).expect("families").families;
    let backtest = BacktestConfig {
        commission: 0.00045,
        slippage_bps: 1.0,
        ..BacktestConfig::default()
    };
    Arc::new(
        TradingProblem::new(
            families,
            Arc::new(data.slice(0..split)),
            Objective::Sharpe,
            Constraints::default(),
            backtest,
        )
        .expect("problem"),
    )
}

fn genomes(problem: &TradingProblem) -> Vec<Genome> {
    (0..GENOMES)
        .map(|slot| problem.initial_genome(slot, &mut Rng::for_slot(9, 0, slot as u64)))
        .collect()
}

fn observer(problem: &TradingProblem) -> WorkerMetrics {
    let metrics = Metrics::new("bench", "bench", 1).expect("metrics");
    let families = problem.families().iter().map(|f| f.name().to_string()).collect();
    WorkerMetrics::new(metrics, families, true)
}

/// A worker's hot loop over one generation, plain and with exactly the calls the dataflow
/// makes when observed (a clock read and `evaluated` per genome, `busy` per activation, a
/// publish per generation); and those calls alone, without evaluating.
fn evaluation(c: &mut Criterion) {
    let problem = problem();
    let genomes = genomes(&problem);
    let metrics = observer(&problem);
    let mut group = c.benchmark_group("telemetry_evaluation");
    group.sample_size(20);
    group.measurement_time(std::time::Duration::from_secs(10));
    group.throughput(Throughput::Elements(GENOMES as u64));
    group.bench_function("plain", |b| {
        b.iter(|| {
            for genome in &genomes {
                black_box(problem.evaluate_with_metrics(black_box(genome)));
            }
        })
    });
    let mut worker = metrics.worker(0);
    group.bench_function("instrumented", |b| {
        b.iter(|| {
            let activation = Instant::now();
            for genome in &genomes {
                let started = Instant::now();
                black_box(problem.evaluate_with_metrics(black_box(genome)));
                worker.evaluated(problem.niche(genome), started.elapsed());
            }
            worker.busy(activation.elapsed());
            worker.generation_evaluated(1);
        })
    });
    group.bench_function("instrumentation_only", |b| {
        b.iter(|| {
            let activation = Instant::now();
            for genome in &genomes {
                let started = Instant::now();
                worker.evaluated(problem.niche(black_box(genome)), started.elapsed());
            }
            worker.busy(activation.elapsed());
            worker.generation_evaluated(1);
        })
    });
    group.finish();
}

/// Whole runs (96 strategies × 5 generations, 1 and 2 workers) with and without the observer.
fn run(c: &mut Criterion) {
    let problem = problem();
    let config = GaConfig {
        population: GENOMES,
        generations: 5,
        seed: 3,
        ..GaConfig::default()
    };
    let mut group = c.benchmark_group("telemetry_run");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(15));
    for workers in [1usize, 2] {
        let cluster = ClusterConfig {
            workers,
            ..ClusterConfig::default()
        };
        for observed in [false, true] {
            let label = if observed { "observed" } else { "plain" };
            group.bench_with_input(BenchmarkId::new(label, workers), &workers, |b, _| {
                b.iter(|| {
                    let connection = connect(Arc::clone(&problem), &config, &cluster).expect("connect");
                    let connection = if observed {
                        connection.observe(Arc::new(observer(&problem)))
                    } else {
                        connection
                    };
                    connection.run(None, |_| {}).expect("run")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, evaluation, run);

criterion_main!(benches);
