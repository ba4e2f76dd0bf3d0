//! Checks the PSR and DSR against an independent numpy/scipy implementation
//! (`tests/fixtures/validation/sharpe_stats.json`, written by `scripts/validation_fixtures.py`).

use std::path::Path;

use evoflow::validation::{deflated_sharpe, deflated_sharpe_of_returns, ReturnMoments};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn cases() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/validation/sharpe_stats.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (regenerate with `pip install numpy scipy && python3 scripts/validation_fixtures.py`)",
            path.display()
        )
    });
    let doc: Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap().clone();
    assert!(cases.len() >= 5, "expected several fixture cases, got {}", cases.len());
    cases
}

fn f(case: &Value, key: &str) -> f64 {
    case[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{}: missing {key}", case["name"]))
}

fn close(name: &Value, what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL,
        "{name} {what}: rust {got:e} vs scipy {want:e} (diff {:e})",
        (got - want).abs()
    );
}

#[test]
fn psr_and_dsr_of_returns_equal_scipy() {
    for c in cases() {
        let returns: Vec<f64> = c["returns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let n_trials = c["n_trials"].as_u64().unwrap();
        let s = deflated_sharpe_of_returns(&returns, n_trials, f(&c, "sr_variance")).unwrap();
        let name = &c["name"];
        assert_eq!(s.moments.n_obs as u64, c["n_obs"].as_u64().unwrap(), "{name} n_obs");
        assert_eq!(s.n_trials, n_trials);
        close(name, "sr_per_period", s.moments.sr_per_period, f(&c, "sr_per_period"));
        close(name, "skew", s.moments.skew, f(&c, "skew"));
        close(name, "kurtosis", s.moments.kurtosis, f(&c, "kurtosis"));
        close(name, "expected_max_sr", s.expected_max_sr, f(&c, "expected_max_sr"));
        close(name, "psr", s.psr, f(&c, "psr"));
        close(name, "dsr", s.dsr, f(&c, "dsr"));
    }
}

#[test]
fn psr_and_dsr_from_given_moments_equal_scipy() {
    for c in cases() {
        let m = ReturnMoments {
            sr_per_period: f(&c, "sr_per_period"),
            n_obs: c["n_obs"].as_u64().unwrap() as usize,
            skew: f(&c, "skew"),
            kurtosis: f(&c, "kurtosis"),
        };
        let s = deflated_sharpe(m, c["n_trials"].as_u64().unwrap(), f(&c, "sr_variance")).unwrap();
        close(&c["name"], "psr", s.psr, f(&c, "psr"));
        close(&c["name"], "dsr", s.dsr, f(&c, "dsr"));
    }
}
