//! `evoflow data import|ls|export|rm` through the real binary, on both backends, selected by flags and by environment variables.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use evoflow::market::{load_bars_file, sample::load_sample};
use evoflow::storage::{open_storage, OpenMode, StorageConfig, TimeRange};

fn sample_csv(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/market/samples")
        .join(name)
}

/// Runs the binary with a clean storage environment plus `env`.
fn evoflow(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_evoflow"));
    cmd.args(args);
    for var in [
        "EVOFLOW_STORAGE",
        "STORAGE_BACKEND",
        "EVOFLOW_DB",
        "EVOFLOW_SHARED_DIR",
        "EFS_MOUNT_PATH",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn fails_with(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
}

fn round_trip(env: &[(&str, &str)], config: StorageConfig, work: &Path) {
    let goog = sample_csv("goog_daily.csv");
    let out = ok(&evoflow(
        &[
            "data",
            "import",
            goog.to_str().unwrap(),
            "--symbol",
            "GOOG",
            "--timeframe",
            "1d",
        ],
        env,
    ));
    assert!(out.contains("imported 2148 bars of GOOG/1d"), "{out}");
    let eur = sample_csv("eurusd_hourly.csv");
    ok(&evoflow(
        &[
            "data",
            "import",
            eur.to_str().unwrap(),
            "--symbol",
            "EURUSD",
            "--timeframe",
            "1h",
        ],
        env,
    ));

    let ls = ok(&evoflow(&["data", "ls"], env));
    let rows: Vec<&str> = ls.lines().collect();
    assert_eq!(rows.len(), 3, "{ls}");
    assert!(rows[1].starts_with("EURUSD") && rows[1].contains(" 5000 "), "{ls}");
    assert!(rows[2].starts_with("GOOG") && rows[2].contains(" 2148 "), "{ls}");
    let json: serde_json::Value = serde_json::from_str(&ok(&evoflow(&["data", "ls", "--json"], env))).unwrap();
    assert_eq!(json[1]["symbol"], "GOOG");
    assert_eq!(json[1]["bars"], 2148);

    // Export to CSV and Parquet; both read back (through the loaders) to the stored bars.
    let stored = open_storage(&config, OpenMode::ReadOnly)
        .unwrap()
        .read_bars("GOOG", "1d", TimeRange::all())
        .unwrap();
    assert_eq!(stored, load_sample("goog-1d").unwrap().bars);
    for ext in ["csv", "parquet"] {
        let out_file = work.join(format!("goog.{ext}"));
        let msg = ok(&evoflow(
            &[
                "data",
                "export",
                "--symbol",
                "GOOG",
                "--timeframe",
                "1d",
                "--out",
                out_file.to_str().unwrap(),
            ],
            env,
        ));
        assert!(msg.contains("exported 2148 bars"), "{msg}");
        assert_eq!(load_bars_file(&out_file).unwrap(), stored, "{ext} export differs");
    }
    let part = work.join("part.csv");
    ok(&evoflow(
        &[
            "data",
            "export",
            "--symbol",
            "EURUSD",
            "--timeframe",
            "1h",
            "--out",
            part.to_str().unwrap(),
            "--from",
            "2017-04-19T10:00:00Z",
            "--to",
            "1492610400",
        ],
        env,
    ));
    let bars = load_bars_file(&part).unwrap();
    assert_eq!(bars.timestamp_ms.first(), Some(&1_492_596_000_000));
    assert!(
        bars.len() <= 5 && bars.timestamp_ms.iter().all(|&t| t <= 1_492_610_400_000),
        "{bars:?}"
    );

    ok(&evoflow(&["data", "rm", "--symbol", "GOOG", "--timeframe", "1d"], env));
    fails_with(
        &evoflow(&["data", "rm", "--symbol", "GOOG", "--timeframe", "1d"], env),
        2,
        "no series GOOG/1d",
    );
    fails_with(
        &evoflow(
            &[
                "data",
                "export",
                "--symbol",
                "GOOG",
                "--timeframe",
                "1d",
                "--out",
                part.to_str().unwrap(),
            ],
            env,
        ),
        2,
        "no bars",
    );
}

#[test]
fn local_backend_by_flag() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("my.duckdb");
    // Flags override the environment: the env says shared, the flags say local.
    let flags = ["--storage", "local", "--db", db.to_str().unwrap()];
    let env = [("EVOFLOW_STORAGE", "shared"), ("EVOFLOW_SHARED_DIR", "/nonexistent")];
    // Run every command with the flags appended.
    let with_flags =
        |args: &[&str]| -> Vec<String> { args.iter().chain(flags.iter()).map(|s| s.to_string()).collect() };
    let goog = sample_csv("goog_daily.csv");
    let args = with_flags(&[
        "data",
        "import",
        goog.to_str().unwrap(),
        "--symbol",
        "GOOG",
        "--timeframe",
        "1d",
    ]);
    ok(&evoflow(&args.iter().map(String::as_str).collect::<Vec<_>>(), &env));
    let args = with_flags(&["data", "ls"]);
    let ls = ok(&evoflow(&args.iter().map(String::as_str).collect::<Vec<_>>(), &env));
    assert!(ls.contains("GOOG") && ls.contains("2148"), "{ls}");
    assert!(db.exists());
}

#[test]
fn local_backend_by_env() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("env.duckdb");
    let env = [("EVOFLOW_DB", db.to_str().unwrap())];
    round_trip(&env, StorageConfig::local(&db), dir.path());
}

