//! Criterion benches: bar-evaluations per second of the backtest kernel (fast and full path) and of a sweep.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use evoflow::backtest::{BacktestConfig, BacktestContext};
use evoflow::indicators::sma;
use evoflow::market::sample::load_sample;
use evoflow::strategy::sma_crossover::{crossover_changes, SMA_CROSSOVER};
use evoflow::strategy::Strategy;
use evoflow::sweep::{run_sweep, Constraint, GridAxis, SweepSpec};
use std::time::Duration;

fn kernel(c: &mut Criterion) {
    let data = load_sample("eurusd-1h").unwrap();
    let n = data.bars.len();
    let ctx = BacktestContext::new(&data).unwrap();
    let config = BacktestConfig {
        commission: 0.0002,
        ..BacktestConfig::default()
    };
    let close = &data.bars.close;
    let (f, s) = (sma(close, 10).unwrap(), sma(close, 30).unwrap());
    let mut changes = Vec::new();
    crossover_changes(&f, &s, &mut changes);
    let targets = SMA_CROSSOVER.signal(&data, &[10.0, 30.0]).unwrap();

    let mut g = c.benchmark_group("backtest_kernel");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("stats_from_changes", n), |b| {
        b.iter(|| ctx.run_stats_changes(changes.iter().copied(), &config, 0).unwrap())
    });
    g.bench_function(BenchmarkId::new("stats_from_targets", n), |b| {
        b.iter(|| ctx.run_stats(&targets, &config, 0).unwrap())
    });
    g.bench_function(BenchmarkId::new("full_report", n), |b| {
        b.iter(|| ctx.run(&targets, &config, 0).unwrap())
    });
    g.finish();
}

fn sweep(c: &mut Criterion) {
    let data = load_sample("eurusd-1h").unwrap();
    let axes = vec![
        GridAxis::parse("fast=2:100:1").unwrap(),
        GridAxis::parse("slow=5:500:5").unwrap(),
    ];
    let keys: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
    let spec = SweepSpec {
        constraints: vec![Constraint::parse("fast<slow", &keys).unwrap()],
        axes,
        maximize: "sharpe_ratio".into(),
        top: 10,
        config: BacktestConfig::default(),
    };
    let points = run_sweep(&data, &SMA_CROSSOVER, &spec).unwrap().evaluated as u64;
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(points * data.bars.len() as u64));
    g.bench_function(BenchmarkId::new("eurusd_1h_sma_grid", points), |b| {
        b.iter(|| run_sweep(&data, &SMA_CROSSOVER, &spec).unwrap())
    });
    g.finish();
}

criterion_group!(benches, kernel, sweep);
criterion_main!(benches);
