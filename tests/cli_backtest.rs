//! `evoflow backtest` end to end: JSON output against the backtesting.py fixture, CSV files, bad input.

use std::process::Command;

use serde_json::Value;

fn evoflow(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_evoflow")).args(args).output().unwrap()
}

fn fixture_case(sample: &str, fast: u64, slow: u64, commission: f64, finalize: bool) -> Value {
    let path = format!(
        "{}/tests/fixtures/backtesting/{sample}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let fx: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["fast"] == fast
                && c["slow"] == slow
                && c["commission"].as_f64() == Some(commission)
                && c["finalize_trades"] == finalize
        })
        .cloned()
        .unwrap()
}

#[test]
fn json_output_matches_the_backtesting_py_fixture() {
    let out = evoflow(&[
        "backtest",
        "--data",
        "sample:goog-1d",
        "--strategy",
        "sma_crossover",
        "--param",
        "fast=10",
        "--param",
        "slow=30",
        "--commission",
        "0.001",
        "--finalize-trades",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["strategy"], "sma_crossover");
    assert_eq!(got["params"]["fast"].as_f64(), Some(10.0));
    assert_eq!(got["params"]["slow"].as_f64(), Some(30.0));
    let want = fixture_case("goog-1d", 10, 30, 0.001, true)["stats"].clone();
    let (want, got) = (want.as_object().unwrap(), got["stats"].as_object().unwrap());
    assert_eq!(want.len(), got.len());
    for (key, w) in want {
        let g = &got[key];
        match (w.as_f64(), g.as_f64()) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-8 * a.abs().max(b.abs()), "{key}: {a} vs {b}"),
            _ => assert_eq!(w, g, "{key}"),
        }
    }
}

#[test]
fn table_output_and_csv_files() {
    let dir = tempfile::tempdir().unwrap();
    let equity = dir.path().join("equity.csv");
    let trades = dir.path().join("trades.csv");
    let out = evoflow(&[
        "backtest",
        "--data",
        "sample:eurusd-1h",
        "--strategy",
        "sma_crossover",
        "--equity",
        equity.to_str().unwrap(),
        "--trades",
        trades.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("sharpe_ratio"), "{text}");
    assert!(text.contains("num_trades"), "{text}");
    let eq = std::fs::read_to_string(&equity).unwrap();
    assert_eq!(eq.lines().count(), 5001);
    assert!(
        eq.starts_with("timestamp,equity\n2017-04-19T09:00:00Z,10000\n"),
        "{}",
        &eq[..80]
    );
    let tr = std::fs::read_to_string(&trades).unwrap();
    let want = fixture_case("eurusd-1h", 10, 20, 0.0, false)["stats"]["num_trades"]
        .as_u64()
        .unwrap();
    assert_eq!(tr.lines().count() as u64, want + 1);
}

#[test]
fn clamps_are_reported_on_stderr() {
    let out = evoflow(&[
        "backtest",
        "--data",
        "sample:goog-1d",
        "--strategy",
        "sma_crossover",
        "--param",
        "slow=900",
        "--json",
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: slow = 900 is out of range, clamped to 500"),
        "{err}"
    );
}

#[test]
fn bad_input_exits_with_status_2() {
    let base = ["backtest", "--data", "sample:goog-1d", "--strategy", "sma_crossover"];
    let cases: &[(&[&str], &str)] = &[
        (&["--param", "fast=abc"], "fast"),
        (&["--param", "speed=3"], "speed"),
        (&["--param", "fast=30", "--param", "slow=20"], "fast"),
        (&["--commission", "-0.1"], "--commission"),
        (&["--cash", "0"], "--cash"),
        (&["--slippage-bps", "nan"], "--slippage-bps"),
        (&["--bogus-flag"], "bogus"),
    ];
    for (extra, needle) in cases {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let out = evoflow(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let out = evoflow(&["backtest", "--data", "sample:goog-1d", "--strategy", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let out = evoflow(&["backtest", "--data", "/no/such/file.csv", "--strategy", "sma_crossover"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = evoflow(&["backtest", "--strategy", "sma_crossover"]);
    assert_eq!(out.status.code(), Some(2));
}
