//! Bad files and faults: corrupt, foreign and too-new databases, missing and read-only locations, full disk, corrupt checkpoints.

use std::path::Path;
use std::process::Command;

use evoflow::market::sample::load_sample;
use evoflow::storage::{
    check_health, open_storage, Checkpoint, HealthStatus, OpenMode, StorageConfig, StorageError, TimeRange,
};

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn assert_refused_untouched(path: &Path, expect: &str) {
    let before = bytes(path);
    for mode in [OpenMode::ReadWrite, OpenMode::ReadOnly] {
        let err = open_storage(&StorageConfig::local(path), mode)
            .err()
            .expect("must be refused");
        let text = err.to_string();
        assert!(
            text.contains(&path.display().to_string()) && text.contains(expect),
            "{mode:?}: {text}"
        );
        assert!(err.is_bad_input());
    }
    assert_eq!(bytes(path), before, "the refused file was modified");
    assert!(!evoflow::storage::lock_path_for(path).exists(), "lock left behind");
}

#[test]
fn random_bytes_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evoflow.duckdb");
    let junk: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, &junk).unwrap();
    assert_refused_untouched(&path, "not a DuckDB database file");
    std::fs::write(&path, b"").unwrap();
    assert_refused_untouched(&path, "not a DuckDB database file");
}

#[test]
fn foreign_duckdb_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.duckdb");
    {
        let conn = duckdb::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE prices (t BIGINT, p DOUBLE); INSERT INTO prices VALUES (1, 2.5);")
            .unwrap();
    }
    assert_refused_untouched(&path, "without evoflow's `schema_version` table (it has: prices)");
}

#[test]
fn newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evoflow.duckdb");
    let bars = load_sample("goog-1d").unwrap().bars;
    open_storage(&StorageConfig::local(&path), OpenMode::ReadWrite)
        .unwrap()
        .write_bars("G", "1d", &bars)
        .unwrap();
    {
        let conn = duckdb::Connection::open(&path).unwrap();
        conn.execute_batch("INSERT INTO schema_version VALUES (99, 'evoflow 9', 0)")
            .unwrap();
    }
    assert_refused_untouched(
        &path,
        &format!(
            "schema version 99 is newer than this evoflow supports ({})",
            evoflow::storage::SCHEMA_VERSION
        ),
    );
    {
        let conn = duckdb::Connection::open(&path).unwrap();
        conn.execute_batch("DELETE FROM schema_version WHERE version = 99")
            .unwrap();
    }
    let r = open_storage(&StorageConfig::local(&path), OpenMode::ReadOnly).unwrap();
    assert_eq!(
        r.read_bars("G", "1d", TimeRange::all()).unwrap(),
        bars,
        "stored data survived"
    );
}

#[test]
fn missing_locations_are_named_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-mounted");
    let err = open_storage(&StorageConfig::shared(&missing), OpenMode::ReadWrite)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains(&missing.display().to_string()) && err.contains("does not exist"),
        "{err}"
    );
    assert!(!missing.exists(), "the shared directory must never be created");
    let db = missing.join("evoflow.duckdb");
    let err = open_storage(&StorageConfig::local(&db), OpenMode::ReadWrite)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(&missing.display().to_string()), "{err}");
    let err = open_storage(&StorageConfig::local(dir.path().join("x.duckdb")), OpenMode::ReadOnly)
        .err()
        .unwrap();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");

    let report = check_health(&StorageConfig::shared(&missing));
    assert_eq!(report.status, HealthStatus::Unhealthy);
    assert!(report.checks[0].detail.contains(&missing.display().to_string()));
}

#[test]
fn corrupt_shared_results_and_checkpoints_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = StorageConfig::shared(dir.path());
    let bars = load_sample("eurusd-1h").unwrap().bars;
    {
        let mut s = open_storage(&config, OpenMode::ReadWrite).unwrap();
        s.write_bars("EURUSD", "1h", &bars).unwrap();
        s.write_checkpoint(&Checkpoint {
            run_id: "r".into(),
            generation: 3,
            payload: vec![7; 5000],
        })
        .unwrap();
    }
    // A torn or altered checkpoint file is detected, not returned.
    let ckpt = dir.path().join("checkpoints/r/gen-0000000003.ckpt");
    std::fs::write(&ckpt, vec![7; 4000]).unwrap();
    let r = open_storage(&config, OpenMode::ReadOnly).unwrap();
    let err = r.read_checkpoint("r", None).unwrap_err().to_string();
    assert!(
        err.contains(&ckpt.display().to_string()) && err.contains("checksum"),
        "{err}"
    );
    drop(r);
    // A corrupt results database is named; market data (Parquet) is still readable.
    let results = dir.path().join("results.duckdb");
    std::fs::write(&results, b"garbage garbage garbage").unwrap();
    let r = open_storage(&config, OpenMode::ReadOnly).unwrap();
    assert_eq!(r.read_bars("EURUSD", "1h", TimeRange::all()).unwrap(), bars);
    let err = r.list_runs().unwrap_err().to_string();
    assert!(err.contains(&results.display().to_string()), "{err}");
    let report = check_health(&config);
    assert_eq!(report.status, HealthStatus::Unhealthy, "{report:?}");
    assert!(
        report
            .checks
            .iter()
            .any(|c| !c.ok && c.detail.contains(&results.display().to_string())),
        "{report:?}"
    );
}

