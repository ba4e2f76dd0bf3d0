//! Market-data loaders end to end: Parquet and DuckDB tables equal the CSV they came from; bad rows are named with exit status 2.

use std::process::Command;

use evoflow::market::{load, load_bars_file, sample::load_sample, DataSpec};

const BIN: &str = env!("CARGO_BIN_EXE_evoflow");

fn sample_csv(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("goog.csv");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/src/market/samples/goog_daily.csv"),
        &path,
    )
    .unwrap();
    path
}

#[test]
fn parquet_and_duckdb_tables_load_like_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = sample_csv(dir.path());
    let want = load_sample("goog-1d").unwrap().bars;
    assert_eq!(load_bars_file(&csv).unwrap(), want);

    let parquet = dir.path().join("goog.parquet");
    let db = dir.path().join("goog.duckdb");
    let conn = duckdb::Connection::open(&db).unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE prices AS SELECT CAST(timestamp AS TIMESTAMP) AS timestamp, open, high, low, close, volume \
         FROM read_csv_auto('{}'); COPY prices TO '{}' (FORMAT PARQUET);",
        csv.display(),
        parquet.display()
    ))
    .unwrap();
    drop(conn);
    assert_eq!(load_bars_file(&parquet).unwrap(), want, "parquet");
    let table = std::path::PathBuf::from(format!("{}#prices", db.display()));
    assert_eq!(load(&DataSpec::File(table), None).unwrap().bars, want, "duckdb table");
}

#[test]
fn a_bad_row_is_named_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "timestamp,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,2,0.5,oops,10\n",
    )
    .unwrap();
    for args in [
        vec!["backtest", "--strategy", "sma_crossover", "--data"],
        vec!["indicator", "sma", "--data"],
    ] {
        let out = Command::new(BIN).args(&args).arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("bad.csv: row 2, field `close`"), "{stderr}");
        assert!(!stderr.contains("panicked"));
    }
}
