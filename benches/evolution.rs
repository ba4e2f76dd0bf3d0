//! Criterion bench: trading evolution on the hourly sample at 1 and 2 workers (a 1,000-strategy generation; a 400 × 10 run).

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use evoflow::backtest::BacktestConfig;
use evoflow::evolution::{select_families, split_point, Constraints, Objective, TradingProblem};
use evoflow::market::sample::load_sample;
use evoflow_dataflows::{run, ClusterConfig, GaConfig};

fn problem(seeds: &[String]) -> Arc<TradingProblem> {
    let data = load_sample("eurusd-1h").expect("sample");
    let split = split_point(data.bars.len(), 0.3).expect("split");
    let families = select_families(seeds, &data).expect("families").families;
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

fn run_once(problem: Arc<TradingProblem>, population: usize, generations: u64, workers: usize) {
    let config = GaConfig {
        population,
        generations,
        seed: 3,
        ..GaConfig::default()
    };
    let cluster = ClusterConfig {
        workers,
        ..ClusterConfig::default()
    };
    run(problem, &config, &cluster, None, |_| {}).expect("run");
}

/// One generation (the initial population evaluated, then selection and variation) of 1,000
/// strategies, on a fresh problem each time so no fitness cache carries over: all the seeds
/// usable on the hourly sample (the evolve default) and the indicator seeds alone (without the
/// two ML seeds, whose random genomes cost up to 90 times an indicator genome).
fn generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("evolution_generation");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(15));
    let all: Vec<String> = Vec::new();
    let indicator_only: Vec<String> = evoflow::seeds::all_seeds()
        .iter()
        .filter(|s| s.kind() != evoflow::strategy::StrategyType::MlClassifier && !s.needs_funding())
        .map(|s| s.name().to_string())
        .collect();
    for (label, seeds) in [
        ("all_seeds_pop1000", &all),
        ("indicator_seeds_pop1000", &indicator_only),
    ] {
        for workers in [1usize, 2] {
            group.throughput(Throughput::Elements(1000));
            group.bench_with_input(BenchmarkId::new(label, workers), &workers, |b, &workers| {
                b.iter(|| run_once(problem(seeds), 1000, 1, workers))
            });
        }
    }
    group.finish();
}

/// A run of 10 generations of 400 strategies (all seeds), the population of the issue's
/// `-w 2` vs `-w 1` target: later generations re-use cached elites, so each has fewer new
/// genomes to spread over the workers.
fn run_400(c: &mut Criterion) {
    let mut group = c.benchmark_group("evolution_run");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(15));
    let all: Vec<String> = Vec::new();
    for workers in [1usize, 2] {
        group.bench_with_input(
            BenchmarkId::new("all_seeds_pop400_gen10", workers),
            &workers,
            |b, &workers| b.iter(|| run_once(problem(&all), 400, 10, workers)),
        );
    }
    group.finish();
}

criterion_group!(benches, generation, run_400);

criterion_main!(benches);