/// Runs the binary with a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored), so writes
/// beyond `limit` bytes fail as they would on a full disk.
fn run_with_file_limit(args: &[&str], limit: u64) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_evoflow"));
    cmd.args(args);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: limit as libc::rlim_t,
                rlim_max: limit as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().unwrap()
}

fn big_csv(path: &Path, n: usize) {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "timestamp,open,high,low,close,volume").unwrap();
    for i in 0..n {
        let p = 100.0 + ((i as u64).wrapping_mul(2_654_435_761) % 100_000) as f64 * 0.001;
        writeln!(
            w,
            "{},{p},{},{},{p},{}",
            1_500_000_000 + i as i64 * 60,
            p + 0.5,
            p - 0.5,
            i % 977
        )
        .unwrap();
    }
}

#[test]
fn full_disk_rolls_back_and_keeps_stored_data() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.csv");
    big_csv(&big, 300_000);
    let hourly = load_sample("eurusd-1h").unwrap().bars;
    for backend in ["local", "shared"] {
        let root = dir.path().join(backend);
        std::fs::create_dir(&root).unwrap();
        let config = if backend == "local" {
            StorageConfig::local(root.join("e.duckdb"))
        } else {
            StorageConfig::shared(&root)
        };
        open_storage(&config, OpenMode::ReadWrite)
            .unwrap()
            .write_bars("EURUSD", "1h", &hourly)
            .unwrap();
        let largest = walk_max_size(&root);
        let loc = root.display().to_string();
        let db = root.join("e.duckdb").display().to_string();
        let mut args = vec![
            "data",
            "import",
            big.to_str().unwrap(),
            "--symbol",
            "BIG",
            "--timeframe",
            "1m",
        ];
        if backend == "local" {
            args.extend(["--storage", "local", "--db", db.as_str()]);
        } else {
            args.extend(["--storage", "shared", "--shared-dir", loc.as_str()]);
        }
        let out = run_with_file_limit(&args, largest + 512 * 1024);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{backend}: the import should have hit the size limit"
        );
        assert!(
            stderr.contains("no space left") && stderr.contains(&loc),
            "{backend}: {stderr}"
        );
        let r = open_storage(&config, OpenMode::ReadOnly).unwrap();
        assert_eq!(
            r.read_bars("EURUSD", "1h", TimeRange::all()).unwrap(),
            hourly,
            "{backend}: stored data lost"
        );
        assert!(
            matches!(
                r.read_bars("BIG", "1m", TimeRange::all()),
                Err(StorageError::NoData { .. })
            ),
            "{backend}"
        );
        drop(r);
        assert!(no_temp_files(&root), "{backend}: temporary files left behind");
    }
}

fn walk_max_size(dir: &Path) -> u64 {
    let mut max = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let m = e.metadata().unwrap();
        max = max.max(if m.is_dir() { walk_max_size(&e.path()) } else { m.len() });
    }
    max
}

fn no_temp_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().all(|e| {
        let name = e.file_name().to_string_lossy().to_string();
        if e.path().is_dir() {
            no_temp_files(&e.path())
        } else {
            !name.contains(".tmp-")
        }
    })
}

/// A directory made read-only: by permission bits when not root, by a read-only bind
/// mount when root (permission bits do not bind root). `None` when neither is possible.
struct ReadOnly {
    dir: std::path::PathBuf,
    mounted: bool,
}

impl ReadOnly {
    fn make(dir: &Path) -> Option<ReadOnly> {
        use std::os::unix::fs::PermissionsExt;
        if unsafe { libc::geteuid() } != 0 {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o444)).unwrap();
            }
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
            return Some(ReadOnly {
                dir: dir.to_path_buf(),
                mounted: false,
            });
        }
        let d = dir.to_str()?;
        let ok = |args: &[&str]| {
            Command::new("mount")
                .args(args)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        };
        if ok(&["--bind", d, d]) {
            if ok(&["-o", "remount,bind,ro", d]) {
                return Some(ReadOnly {
                    dir: dir.to_path_buf(),
                    mounted: true,
                });
            }
            let _ = Command::new("umount").arg(d).output();
        }
        None
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.mounted {
            let _ = Command::new("umount").arg(&self.dir).output();
        } else {
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o755));
        }
    }
}

#[test]
fn read_only_location_is_reported_and_still_readable() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ro");
    std::fs::create_dir(&root).unwrap();
    let db = root.join("evoflow.duckdb");
    let bars = load_sample("goog-1d").unwrap().bars;
    open_storage(&StorageConfig::local(&db), OpenMode::ReadWrite)
        .unwrap()
        .write_bars("G", "1d", &bars)
        .unwrap();
    let Some(_guard) = ReadOnly::make(&root) else {
        eprintln!("SKIPPED: cannot make a read-only directory here (root without mount permission)");
        return;
    };
    let err = open_storage(&StorageConfig::local(&db), OpenMode::ReadWrite)
        .err()
        .expect("a write open must fail");
    let text = err.to_string();
    assert!(
        text.contains(&root.display().to_string()) && text.contains("read-only"),
        "{text}"
    );
    let report = check_health(&StorageConfig::local(&db));
    assert_eq!(report.status, HealthStatus::Unhealthy);
    let writable = report.checks.iter().find(|c| c.name == "writable").unwrap();
    assert!(
        !writable.ok && writable.detail.contains(&root.display().to_string()),
        "{report:?}"
    );
    let r = open_storage(&StorageConfig::local(&db), OpenMode::ReadOnly).unwrap();
    assert_eq!(r.read_bars("G", "1d", TimeRange::all()).unwrap(), bars);
}
