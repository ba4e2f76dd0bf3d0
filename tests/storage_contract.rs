//! The storage contract: one suite of tests run against all three backends (local DuckDB file, shared directory, PostgreSQL).

mod support;

use evoflow::market::{sample::load_sample, Bars, FundingRates};
use evoflow::storage::{
    genome_hash, open_storage, read_run_overview, read_run_overviews, BackendKind, Checkpoint, FitnessKey,
    GenerationRecord, GenerationWrite, HallOfFameRecord, IndividualRecord, OpenMode, PgUrl, RunRecord, RunStatus,
    Storage, StorageConfig, StorageError, TimeRange,
};
use support::postgres::PgServer;
use tempfile::TempDir;

/// What a backend needs kept alive for a test (the postgres server).
type Keep = Option<PgServer>;

fn local(dir: &TempDir) -> (Keep, StorageConfig) {
    (None, StorageConfig::local(dir.path().join("evoflow.duckdb")))
}

fn shared(dir: &TempDir) -> (Keep, StorageConfig) {
    (None, StorageConfig::shared(dir.path()))
}

fn postgres(_dir: &TempDir) -> (Keep, StorageConfig) {
    let server = PgServer::start();
    let url = server.database("contract");
    let config = StorageConfig::postgres(PgUrl::parse(&url, "test").unwrap());
    (Some(server), config)
}

fn rw(config: &StorageConfig) -> Box<dyn Storage> {
    open_storage(config, OpenMode::ReadWrite).unwrap()
}

fn run_record(id: &str) -> RunRecord {
    RunRecord {
        run_id: id.into(),
        config_json: r#"{"population":50}"#.into(),
        seed: u64::MAX - 3,
        data_fingerprint: "bars:5000:abc".into(),
        code_version: "evoflow 0.1.0".into(),
        status: RunStatus::Running,
        started_at_ms: 1_700_000_000_000,
        ended_at_ms: None,
    }
}

