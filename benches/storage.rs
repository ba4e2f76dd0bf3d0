//! Storage benchmarks: bulk insert rows/s (appender, local and shared) and load time of the hourly sample, shared vs local.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use evoflow::market::{sample::load_sample, Bars};
use evoflow::storage::{open_storage, OpenMode, StorageConfig, TimeRange};

fn synthetic(n: usize) -> Bars {
    let mut bars = Bars::with_capacity(n);
    for i in 0..n {
        let p = 100.0 + ((i as u64).wrapping_mul(2_654_435_761) % 10_000) as f64 * 0.01;
        bars.push(
            1_500_000_000_000 + i as i64 * 60_000,
            p,
            p + 0.5,
            p - 0.5,
            p,
            (i % 977) as f64,
        );
    }
    bars
}

fn configs(dir: &std::path::Path) -> [(&'static str, StorageConfig); 2] {
    let shared = dir.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    [
        ("local", StorageConfig::local(dir.join("local.duckdb"))),
        ("shared", StorageConfig::shared(shared)),
    ]
}

fn bulk_insert(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let rows = 200_000;
    let bars = synthetic(rows);
    let mut group = c.benchmark_group("bulk_insert");
    group.sample_size(10);
    group.throughput(Throughput::Elements(rows as u64));
    for (name, config) in configs(dir.path()) {
        let mut s = open_storage(&config, OpenMode::ReadWrite).unwrap();
        group.bench_with_input(BenchmarkId::new(name, rows), &bars, |b, bars| {
            b.iter(|| s.write_bars("SYN", "1m", bars).unwrap());
        });
    }
    group.finish();
}

/// What a fresh process pays to get the hourly sample: open the storage read-only and read it.
fn load_hourly(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let hourly = load_sample("eurusd-1h").unwrap().bars;
    let mut group = c.benchmark_group("load_hourly_sample");
    for (name, config) in configs(dir.path()) {
        open_storage(&config, OpenMode::ReadWrite)
            .unwrap()
            .write_bars("EURUSD", "1h", &hourly)
            .unwrap();
        group.bench_function(BenchmarkId::new("open_and_read", name), |b| {
            b.iter(|| {
                let s = open_storage(&config, OpenMode::ReadOnly).unwrap();
                let bars = s.read_bars("EURUSD", "1h", TimeRange::all()).unwrap();
                assert_eq!(bars.len(), 5000);
            });
        });
        let s = open_storage(&config, OpenMode::ReadOnly).unwrap();
        group.bench_function(BenchmarkId::new("read_only", name), |b| {
            b.iter(|| s.read_bars("EURUSD", "1h", TimeRange::all()).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, bulk_insert, load_hourly);
criterion_main!(benches);
