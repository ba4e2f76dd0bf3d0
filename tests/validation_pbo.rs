//! Checks the PBO (CSCV) against an independent numpy implementation
//! (`tests/fixtures/validation/pbo.json`, written by `scripts/pbo_fixtures.py`).

use std::path::Path;

use evoflow::validation::pbo::{cscv_logits, pbo};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn cases() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/validation/pbo.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (regenerate with `pip install numpy && python3 scripts/pbo_fixtures.py`)",
            path.display()
        )
    });
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn close(name: &Value, what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL,
        "{name} {what}: rust {got:e} vs numpy {want:e}"
    );
}

#[test]
fn pbo_and_logits_equal_numpy() {
    let cases = cases();
    assert!(cases.len() >= 4);
    for case in &cases {
        let name = &case["name"];
        let returns: Vec<Vec<f64>> = case["returns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect())
            .collect();
        let blocks = case["blocks"].as_u64().unwrap() as usize;
        let s = pbo(&returns, blocks).unwrap();
        assert_eq!(s.combinations as u64, case["combinations"].as_u64().unwrap(), "{name}");
        close(name, "pbo", s.pbo, case["pbo"].as_f64().unwrap());
        close(name, "logit mean", s.logit_mean, case["logit_mean"].as_f64().unwrap());
        close(
            name,
            "logit median",
            s.logit_median,
            case["logit_median"].as_f64().unwrap(),
        );
        close(name, "logit q05", s.logit_q05, case["logit_q05"].as_f64().unwrap());
        close(name, "logit q95", s.logit_q95, case["logit_q95"].as_f64().unwrap());
        if let Some(want) = case["logits_sorted"].as_array() {
            let mut got = cscv_logits(&returns, blocks).unwrap();
            got.sort_by(f64::total_cmp);
            assert_eq!(got.len(), want.len(), "{name}");
            for (g, w) in got.iter().zip(want) {
                close(name, "logit", *g, w.as_f64().unwrap());
            }
        }
    }
    let edge = cases.iter().find(|c| c["name"] == "one_edge").unwrap();
    assert!(edge["pbo"].as_f64().unwrap() < 0.1, "the fixture's real edge is found");
}