fn individual(run: &str, generation: u32, k: u32) -> IndividualRecord {
    let genome = format!(r#"{{"fast":{k},"slow":{}}}"#, k * 3);
    IndividualRecord {
        run_id: run.into(),
        generation,
        seed_name: "sma_cross".into(),
        genome_hash: genome_hash(&genome),
        genome_json: genome,
        fitness: 1.0 + f64::from(k) / 8.0,
        sharpe: if k == 0 { f64::NAN } else { 0.5 * f64::from(k) },
        return_pct: -3.25 + f64::from(k),
        max_drawdown_pct: -12.5,
        num_trades: u64::from(k) * 7,
    }
}

fn generation(run: &str, g: u32) -> GenerationRecord {
    GenerationRecord {
        run_id: run.into(),
        generation: g,
        best: 2.0 + f64::from(g),
        mean: 1.0,
        std: 0.25,
        diversity: 0.9,
        evaluations: 50,
        cache_hits: u64::from(g),
        elapsed_ms: 1234,
    }
}

fn same_individuals(a: &[IndividualRecord], b: &[IndividualRecord]) -> bool {
    // NaN != NaN, so compare through JSON (NaN becomes null on both sides).
    serde_json::to_string(a).unwrap() == serde_json::to_string(b).unwrap()
}

fn market_round_trip(config: StorageConfig) {
    let mut s = rw(&config);
    let bars = load_sample("goog-1d").unwrap().bars;
    assert_eq!(s.write_bars("GOOG", "1d", &bars).unwrap(), bars.len());
    assert_eq!(s.read_bars("GOOG", "1d", TimeRange::all()).unwrap(), bars);
    let (a, b) = (bars.timestamp_ms[10], bars.timestamp_ms[19]);
    assert_eq!(
        s.read_bars("GOOG", "1d", TimeRange::between(a, b)).unwrap(),
        bars.slice(10..20)
    );
    assert!(matches!(
        s.read_bars("GOOG", "1h", TimeRange::all()),
        Err(StorageError::NoData { .. })
    ));
    assert!(s.read_funding("GOOG", "1d", TimeRange::all()).unwrap().is_none());
    let funding = FundingRates {
        time_ms: vec![bars.timestamp_ms[0] + 1, bars.timestamp_ms[5] + 1],
        rate: vec![1e-4, -2.5e-5],
    };
    s.write_funding("GOOG", "1d", &funding).unwrap();
    let m = s.read_market("GOOG", "1d", TimeRange::all()).unwrap();
    assert_eq!((m.bars.len(), m.funding.as_ref()), (bars.len(), Some(&funding)));
    assert_eq!(m.source, format!("storage:{}:GOOG/1d", config.backend));

    // A write replaces the stored span it covers and keeps the rest.
    let mut patch = bars.slice(100..110);
    for c in patch.close.iter_mut() {
        *c = (*c * 1.0001).min(f64::MAX);
    }
    for i in 0..patch.len() {
        patch.high[i] = patch.high[i].max(patch.close[i]);
        patch.low[i] = patch.low[i].min(patch.close[i]);
    }
    s.write_bars("GOOG", "1d", &patch).unwrap();
    let back = s.read_bars("GOOG", "1d", TimeRange::all()).unwrap();
    assert_eq!(back.len(), bars.len());
    assert_eq!(back.slice(100..110), patch);
    assert_eq!(back.slice(0..100), bars.slice(0..100));
    assert_eq!(back.slice(110..bars.len()), bars.slice(110..bars.len()));

    let hourly = load_sample("eurusd-1h").unwrap().bars;
    s.write_bars("EURUSD", "1h", &hourly).unwrap();
    let ls = s.list_market().unwrap();
    let summary: Vec<_> = ls
        .iter()
        .map(|d| (d.symbol.as_str(), d.timeframe.as_str(), d.bars, d.funding))
        .collect();
    assert_eq!(
        summary,
        vec![("EURUSD", "1h", 5000, 0), ("GOOG", "1d", bars.len() as u64, 2)]
    );
    assert_eq!(
        (ls[0].first_ms, ls[0].last_ms),
        (hourly.timestamp_ms[0], hourly.timestamp_ms[4999])
    );

    // Data survives closing and reopening; readers open read-only and cannot write.
    drop(s);
    let r = open_storage(&config, OpenMode::ReadOnly).unwrap();
    let r2 = open_storage(&config, OpenMode::ReadOnly).unwrap();
    assert_eq!(r.read_bars("EURUSD", "1h", TimeRange::all()).unwrap(), hourly);
    assert_eq!(r2.list_market().unwrap(), ls);
    drop((r, r2));
    let mut r = open_storage(&config, OpenMode::ReadOnly).unwrap();
    assert!(matches!(
        r.write_bars("X", "1h", &hourly),
        Err(StorageError::OpenedReadOnly { .. })
    ));
    assert!(matches!(
        r.create_run(&run_record("r")),
        Err(StorageError::OpenedReadOnly { .. })
    ));
    drop(r);

    let mut s = rw(&config);
    assert!(s.delete_market("GOOG", "1d").unwrap());
    assert!(!s.delete_market("GOOG", "1d").unwrap());
    assert_eq!(s.list_market().unwrap().len(), 1);
}

fn rejects_bad_input(config: StorageConfig) {
    let mut s = rw(&config);
    let mut bars = Bars::default();
    assert!(matches!(s.write_bars("A", "1h", &bars), Err(StorageError::Market(_))));
    bars.push(2, 1.0, 2.0, 0.5, 1.5, 1.0);
    bars.push(1, 1.0, 2.0, 0.5, 1.5, 1.0);
    let e = s.write_bars("A", "1h", &bars).unwrap_err().to_string();
    assert!(e.contains("bars A/1h: row 2, field `timestamp`"), "{e}");
    let e = s.write_bars("../etc", "1h", &bars.slice(0..1)).unwrap_err().to_string();
    assert!(e.contains("invalid symbol `../etc`"), "{e}");
    assert!(s.write_bars("A", "1 h", &bars.slice(0..1)).is_err());
    assert!(s.create_run(&run_record("bad/id")).is_err());
    assert!(
        s.list_market().unwrap().is_empty(),
        "nothing was stored by the rejected writes"
    );
}

fn runs_and_results(config: StorageConfig) {
    let mut s = rw(&config);
    s.claim_writer().unwrap();
    s.create_run(&run_record("run-1")).unwrap();
    assert!(s.create_run(&run_record("run-1")).is_err(), "duplicate run id");
    let ind0: Vec<_> = (0..5).map(|k| individual("run-1", 0, k)).collect();
    s.record_generation(&generation("run-1", 0), &ind0).unwrap();
    let ind1: Vec<_> = (0..3).map(|k| individual("run-1", 1, k + 10)).collect();
    s.record_generation(&generation("run-1", 1), &ind1).unwrap();
    // Re-recording a generation (after a resume) replaces it.
    let ind1b: Vec<_> = (0..4).map(|k| individual("run-1", 1, k + 20)).collect();
    s.record_generation(&generation("run-1", 1), &ind1b).unwrap();
    assert!(
        s.record_generation(&generation("run-1", 2), &ind0).is_err(),
        "individuals of another generation"
    );

    let hof = vec![
        HallOfFameRecord {
            run_id: "run-1".into(),
            rank: 1,
            seed_name: "sma_cross".into(),
            genome_json: r#"{"fast":5}"#.into(),
            fitness: 3.5,
            train_stats_json: r#"{"Sharpe Ratio":1.2}"#.into(),
            test_stats_json: r#"{"Sharpe Ratio":0.8}"#.into(),
            validation_json: r#"{"dsr":0.4,"warnings":["dsr 0.400 < 0.95"]}"#.into(),
        },
        HallOfFameRecord {
            rank: 2,
            fitness: 3.0,
            ..hof_entry()
        },
    ];
    s.write_hall_of_fame("run-1", &hof).unwrap();
    s.write_hall_of_fame("run-1", &hof).unwrap();
    drop(s);

    // A run that was not finished explicitly stays `running` (a crash never reads as complete).
    let r = open_storage(&config, OpenMode::ReadOnly).unwrap();
    assert_eq!(r.get_run("run-1").unwrap().unwrap().status, RunStatus::Running);
    assert_eq!(
        r.read_generations("run-1").unwrap(),
        vec![generation("run-1", 0), generation("run-1", 1)]
    );
    assert!(same_individuals(&r.read_individuals("run-1", Some(0)).unwrap(), &ind0));
    assert!(same_individuals(&r.read_individuals("run-1", Some(1)).unwrap(), &ind1b));
    assert_eq!(r.read_individuals("run-1", None).unwrap().len(), 9);
    assert_eq!(r.read_hall_of_fame("run-1").unwrap(), hof);
    assert!(r.get_run("nope").unwrap().is_none());
    drop(r);

    let mut s = rw(&config);
    s.finish_run("run-1", RunStatus::Completed, 1_700_000_100_000).unwrap();
    assert!(s.finish_run("nope", RunStatus::Failed, 1).is_err());
    s.create_run(&RunRecord {
        started_at_ms: 1_700_000_200_000,
        ..run_record("run-2")
    })
    .unwrap();
    let runs = s.list_runs().unwrap();
    assert_eq!(
        runs.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(),
        ["run-1", "run-2"]
    );
    assert_eq!(
        (runs[0].status, runs[0].ended_at_ms, runs[0].seed),
        (RunStatus::Completed, Some(1_700_000_100_000), u64::MAX - 3)
    );
    s.delete_run("run-1").unwrap();
    assert!(s.get_run("run-1").unwrap().is_none());
    assert!(s.read_generations("run-1").unwrap().is_empty());
    assert!(s.read_hall_of_fame("run-1").unwrap().is_empty());
}

fn hof_entry() -> HallOfFameRecord {
    HallOfFameRecord {
        run_id: "run-1".into(),
        rank: 0,
        seed_name: "rsi".into(),
        genome_json: r#"{"period":14}"#.into(),
        fitness: 0.0,
        train_stats_json: "{}".into(),
        test_stats_json: "{}".into(),
        validation_json: "null".into(),
    }
}

fn checkpoints(config: StorageConfig) {
    let mut s = rw(&config);
    s.create_run(&run_record("cp")).unwrap();
    assert!(s.read_checkpoint("cp", None).unwrap().is_none());
    let cp = |g: u32, n: usize| Checkpoint {
        run_id: "cp".into(),
        generation: g,
        payload: (0..n).map(|i| (i * g as usize) as u8).collect(),
    };
    s.write_checkpoint(&cp(1, 1000)).unwrap();
    s.write_checkpoint(&cp(2, 300_000)).unwrap();
    s.write_checkpoint(&cp(2, 7)).unwrap();
    drop(s);
    let r = open_storage(&config, OpenMode::ReadOnly).unwrap();
    assert_eq!(r.read_checkpoint("cp", None).unwrap(), Some(cp(2, 7)));
    assert_eq!(r.read_checkpoint("cp", Some(1)).unwrap(), Some(cp(1, 1000)));
    assert_eq!(r.read_checkpoint("cp", Some(3)).unwrap(), None);
    drop(r);
    let mut s = rw(&config);
    s.delete_run("cp").unwrap();
    assert_eq!(s.read_checkpoint("cp", None).unwrap(), None);
}

fn fitness_cache(config: StorageConfig) {
    let mut s = rw(&config);
    let key = |g: &str, obj: &str| FitnessKey {
        data_fingerprint: "bars:5000:abc".into(),
        objective: obj.into(),
        genome_json: g.into(),
    };
    assert_eq!(s.cache_get(&key("{}", "sharpe")).unwrap(), None);
    s.cache_put(&[
        (key(r#"{"a":1}"#, "sharpe"), 1.5),
        (key(r#"{"a":2}"#, "sharpe"), -0.5),
        (key(r#"{"a":1}"#, "sharpe"), 1.75),
    ])
    .unwrap();
    s.cache_put(&[(key(r#"{"a":1}"#, "calmar"), 9.0)]).unwrap();
    assert!(s.cache_put(&[(key("{}", "sharpe"), f64::NAN)]).is_err());
    drop(s);
    let r = open_storage(&config, OpenMode::ReadOnly).unwrap();
    assert_eq!(r.cache_get(&key(r#"{"a":1}"#, "sharpe")).unwrap(), Some(1.75));
    assert_eq!(r.cache_get(&key(r#"{"a":2}"#, "sharpe")).unwrap(), Some(-0.5));
    assert_eq!(r.cache_get(&key(r#"{"a":1}"#, "calmar")).unwrap(), Some(9.0));
    assert_eq!(r.cache_get(&key(r#"{"a":3}"#, "sharpe")).unwrap(), None);
    let other = FitnessKey {
        data_fingerprint: "bars:1:x".into(),
        ..key(r#"{"a":1}"#, "sharpe")
    };
    assert_eq!(r.cache_get(&other).unwrap(), None);
}

fn single_writer(config: StorageConfig) {
    let mut first = rw(&config);
    first.claim_writer().unwrap();
    let second = open_storage(&config, OpenMode::ReadWrite).and_then(|mut s| s.claim_writer().map(|_| s));
    let err = second.err().expect("a second writer must be refused");
    let text = err.to_string();
    assert!(
        matches!(err, StorageError::InUse { .. } | StorageError::LeaseHeld { .. }),
        "{text}"
    );
    assert!(
        text.contains(&format!(":{}", std::process::id())) && text.contains("in use by"),
        "{text}"
    );
    first.create_run(&run_record("w")).unwrap();
    drop(first);
    let mut again = rw(&config);
    again.claim_writer().unwrap();
    assert!(again.get_run("w").unwrap().is_some());
}

fn health(config: StorageConfig) {
    let mut s = rw(&config);
    s.write_bars("KEEP", "1h", &load_sample("eurusd-1h").unwrap().bars.slice(0..50))
        .unwrap();
    let checks = s.health_check();
    let names: Vec<_> = checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["bars_roundtrip", "window_query", "checkpoint_roundtrip", "cleanup"]
    );
    assert!(checks.iter().all(|c| c.ok), "{checks:?}");
    let ls = s.list_market().unwrap();
    assert_eq!(ls.len(), 1, "scratch data was cleaned up: {ls:?}");
    assert!(s.list_runs().unwrap().is_empty());
}

fn batch_write(run: &str, g: u32, n: u32) -> GenerationWrite {
    GenerationWrite {
        stats: generation(run, g),
        individuals: (0..n).map(|k| individual(run, g, k)).collect(),
        checkpoint: Checkpoint {
            run_id: run.into(),
            generation: g + 1,
            payload: vec![g as u8; 100 + g as usize],
        },
    }
}

fn batched_generations(config: StorageConfig) {
    let mut s = rw(&config);
    s.create_run(&run_record("b")).unwrap();
    s.record_generations(&[batch_write("b", 0, 5), batch_write("b", 1, 3), batch_write("b", 2, 4)])
        .unwrap();
    // A batch with one bad record stores none of its generations.
    let mut bad = batch_write("b", 4, 2);
    bad.individuals[1].generation = 9;
    assert!(s.record_generations(&[batch_write("b", 3, 2), bad]).is_err());
    // A resumed run rewrites a generation and its checkpoint.
    s.record_generations(&[batch_write("b", 2, 6)]).unwrap();
    let gens: Vec<u32> = s.read_generations("b").unwrap().iter().map(|g| g.generation).collect();
    assert_eq!(gens, vec![0, 1, 2]);
    for (g, n) in [(0, 5), (1, 3), (2, 6)] {
        let want: Vec<IndividualRecord> = (0..n).map(|k| individual("b", g, k)).collect();
        assert!(
            same_individuals(&s.read_individuals("b", Some(g)).unwrap(), &want),
            "generation {g}"
        );
    }
    assert_eq!(
        s.read_checkpoint("b", None).unwrap(),
        Some(batch_write("b", 2, 6).checkpoint)
    );
    assert_eq!(
        s.read_checkpoint("b", Some(2)).unwrap(),
        Some(batch_write("b", 1, 3).checkpoint)
    );
    let mut hof = hof_entry();
    hof.run_id = "b".into();
    s.complete_run("b", &[hof.clone()], 1_700_000_000_999).unwrap();
    assert!(s.complete_run("nope", &[], 1).is_err());
    drop(s);
    let r = open_storage(&config, OpenMode::ReadOnly).unwrap();
    let run = r.get_run("b").unwrap().unwrap();
    assert_eq!(
        (run.status, run.ended_at_ms),
        (RunStatus::Completed, Some(1_700_000_000_999))
    );
    assert_eq!(r.read_hall_of_fame("b").unwrap(), vec![hof]);
}

fn run_overviews(config: StorageConfig) {
    let mut w = rw(&config);
    w.create_run(&run_record("o")).unwrap();
    w.record_generations(&[batch_write("o", 0, 2), batch_write("o", 1, 2)])
        .unwrap();
    // Readers see the run while the writer holds the storage.
    let seen = read_run_overview(&config, "o")
        .unwrap()
        .expect("the run is visible while written");
    assert_eq!(seen.status, RunStatus::Running);
    assert_eq!(seen.generations.len(), 2);
    assert_eq!(seen.generations[1].elapsed_ms, 1234);
    assert_eq!(seen.generations[1].best, Some(3.0));
    w.fail_run("o", "writing the run to storage: disk on fire", 1_700_000_000_500)
        .unwrap();
    let all = read_run_overviews(&config).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, RunStatus::Failed);
    assert_eq!(
        all[0].error.as_deref(),
        Some("writing the run to storage: disk on fire")
    );
    assert_eq!(all[0].ended_at_ms, Some(1_700_000_000_500));
    // Resumed, it is running again and the old error is gone.
    w.finish_run("o", RunStatus::Running, 1_700_000_000_600).unwrap();
    let again = read_run_overview(&config, "o").unwrap().unwrap();
    assert_eq!((again.status, again.error), (RunStatus::Running, None));
    w.delete_run("o").unwrap();
    assert_eq!(read_run_overview(&config, "o").unwrap(), None);
    drop(w);
    assert!(read_run_overviews(&config).unwrap().is_empty());
}

macro_rules! contract {
    ($backend:ident, $kind:expr) => {
        mod $backend {
            use super::*;

            fn config(dir: &TempDir) -> (Keep, StorageConfig) {
                let (keep, c) = super::$backend(dir);
                assert_eq!(c.backend, $kind);
                (keep, c)
            }

            #[test]
            fn market_round_trip() {
                let dir = tempfile::tempdir().unwrap();
                let (_keep, c) = config(&dir);
                super::market_round_trip(c);
            }

            #[test]
            fn rejects_bad_input() {
                let dir = tempfile::tempdir().unwrap();
                let (_keep, c) = config(&dir);
                super::rejects_bad_input(c);
            }

            #[test]
            fn runs_and_results() {
                let dir = tempfile::tempdir().unwrap();
                let (_keep, c) = config(&dir);
                super::runs_and_results(c);
            }

            #[test]
            fn checkpoints() {
                let dir = tempfile::tempdir().unwrap();
                let (_keep, c) = config(&dir);
                super::checkpoints(c);
            }

            #[test]
            fn fitness_cache() {
                let dir = tempfile::tempdir().unwrap();
                let (_keep, c) = config(&dir);
                super::fitness_cache(c);
            }

            #[test]
            fn single_writer() {
                let dir = tempfile::tempdir().unwrap();
                let (_keep, c) = config(&dir);
                super::single_writer(c);
            }

            #[test]
            fn batched_generations() {
                let dir = tempfile::tempdir().unwrap();
                let (_keep, c) = config(&dir);
                super::batched_generations(c);
            }

            #[test]
            fn run_overviews() {
                let dir = tempfile::tempdir().unwrap();
                let (_keep, c) = config(&dir);
                super::run_overviews(c);
            }

            #[test]
            fn health() {
                let dir = tempfile::tempdir().unwrap();
                let (_keep, c) = config(&dir);
                super::health(c);
            }
        }
    };
}

contract!(local, BackendKind::Local);
contract!(shared, BackendKind::Shared);
contract!(postgres, BackendKind::Postgres);
