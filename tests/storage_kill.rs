//! Crash safety: a writer SIGKILLed in the middle of a large import leaves earlier data intact, the store openable, and no partial series.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use evoflow::market::sample::load_sample;
use evoflow::storage::{open_storage, OpenMode, StorageConfig, StorageError, TimeRange};

const BIG_ROWS: usize = 1_000_000;

fn big_csv(path: &Path) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "timestamp,open,high,low,close,volume").unwrap();
    for i in 0..BIG_ROWS {
        let p = 100.0 + ((i as u64).wrapping_mul(2_654_435_761) % 100_000) as f64 * 0.001;
        writeln!(
            w,
            "{},{p},{},{},{p},{}",
            1_500_000_000_000i64 + i as i64 * 60_000,
            p + 0.5,
            p - 0.5,
            i % 977
        )
        .unwrap();
    }
}

fn storage_flags(config: &StorageConfig) -> Vec<String> {
    match &config.shared_dir {
        Some(dir) => vec![
            "--storage".into(),
            "shared".into(),
            "--shared-dir".into(),
            dir.display().to_string(),
        ],
        None => vec![
            "--storage".into(),
            "local".into(),
            "--db".into(),
            config.db_path.display().to_string(),
        ],
    }
}

/// Starts `data import BIG`, waits until it announces the write, kills it mid-write.
fn kill_mid_import(config: &StorageConfig, csv: &Path, delay_ms: u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_evoflow"))
        .args([
            "data",
            "import",
            csv.to_str().unwrap(),
            "--symbol",
            "BIG",
            "--timeframe",
            "1m",
        ])
        .args(storage_flags(config))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(
        line.starts_with(&format!("writing {BIG_ROWS} bars")),
        "unexpected output: {line}"
    );
    std::thread::sleep(Duration::from_millis(delay_ms));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the import finished before it was killed; the test proves nothing"
    );
}

fn check(config: StorageConfig) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("big.csv");
    big_csv(&csv);
    let goog = load_sample("goog-1d").unwrap().bars;
    open_storage(&config, OpenMode::ReadWrite)
        .unwrap()
        .write_bars("GOOG", "1d", &goog)
        .unwrap();

    for delay_ms in [5, 60] {
        kill_mid_import(&config, &csv, delay_ms);
        // Readers open the store and see the data committed before, and no partial series.
        let r = open_storage(&config, OpenMode::ReadOnly).unwrap();
        assert_eq!(
            r.read_bars("GOOG", "1d", TimeRange::all()).unwrap(),
            goog,
            "data written before was damaged"
        );
        match r.read_bars("BIG", "1m", TimeRange::all()) {
            Err(StorageError::NoData { .. }) => {}
            Ok(b) => assert_eq!(b.len(), BIG_ROWS, "a partial series is visible after the crash"),
            Err(e) => panic!("unexpected error after the crash: {e}"),
        }
        let names: Vec<String> = r.list_market().unwrap().into_iter().map(|d| d.symbol).collect();
        assert!(names.iter().all(|n| n == "GOOG" || n == "BIG"), "{names:?}");
    }
    // A writer opens again (the dead writer's lock is recovered) and a complete import works.
    let mut w = open_storage(&config, OpenMode::ReadWrite).unwrap();
    let hourly = load_sample("eurusd-1h").unwrap().bars;
    w.write_bars("EURUSD", "1h", &hourly).unwrap();
    assert_eq!(w.read_bars("GOOG", "1d", TimeRange::all()).unwrap(), goog);
    assert_eq!(w.read_bars("EURUSD", "1h", TimeRange::all()).unwrap(), hourly);
}

#[test]
fn killed_local_writer_leaves_earlier_data_intact() {
    let dir = tempfile::tempdir().unwrap();
    check(StorageConfig::local(dir.path().join("evoflow.duckdb")));
}

#[test]
fn killed_shared_writer_leaves_earlier_data_intact() {
    let dir = tempfile::tempdir().unwrap();
    check(StorageConfig::shared(dir.path()));
    // The next write of the same series removes the temporary files the killed writer left.
    let mut w = open_storage(&StorageConfig::shared(dir.path()), OpenMode::ReadWrite).unwrap();
    w.write_bars("BIG", "1m", &load_sample("goog-1d").unwrap().bars)
        .unwrap();
    let part = dir.path().join("market/symbol=BIG/timeframe=1m");
    let left: Vec<_> = std::fs::read_dir(&part)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("bars.parquet")], "{left:?}");
}
