//! Compares every indicator with TA-Lib 0.6.4 reference values (`tests/fixtures/talib/`, written by `scripts/talib_fixtures.py`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use evoflow::indicators::compute;
use evoflow::market::sample::load_sample;
use evoflow::market::Bars;

/// One fixture file: where it came from and its expected values per stored row.
struct Fixture {
    file: String,
    sample: String,
    indicator: String,
    params: Vec<(String, f64)>,
    outputs: Vec<String>,
    rows: Vec<(usize, Vec<Option<f64>>)>,
}

fn fixture_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/talib");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    files
}

fn parse(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).unwrap();
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut lines = text.lines();
    let head = lines
        .next()
        .and_then(|l| l.strip_prefix("# "))
        .unwrap_or_else(|| panic!("{file}: no # header"));
    let (mut sample, mut indicator, mut params) = (String::new(), String::new(), Vec::new());
    for kv in head.split_whitespace() {
        let (k, v) = kv
            .split_once('=')
            .unwrap_or_else(|| panic!("{file}: bad header item {kv}"));
        match k {
            "sample" => sample = v.to_string(),
            "indicator" => indicator = v.to_string(),
            _ => params.push((k.to_string(), v.parse::<f64>().unwrap())),
        }
    }
    let columns: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    assert_eq!(columns[0], "row", "{file}");
    let rows = lines
        .map(|l| {
            let mut cells = l.split(',');
            let row: usize = cells.next().unwrap().parse().unwrap();
            let values: Vec<Option<f64>> = cells
                .map(|c| {
                    if c.is_empty() {
                        None
                    } else {
                        Some(c.parse::<f64>().unwrap())
                    }
                })
                .collect();
            assert_eq!(values.len(), columns.len() - 1, "{file} row {row}");
            (row, values)
        })
        .collect();
    Fixture {
        file,
        sample,
        indicator,
        params,
        outputs: columns[1..].to_vec(),
        rows,
    }
}

/// Equal within 1e-9 relative, or 1e-12 absolute near zero.
fn close_enough(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-9 * want.abs().max(got.abs()) || (got - want).abs() <= 1e-12
}

#[test]
fn every_indicator_equals_talib_on_both_samples() {
    let files = fixture_files();
    assert!(
        files.len() >= 50,
        "expected the TA-Lib fixtures, found {} files",
        files.len()
    );
    let mut samples: BTreeMap<String, Bars> = BTreeMap::new();
    let mut indicators = std::collections::BTreeSet::new();
    let (mut compared, mut nan_checked) = (0usize, 0usize);
    let mut failures = Vec::new();
    for path in &files {
        let fx = parse(path);
        let bars = samples
            .entry(fx.sample.clone())
            .or_insert_with(|| load_sample(&fx.sample).unwrap().bars);
        let out = compute(&fx.indicator, bars, &fx.params).unwrap_or_else(|e| panic!("{}: {e}", fx.file));
        let names: Vec<&str> = out.columns.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(names, fx.outputs, "{}: output names/order", fx.file);
        assert!(
            fx.rows.len() > 500 && fx.rows.last().unwrap().0 + 3 >= bars.len(),
            "{}: rows",
            fx.file
        );
        indicators.insert(fx.indicator.clone());
        for (row, want) in &fx.rows {
            for (col, w) in want.iter().enumerate() {
                let got = out.columns[col].1[*row];
                match w {
                    None => {
                        nan_checked += 1;
                        if !got.is_nan() {
                            failures.push(format!(
                                "{} {} row {row}: TA-Lib NaN, got {got}",
                                fx.file, fx.outputs[col]
                            ));
                        }
                    }
                    Some(w) => {
                        compared += 1;
                        if !close_enough(got, *w) {
                            failures.push(format!(
                                "{} {} row {row}: TA-Lib {w}, got {got}",
                                fx.file, fx.outputs[col]
                            ));
                        }
                    }
                }
            }
        }
    }
    let want: Vec<&str> = vec![
        "adx", "atr", "bbands", "ema", "macd", "roc", "rsi", "sma", "stddev", "stoch", "trange", "willr", "wma",
    ];
    assert_eq!(indicators.iter().map(String::as_str).collect::<Vec<_>>(), want);
    println!(
        "{} files, {compared} values compared, {nan_checked} NaN positions checked",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

#[test]
fn truncating_the_data_never_changes_earlier_values() {
    let bars = load_sample("goog-1d").unwrap().bars;
    let cut = 700;
    let short = bars.slice(0..cut);
    for path in fixture_files()
        .iter()
        .filter(|p| p.to_string_lossy().contains("goog-1d__"))
    {
        let fx = parse(path);
        let full = compute(&fx.indicator, &bars, &fx.params).unwrap();
        let part = compute(&fx.indicator, &short, &fx.params).unwrap();
        for ((name, a), (_, b)) in part.columns.iter().zip(&full.columns) {
            assert!(
                a.iter().zip(&b[..cut]).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{} {name}",
                fx.file
            );
        }
    }
}
