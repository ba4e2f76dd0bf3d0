//! Runs `evoflow indicator` and checks its CSV against the TA-Lib fixture, and its exit status on bad input.

use std::path::Path;
use std::process::Command;

fn evoflow(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_evoflow"))
        .args(args)
        .output()
        .expect("runs the evoflow binary")
}

#[test]
fn bbands_csv_equals_the_talib_fixture() {
    let out = evoflow(&[
        "indicator",
        "bbands",
        "--data",
        "sample:goog-1d",
        "--param",
        "timeperiod=20",
        "--param",
        "nbdevup=2.5",
        "--param",
        "nbdevdn=1.5",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "timestamp,upperband,middleband,lowerband");
    assert_eq!(lines.len(), 1 + 2148);
    assert!(lines[1].starts_with("2004-08-19T00:00:00Z,"), "{}", lines[1]);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/talib/goog-1d__bbands__timeperiod20_nbdevup2.5_nbdevdn1.5.csv");
    let text = std::fs::read_to_string(fixture).unwrap();
    let mut checked = 0;
    for line in text.lines().skip(2) {
        let mut want = line.split(',');
        let row: usize = want.next().unwrap().parse().unwrap();
        let got: Vec<&str> = lines[1 + row].split(',').skip(1).collect();
        for (g, w) in got.iter().zip(want) {
            if w.is_empty() {
                assert!(g.is_empty(), "row {row}: TA-Lib has no value, CLI printed {g}");
            } else {
                let (g, w): (f64, f64) = (g.parse().unwrap(), w.parse().unwrap());
                assert!((g - w).abs() <= 1e-9 * w.abs(), "row {row}: {g} vs TA-Lib {w}");
            }
            checked += 1;
        }
    }
    assert!(checked > 2000, "{checked}");
    assert_eq!(
        lines[19].split(',').filter(|c| c.is_empty()).count(),
        3,
        "bar 18 is in the look-back"
    );
    assert_eq!(
        lines[20].split(',').filter(|c| c.is_empty()).count(),
        0,
        "bar 19 is the first value"
    );
}

#[test]
fn defaults_are_talib_defaults() {
    let out = evoflow(&["indicator", "rsi", "--data", "sample:eurusd-1h"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "timestamp,rsi");
    assert!(
        lines[14].ends_with(','),
        "bar 13 is in RSI(14)'s look-back: {}",
        lines[14]
    );
    assert!(
        !lines[15].ends_with(','),
        "bar 14 is RSI(14)'s first value: {}",
        lines[15]
    );
}

#[test]
fn unknown_indicator_and_bad_params_exit_2_with_a_clear_message() {
    let cases: [(&[&str], &[&str]); 5] = [
        (
            &["indicator", "nope", "--data", "sample:goog-1d"],
            &["unknown indicator", "nope", "bbands"],
        ),
        (
            &["indicator", "bbands", "--data", "sample:goog-1d", "--param", "period=5"],
            &["period", "nbdevup"],
        ),
        (
            &[
                "indicator",
                "rsi",
                "--data",
                "sample:goog-1d",
                "--param",
                "timeperiod=1",
            ],
            &["timeperiod", "at least 2"],
        ),
        (
            &["indicator", "rsi", "--data", "sample:goog-1d", "--param", "timeperiod"],
            &["KEY=VALUE"],
        ),
        (
            &[
                "indicator",
                "sma",
                "--data",
                "sample:goog-1d",
                "--param",
                "timeperiod=x",
            ],
            &["not a number"],
        ),
    ];
    for (args, words) in cases {
        let out = evoflow(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        for w in words {
            assert!(err.contains(w), "{args:?}: `{w}` not in {err}");
        }
    }
}