#[test]
fn shared_backend_by_env_and_legacy_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("efs");
    std::fs::create_dir(&shared).unwrap();
    let env = [("STORAGE_BACKEND", "efs"), ("EFS_MOUNT_PATH", shared.to_str().unwrap())];
    round_trip(&env, StorageConfig::shared(&shared), dir.path());
    assert!(shared.join("market/symbol=EURUSD/timeframe=1h/bars.parquet").exists());
}

#[test]
fn bad_input_exits_2_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.duckdb");
    let env = [("EVOFLOW_DB", db.to_str().unwrap())];
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "timestamp,open,high,low,close,volume\n1,1,2,0.5,1,5\n2,1,2,0.5,oops,5\n",
    )
    .unwrap();
    fails_with(
        &evoflow(
            &[
                "data",
                "import",
                bad.to_str().unwrap(),
                "--symbol",
                "X",
                "--timeframe",
                "1h",
            ],
            &env,
        ),
        2,
        "bad.csv: row 2, field `close`",
    );
    assert!(!db.exists(), "a failed import must not create the database");
    let goog = sample_csv("goog_daily.csv");
    fails_with(
        &evoflow(
            &[
                "data",
                "import",
                goog.to_str().unwrap(),
                "--symbol",
                "A/B",
                "--timeframe",
                "1d",
            ],
            &env,
        ),
        2,
        "invalid symbol `A/B`",
    );
    fails_with(
        &evoflow(&["data", "ls"], &[("EVOFLOW_STORAGE", "s3")]),
        2,
        "EVOFLOW_STORAGE=`s3`",
    );
    fails_with(
        &evoflow(&["data", "ls"], &[("EVOFLOW_STORAGE", "shared")]),
        2,
        "EVOFLOW_SHARED_DIR",
    );
    fails_with(&evoflow(&["data", "ls"], &env), 2, "does not exist");
    fails_with(
        &evoflow(
            &["data", "export", "--symbol", "X", "--timeframe", "1h", "--out", "x.txt"],
            &env,
        ),
        2,
        ".parquet or .csv",
    );
    let junk = dir.path().join("junk.duckdb");
    std::fs::write(&junk, vec![0x5au8; 4096]).unwrap();
    fails_with(
        &evoflow(&["data", "ls", "--db", junk.to_str().unwrap()], &[]),
        2,
        "not an evoflow database",
    );
    assert_eq!(std::fs::read(&junk).unwrap(), vec![0x5au8; 4096]);
}
