//! `evoflow sweep` end to end: JSON shape, heatmap, and the best point equal to a brute force over `evoflow backtest`.

use std::process::Command;

use serde_json::Value;

fn evoflow(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_evoflow")).args(args).output().unwrap()
}

#[test]
fn best_point_equals_brute_force_over_backtest() {
    let dir = tempfile::tempdir().unwrap();
    let heatmap = dir.path().join("heat.csv");
    let out = evoflow(&[
        "sweep",
        "--data",
        "sample:goog-1d",
        "--strategy",
        "sma_crossover",
        "--grid",
        "fast=5:25:10",
        "--grid",
        "slow=20:40:10",
        "--constraint",
        "fast<slow",
        "--commission",
        "0.001",
        "--top",
        "3",
        "--heatmap",
        heatmap.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    // fast in {5, 15, 25} x slow in {20, 30, 40} with fast < slow: 8 points.
    assert_eq!(got["evaluated"], 8);
    assert_eq!(got["maximize"], "sharpe_ratio");
    let best = got["best"].as_array().unwrap();
    assert_eq!(best.len(), 3);
    for p in best {
        assert!(p["params"]["fast"].is_number() && p["params"]["slow"].is_number());
        assert!(p["stats"]["sharpe_ratio"].is_number());
    }
    let s: Vec<f64> = best
        .iter()
        .map(|p| p["stats"]["sharpe_ratio"].as_f64().unwrap())
        .collect();
    assert!(s[0] >= s[1] && s[1] >= s[2], "{s:?}");

    // Brute force: one `evoflow backtest` per point.
    let mut brute: Vec<(f64, u64, u64, Value)> = Vec::new();
    for fast in [5u64, 15, 25] {
        for slow in [20u64, 30, 40] {
            if fast >= slow {
                continue;
            }
            let out = evoflow(&[
                "backtest",
                "--data",
                "sample:goog-1d",
                "--strategy",
                "sma_crossover",
                "--param",
                &format!("fast={fast}"),
                "--param",
                &format!("slow={slow}"),
                "--commission",
                "0.001",
                "--json",
            ]);
            assert!(out.status.success());
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            let sharpe = v["stats"]["sharpe_ratio"].as_f64().unwrap_or(f64::NEG_INFINITY);
            brute.push((sharpe, fast, slow, v["stats"].clone()));
        }
    }
    let top = brute.iter().fold(&brute[0], |a, b| if b.0 > a.0 { b } else { a });
    assert_eq!(best[0]["params"]["fast"].as_f64(), Some(top.1 as f64));
    assert_eq!(best[0]["params"]["slow"].as_f64(), Some(top.2 as f64));
    assert_eq!(best[0]["stats"], top.3);

    let heat = std::fs::read_to_string(&heatmap).unwrap();
    let lines: Vec<&str> = heat.lines().collect();
    assert_eq!(lines[0], "fast\\slow,20,30,40");
    assert_eq!(lines.len(), 4);
    // fast=25 < slow only for slow=30, 40.
    assert!(lines[3].starts_with("25,,"), "{heat}");
}

#[test]
fn table_output_lists_the_top_points() {
    let out = evoflow(&[
        "sweep",
        "--data",
        "sample:goog-1d",
        "--strategy",
        "sma_crossover",
        // Several axes after one --grid.
        "--grid",
        "fast=5:10:5",
        "slow=20:30:10",
        "--maximize",
        "return_pct",
        "--top",
        "2",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("4 points evaluated"), "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");
}

#[test]
fn bad_sweep_input_exits_with_status_2() {
    let base = ["sweep", "--data", "sample:goog-1d", "--strategy", "sma_crossover"];
    let cases: &[&[&str]] = &[
        &["--grid", "fast=5:1:1"],
        &["--grid", "fast=a:b:c"],
        &["--grid", "speed=1:2:1"],
        &["--grid", "fast=1:3:1"],
        &["--grid", "fast=2.5:3:1"],
        &["--grid", "fast=5:6:1", "--maximize", "happiness"],
        &["--grid", "fast=5:6:1", "--constraint", "fast<medium"],
        &["--grid", "fast=5:6:1", "--heatmap", "/tmp/x.csv"],
        &[],
    ];
    for extra in cases {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let out = evoflow(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
