//! `evoflow seeds` output (text and `--json`) and parameter clamping reports.

use std::process::Command;

use evoflow::seeds::{all_seeds, seed};
use evoflow::strategy::{parse_param_assignments, resolve_params};

fn evoflow(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_evoflow"))
        .args(args)
        .output()
        .expect("evoflow runs")
}

#[test]
fn seeds_json_lists_all_fourteen_with_their_genes() {
    let out = evoflow(&["seeds", "--json"]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let list = v.as_array().expect("a JSON array");
    let seeds = all_seeds();
    assert_eq!(list.len(), 14);
    for (entry, s) in list.iter().zip(&seeds) {
        assert_eq!(entry["name"], s.name());
        assert_eq!(entry["type"], s.kind().as_str());
        assert!(entry["doc"].as_str().is_some_and(|d| d.len() > 40), "{}: doc", s.name());
        let genes = entry["genes"].as_array().expect("genes array");
        assert_eq!(genes.len(), s.genes().len(), "{}", s.name());
        for (g, spec) in genes.iter().zip(s.genes()) {
            assert_eq!(g["name"], spec.name);
            assert_eq!(g["min"].as_f64(), Some(spec.min));
            assert_eq!(g["max"].as_f64(), Some(spec.max));
            assert_eq!(g["default"].as_f64(), Some(spec.default));
            assert_eq!(g["integer"].as_bool(), Some(spec.integer));
        }
    }
    let names: Vec<&str> = list.iter().filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(names[0], "ema_crossover");
    assert_eq!(names[13], "nadaraya_watson");
}

#[test]
fn seeds_text_names_every_seed_and_gene() {
    let out = evoflow(&["seeds"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for s in all_seeds() {
        assert!(text.contains(s.name()), "{} missing", s.name());
        for g in s.genes() {
            assert!(text.contains(g.name), "{}: gene {} missing", s.name(), g.name);
        }
    }
    assert!(text.contains("needs funding data"));
}

#[test]
fn out_of_range_param_is_clamped_and_reported() {
    let rsi = seed("rsi_filter").unwrap();
    let params = parse_param_assignments(&["rsi_period=99".to_string(), "oversold_threshold=30".to_string()]).unwrap();
    let resolved = resolve_params(rsi, &params).unwrap();
    assert_eq!(
        resolved.genome,
        vec![20.0, 30.0, 75.0, 0.7, 0.3],
        "missing genes take defaults, 99 clamps to 20"
    );
    assert_eq!(resolved.clamps.len(), 1);
    assert_eq!(resolved.clamps[0].gene, "rsi_period");
    assert!(
        resolved.clamps[0].to_string().contains("clamped to 20"),
        "{}",
        resolved.clamps[0]
    );
    assert!(resolve_params(rsi, &[("nope".to_string(), 1.0)]).is_err());
}
