//! Storage benchmarks: bulk insert rows/s (appender, local and shared), load time of the hourly sample, and what an `evolve` run pays: one generation's write and a run's fixed cost, per backend (postgres on a throw-away server).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use evoflow::market::{sample::load_sample, Bars};
use evoflow::storage::{
    genome_hash, open_storage, Checkpoint, GenerationRecord, GenerationWrite, HallOfFameRecord, IndividualRecord,
    OpenMode, PgUrl, RunRecord, RunStatus, StorageConfig, TimeRange,
};

#[path = "../tests/support/postgres.rs"]
mod postgres_server;

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

/// One generation of the default run: 96 individuals and a checkpoint of its size.
fn generation(run: &str, g: u32) -> GenerationWrite {
    let individuals = (0..96u32)
        .map(|k| {
            let genome = format!(r#"{{"fast":{k},"slow":{},"threshold":0.{k}5}}"#, k * 3 + g);
            IndividualRecord {
                run_id: run.into(),
                generation: g,
                seed_name: "ema_crossover".into(),
                genome_hash: genome_hash(&genome),
                genome_json: genome,
                fitness: 0.5 + f64::from(k) / 100.0,
                sharpe: 0.4,
                return_pct: 3.5,
                max_drawdown_pct: -8.0,
                num_trades: u64::from(k),
            }
        })
        .collect();
    GenerationWrite {
        stats: GenerationRecord {
            run_id: run.into(),
            generation: g,
            best: 1.0,
            mean: 0.5,
            std: 0.1,
            diversity: 0.9,
            evaluations: 96,
            cache_hits: 0,
            elapsed_ms: 20,
        },
        individuals,
        checkpoint: Checkpoint {
            run_id: run.into(),
            generation: g + 1,
            payload: vec![b'x'; 24_000],
        },
    }
}

fn run_record(id: &str) -> RunRecord {
    RunRecord {
        run_id: id.into(),
        config_json: "{}".into(),
        seed: 42,
        data_fingerprint: "bars:5000:0".into(),
        code_version: "bench".into(),
        status: RunStatus::Running,
        started_at_ms: 1,
        ended_at_ms: None,
    }
}

fn all_backends(dir: &std::path::Path) -> (postgres_server::PgServer, Vec<(&'static str, StorageConfig)>) {
    let server = postgres_server::PgServer::start();
    let url = server.database("bench");
    let mut configs: Vec<(&'static str, StorageConfig)> = configs(dir).into_iter().collect();
    configs.push((
        "postgres",
        StorageConfig::postgres(PgUrl::parse(&url, "bench").unwrap()),
    ));
    (server, configs)
}

/// What the writer thread pays per generation (one transaction: statistics, 96 individuals, checkpoint).
fn generation_write(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (_server, configs) = all_backends(dir.path());
    let mut group = c.benchmark_group("generation_write");
    for (name, config) in configs {
        let mut s = open_storage(&config, OpenMode::ReadWrite).unwrap();
        s.create_run(&run_record("bench")).unwrap();
        let mut g = 0u32;
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    g += 1;
                    generation("bench", g)
                },
                |w| s.record_generations(std::slice::from_ref(&w)).unwrap(),
                criterion::BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

/// What a run pays besides its generations: open for writing, claim, create the run, store a
/// 10-entry hall of fame and complete it, close.
fn run_fixed_cost(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (_server, configs) = all_backends(dir.path());
    let mut group = c.benchmark_group("run_fixed_cost");
    group.sample_size(20);
    for (name, config) in configs {
        let mut n = 0u32;
        group.bench_function(name, |b| {
            b.iter(|| {
                n += 1;
                let id = format!("r{n}");
                let mut s = open_storage(&config, OpenMode::ReadWrite).unwrap();
                s.claim_writer().unwrap();
                s.create_run(&run_record(&id)).unwrap();
                let hof: Vec<HallOfFameRecord> = (1..=10)
                    .map(|rank| HallOfFameRecord {
                        run_id: id.clone(),
                        rank,
                        seed_name: "ema_crossover".into(),
                        genome_json: "{}".into(),
                        fitness: 1.0,
                        train_stats_json: "{}".into(),
                        test_stats_json: "{}".into(),
                        validation_json: "null".into(),
                    })
                    .collect();
                s.complete_run(&id, &hof, 2).unwrap();
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bulk_insert, load_hourly, generation_write, run_fixed_cost);
criterion_main!(benches);
