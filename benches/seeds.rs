//! Throughput of every seed's signal + backtest on the hourly sample (5,000 bars), in bar-evaluations/s.
//!
//! Each benchmark computes one full signal with the default genome and backtests it (the work
//! evolution does per strategy); criterion's throughput is bars per second. `sma_crossover` (when registered) is included as the reference. The carry
//! seed runs on synthetic 8-hourly funding generated here (BENCH DATA ONLY).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use evoflow::backtest::{BacktestConfig, BacktestContext};
use evoflow::market::{sample::load_sample, FundingRates, MarketData};
use evoflow::seeds::{all_seeds, columns, lookup};
use evoflow::strategy::Strategy;

/// BENCH DATA: deterministic AR(1) funding every 8 hours over the bars' span.
fn synthetic_funding(d: &MarketData) -> FundingRates {
    const EIGHT_HOURS: i64 = 8 * 3_600_000;
    let ts = &d.bars.timestamp_ms;
    let (Some(&start), Some(&last)) = (ts.first(), ts.last()) else {
        return FundingRates::default();
    };
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let (mean, mut f) = (0.0001, 0.0001);
    let mut out = FundingRates::default();
    let mut t = start + (EIGHT_HOURS - start.rem_euclid(EIGHT_HOURS)) % EIGHT_HOURS;
    while t <= last {
        out.time_ms.push(t);
        out.rate.push(f);
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let e = ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0;
        f = mean + 0.97 * (f - mean) + 0.00004 * 1.7 * e;
        t += EIGHT_HOURS;
    }
    out
}

fn bench_seeds(c: &mut Criterion) {
    let mut data = load_sample("eurusd-1h").expect("sample");
    data.funding = Some(synthetic_funding(&data));
    let n = data.bars.len() as u64;
    let mut strategies: Vec<&'static dyn Strategy> = Vec::new();
    if let Ok(reference) = lookup("sma_crossover") {
        strategies.push(reference);
    }
    strategies.extend(all_seeds());

    let context = BacktestContext::new(&data).expect("context");
    let config = BacktestConfig::default();
    let mut group = c.benchmark_group("seed_signal_and_backtest_eurusd_1h");
    group.throughput(Throughput::Elements(n));
    for s in strategies {
        let genome = s.default_genome();
        let ml = s.kind() == evoflow::strategy::StrategyType::MlClassifier;
        group.sample_size(if ml { 10 } else { 30 });
        group.bench_with_input(BenchmarkId::from_parameter(s.name()), &genome, |b, g| {
            b.iter(|| {
                context
                    .run_stats(&s.signal(&data, g).expect("signal"), &config, s.warmup(&data, g))
                    .expect("backtest")
            })
        });
    }
    group.finish();

    // The ML seeds' worst case: every gene at its maximum (largest windows, most members/trees).
    let mut group = c.benchmark_group("ml_seed_signal_max_genes_eurusd_1h");
    group.throughput(Throughput::Elements(n));
    group.sample_size(10);
    for s in all_seeds()
        .into_iter()
        .filter(|s| s.kind() == evoflow::strategy::StrategyType::MlClassifier)
    {
        let genome: Vec<f64> = s.genes().iter().map(|g| g.max).collect();
        group.bench_with_input(BenchmarkId::from_parameter(s.name()), &genome, |b, g| {
            b.iter(|| s.signal(&data, g).expect("signal"))
        });
    }
    group.finish();
}

/// What an evolution worker does per genome once the columns of its periods are memoised:
/// the signal inside a column scope plus the fitness path's backtest, on the training 70 % of goog daily
/// (1,503 bars), for each indicator seed and the reference. Throughput: bars per second
/// (ns per bar = 1e9 / that).
fn bench_memoised(c: &mut Criterion) {
    let full = load_sample("goog-1d").expect("sample");
    let split = evoflow::evolution::split_point(full.bars.len(), 0.3).expect("split");
    let data = full.slice(0..split);
    let n = data.bars.len() as u64;
    let mut strategies: Vec<&'static dyn Strategy> = Vec::new();
    if let Ok(reference) = lookup("sma_crossover") {
        strategies.push(reference);
    }
    strategies.extend(
        all_seeds()
            .into_iter()
            .filter(|s| s.kind() != evoflow::strategy::StrategyType::MlClassifier && !s.needs_funding()),
    );
    let context = BacktestContext::new(&data).expect("context");
    let config = BacktestConfig {
        commission: 0.00045,
        slippage_bps: 1.0,
        ..BacktestConfig::default()
    };
    let owner = columns::new_owner();
    let mut group = c.benchmark_group("seed_memoised_signal_and_backtest_goog_1d_train");
    group.throughput(Throughput::Elements(n));
    group.sample_size(30);
    for s in strategies {
        let genome = s.default_genome();
        group.bench_with_input(BenchmarkId::from_parameter(s.name()), &genome, |b, g| {
            b.iter(|| {
                let targets = columns::with_columns(owner, &data, || s.signal(&data, g).expect("signal"));
                context
                    .run_fitness_stats(&targets, &config, s.warmup(&data, g))
                    .expect("backtest")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_memoised, bench_seeds);
criterion_main!(benches);
