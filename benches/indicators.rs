//! Criterion benches of every indicator on the 5000-bar `eurusd-1h` sample (throughput per call).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use evoflow::indicators::*;
use evoflow::market::sample::load_sample;

fn indicators(c: &mut Criterion) {
    let bars = load_sample("eurusd-1h").expect("embedded sample").bars;
    let (h, l, cl, v) = (&bars.high[..], &bars.low[..], &bars.close[..], &bars.volume[..]);
    let mut g = c.benchmark_group("indicators_5000_bars");
    g.throughput(Throughput::Elements(bars.len() as u64));
    g.bench_function("sma30", |b| b.iter(|| sma(black_box(cl), 30)));
    g.bench_function("ema30", |b| b.iter(|| ema(black_box(cl), 30)));
    g.bench_function("wma30", |b| b.iter(|| wma(black_box(cl), 30)));
    g.bench_function("rsi14", |b| b.iter(|| rsi(black_box(cl), 14)));
    g.bench_function("trange", |b| b.iter(|| true_range(black_box(h), l, cl)));
    g.bench_function("atr14", |b| b.iter(|| atr(black_box(h), l, cl, 14)));
    g.bench_function("bbands20", |b| b.iter(|| bbands(black_box(cl), 20, 2.0, 2.0)));
    g.bench_function("stoch14_3_3", |b| b.iter(|| stoch(black_box(h), l, cl, 14, 3, 3)));
    g.bench_function("macd12_26_9", |b| b.iter(|| macd(black_box(cl), 12, 26, 9)));
    g.bench_function("willr14", |b| b.iter(|| willr(black_box(h), l, cl, 14)));
    g.bench_function("adx14", |b| b.iter(|| adx(black_box(h), l, cl, 14)));
    g.bench_function("stddev20", |b| b.iter(|| stddev(black_box(cl), 20)));
    g.bench_function("roc10", |b| b.iter(|| roc(black_box(cl), 10)));
    g.bench_function("donchian20", |b| b.iter(|| donchian(black_box(h), l, 20)));
    g.bench_function("vwap50", |b| b.iter(|| rolling_vwap(black_box(h), l, cl, v, 50)));
    g.bench_function("ichimoku9_26_52", |b| b.iter(|| ichimoku(black_box(h), l, 9, 26, 52)));
    g.finish();
}

criterion_group!(benches, indicators);
criterion_main!(benches);
