//! `evoflow health [--json]` through the real binary: healthy, degraded and unhealthy storage, exit status, cleanup.

use std::path::Path;
use std::process::{Command, Output};

use evoflow::market::sample::load_sample;
use evoflow::storage::{lock_path_for, open_storage, OpenMode, StorageConfig, TimeRange, WriterLock};
use serde_json::Value;

fn health(args: &[&str]) -> (Output, Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_evoflow"));
    cmd.arg("health").arg("--json").args(args);
    for var in [
        "EVOFLOW_STORAGE",
        "STORAGE_BACKEND",
        "EVOFLOW_DB",
        "EVOFLOW_SHARED_DIR",
        "EFS_MOUNT_PATH",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (out, json)
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}"))
}

const ALL_CHECKS: [&str; 8] = [
    "location",
    "writable",
    "free_space",
    "open",
    "bars_roundtrip",
    "window_query",
    "checkpoint_roundtrip",
    "cleanup",
];

fn assert_healthy(out: &Output, report: &Value, backend: &str, location: &Path) {
    assert!(out.status.success(), "{report:#}");
    assert_eq!(report["status"], "healthy", "{report:#}");
    assert_eq!(report["backend"], backend);
    assert_eq!(report["location"], location.display().to_string());
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ALL_CHECKS);
    for c in report["checks"].as_array().unwrap() {
        assert_eq!(c["ok"], true, "{c}");
        assert!(c["latency_ms"].as_f64().unwrap() >= 0.0 && c["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
}

#[test]
fn local_healthy_keeps_data_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("evoflow.duckdb");
    // No database yet: healthy, and nothing is created.
    let (out, report) = health(&["--db", db.to_str().unwrap()]);
    assert_healthy(&out, &report, "local", &db);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "health left files behind"
    );
    // With data: healthy, data intact, no scratch series left.
    let bars = load_sample("goog-1d").unwrap().bars;
    open_storage(&StorageConfig::local(&db), OpenMode::ReadWrite)
        .unwrap()
        .write_bars("GOOG", "1d", &bars)
        .unwrap();
    let (out, report) = health(&["--storage", "local", "--db", db.to_str().unwrap()]);
    assert_healthy(&out, &report, "local", &db);
    let r = open_storage(&StorageConfig::local(&db), OpenMode::ReadOnly).unwrap();
    assert_eq!(r.read_bars("GOOG", "1d", TimeRange::all()).unwrap(), bars);
    assert_eq!(r.list_market().unwrap().len(), 1);
    assert!(r.list_runs().unwrap().is_empty());
}

#[test]
fn shared_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = health(&["--storage", "shared", "--shared-dir", dir.path().to_str().unwrap()]);
    assert_healthy(&out, &report, "shared", dir.path());
    assert!(check(&report, "free_space")["detail"]
        .as_str()
        .unwrap()
        .contains("GiB free"));
    let market: Vec<_> = std::fs::read_dir(dir.path().join("market")).unwrap().collect();
    assert!(market.is_empty(), "scratch partition left behind");
}

#[test]
fn unusable_locations_are_unhealthy_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-mounted");
    let (out, report) = health(&["--storage", "shared", "--shared-dir", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["status"], "unhealthy");
    let loc = check(&report, "location");
    assert_eq!(loc["ok"], false);
    assert!(
        loc["detail"].as_str().unwrap().contains(missing.to_str().unwrap()),
        "{loc}"
    );
    assert!(!missing.exists());

    let corrupt = dir.path().join("corrupt.duckdb");
    std::fs::write(
        &corrupt,
        b"this is not a database at all, just text that is long enough",
    )
    .unwrap();
    let (out, report) = health(&["--db", corrupt.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["status"], "unhealthy");
    let open = check(&report, "open");
    assert!(
        open["detail"].as_str().unwrap().contains(corrupt.to_str().unwrap()),
        "{open}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("unhealthy"));
}

#[test]
fn held_by_another_writer_is_degraded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("evoflow.duckdb");
    open_storage(&StorageConfig::local(&db), OpenMode::ReadWrite).unwrap();
    // This test process holds the writer lock, as a running coordinator would.
    let held = WriterLock::acquire(&db).unwrap();
    let me = std::fs::read_to_string(lock_path_for(&db))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let (out, report) = health(&["--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["status"], "degraded", "{report:#}");
    assert!(check(&report, "open")["detail"]
        .as_str()
        .unwrap()
        .contains(&format!("in use by {me}")));
    drop(held);
    let (out, report) = health(&["--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
}
