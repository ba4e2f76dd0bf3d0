//! Criterion bench: one generation of trading evolution (1,000 strategies on the hourly sample) at 1 and 2 workers.

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

/// One generation (initial population evaluated, selection and variation) on a fresh problem
/// each time, so no fitness cache carries over: 1,000 strategies of the indicator seeds, and
/// 200 strategies of all seeds (the two ML seeds cost 0.1–1.5 s per backtest, so a
/// 1,000-strategy generation with them takes tens of seconds on this machine).
fn generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("evolution_generation");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(10));
    let all: Vec<String> = Vec::new();
    let indicator_only: Vec<String> = evoflow::seeds::all_seeds()
        .iter()
        .filter(|s| s.kind() != evoflow::strategy::StrategyType::MlClassifier && !s.needs_funding())
        .map(|s| s.name().to_string())
        .collect();
    for (label, seeds, population) in [
        ("indicator_seeds_pop1000", &indicator_only, 1000),
        ("all_seeds_pop200", &all, 200),
    ] {
        for workers in [1usize, 2] {
            group.throughput(Throughput::Elements(population as u64));
            group.bench_with_input(BenchmarkId::new(label, workers), &workers, |b, &workers| {
                b.iter(|| {
                    let config = GaConfig {
                        population,
                        generations: 1,
                        seed: 3,
                        ..GaConfig::default()
                    };
                    let cluster = ClusterConfig {
                        workers,
                        ..ClusterConfig::default()
                    };
                    run(problem(seeds), &config, &cluster, None, |_| {}).expect("run")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, generation);
criterion_main!(benches);
