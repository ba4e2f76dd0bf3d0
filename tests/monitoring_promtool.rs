//! monitoring/ checked by the real promtool (config, rules, rule unit tests) and the Grafana files checked for what Grafana 10/11 needs.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const INSTALL: &str = "install Prometheus' promtool: apt-get update && apt-get install -y prometheus";

fn monitoring() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("monitoring")
}

fn read(relative: &str) -> String {
    let path = monitoring().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Runs `promtool ARGS` in monitoring/; fails (never skips) when promtool is missing.
fn promtool(args: &[&str]) -> Output {
    Command::new("promtool")
        .args(args)
        .current_dir(monitoring())
        .output()
        .unwrap_or_else(|e| panic!("cannot run promtool ({e}); {INSTALL}"))
}

fn assert_success(out: &Output, what: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

/// The alert names of alerts.yml.
fn alerts() -> Vec<String> {
    read("alerts.yml")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert:"))
        .map(|name| name.trim().to_string())
        .collect()
}

#[test]
fn promtool_accepts_the_configuration_and_its_rule_file() {
    let text = assert_success(
        &promtool(&["check", "config", "prometheus.yml"]),
        "promtool check config",
    );
    assert!(text.contains("1 rule files found"), "{text}");
    assert!(text.contains("alerts.yml"), "{text}");
    let config = read("prometheus.yml");
    assert!(config.contains("job_name: evoflow"), "{config}");
    for service in ["evoflow-0:9464", "evoflow-1:9464", "evoflow-2:9464"] {
        assert!(config.contains(service), "{service} is not scraped");
    }
    assert!(config.contains("targets/*.yml"), "no file_sd for local runs");
    // The local targets file is valid file_sd YAML as Prometheus would read it: promtool
    // checks it through a configuration that uses only it.
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("local.yml");
    std::fs::copy(monitoring().join("targets/local.yml"), &local).unwrap();
    let only = dir.path().join("prometheus.yml");
    std::fs::write(
        &only,
        format!(
            "scrape_configs:\n  - job_name: evoflow\n    file_sd_configs:\n      - files: [\"{}\"]\n",
            local.display()
        ),
    )
    .unwrap();
    assert_success(
        &promtool(&["check", "config", only.to_str().unwrap()]),
        "promtool check config (targets/local.yml)",
    );
}

#[test]
fn promtool_accepts_the_alert_rules() {
    let text = assert_success(&promtool(&["check", "rules", "alerts.yml"]), "promtool check rules");
    let names = alerts();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(text.contains(&format!("{} rules found", names.len())), "{text}");
    for wanted in [
        "EvoflowPeerLost",
        "EvoflowRunStalled",
        "EvoflowWorkerUtilisationLow",
        "EvoflowMemoryGrowth",
    ] {
        assert!(names.iter().any(|n| n == wanted), "{wanted} missing from alerts.yml");
    }
}

#[test]
fn promtool_passes_the_alert_unit_tests() {
    let text = assert_success(&promtool(&["test", "rules", "alerts_test.yml"]), "promtool test rules");
    assert!(text.contains("SUCCESS"), "{text}");
}

#[test]
fn every_alert_is_tested_firing_and_not_firing() {
    // In alerts_test.yml each `alertname: X` is followed by its `exp_alerts:` (`[]`: must not fire).
    let test = read("alerts_test.yml");
    let lines: Vec<&str> = test.lines().map(str::trim).collect();
    let mut firing = BTreeSet::new();
    let mut silent = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = line.strip_prefix("alertname:") else {
            continue;
        };
        let expected = lines[i + 1..]
            .iter()
            .find(|l| l.starts_with("exp_alerts:"))
            .unwrap_or_else(|| panic!("alertname {name} has no exp_alerts"));
        if expected.trim_end().ends_with("[]") {
            silent.insert(name.trim().to_string());
        } else {
            firing.insert(name.trim().to_string());
        }
    }
    for name in alerts() {
        assert!(firing.contains(&name), "{name} has no test where it fires");
        assert!(silent.contains(&name), "{name} has no test where it must not fire");
    }
}

/// The datasource uid the provisioning gives the Prometheus datasource.
fn provisioned_uid() -> String {
    let text = read("grafana/provisioning/datasources/prometheus.yml");
    assert!(text.contains("type: prometheus"), "{text}");
    text.lines()
        .find_map(|l| l.trim().strip_prefix("uid:"))
        .map(|uid| uid.trim().to_string())
        .expect("the datasource has a fixed uid")
}

#[test]
fn the_dashboard_is_valid_for_grafana_and_uses_the_provisioned_datasource() {
    let uid = provisioned_uid();
    let provider = read("grafana/provisioning/dashboards/evoflow.yml");
    assert!(provider.contains("type: file"), "{provider}");
    assert!(provider.contains("path: /var/lib/grafana/dashboards"), "{provider}");
    let compose =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docker-compose.yml")).unwrap();
    assert!(
        compose.contains("./monitoring/grafana/dashboards:/var/lib/grafana/dashboards"),
        "compose does not mount the dashboards where the provider reads them"
    );

    let dashboard: Value = serde_json::from_str(&read("grafana/dashboards/evoflow.json")).expect("valid JSON");
    // Grafana 10.0 writes schemaVersion 38, 10.4 39, 11.x up to 41.
    let schema = dashboard["schemaVersion"].as_u64().expect("schemaVersion");
    assert!((36..=41).contains(&schema), "schemaVersion {schema}");
    assert!(dashboard["uid"]
        .as_str()
        .is_some_and(|u| !u.is_empty() && u.len() <= 40));
    assert!(dashboard["title"].as_str().is_some_and(|t| !t.is_empty()));
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    let mut titles = Vec::new();
    for panel in panels {
        let title = panel["title"].as_str().expect("title");
        titles.push(title.to_lowercase());
        assert!(ids.insert(panel["id"].as_u64().expect("id")), "duplicate id in {title}");
        assert_eq!(panel["datasource"]["uid"], uid.as_str(), "{title}: datasource");
        let grid = &panel["gridPos"];
        for key in ["h", "w", "x", "y"] {
            assert!(grid[key].is_u64(), "{title}: gridPos.{key}");
        }
        assert!(
            grid["x"].as_u64().unwrap() + grid["w"].as_u64().unwrap() <= 24,
            "{title}: wider than 24"
        );
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}: no query");
        for target in targets {
            assert_eq!(target["datasource"]["uid"], uid.as_str(), "{title}: target datasource");
            assert!(target["expr"].as_str().is_some_and(|e| !e.is_empty()), "{title}: expr");
            assert!(target["refId"].is_string(), "{title}: refId");
        }
    }
    for variable in dashboard["templating"]["list"].as_array().expect("templating.list") {
        if variable["type"] == "query" {
            assert_eq!(variable["datasource"]["uid"], uid.as_str(), "variable datasource");
        }
    }
    for wanted in [
        "generation",
        "fitness",
        "evaluations per second",
        "utilisation",
        "cache hit",
        "latency by family",
        "niche",
        "storage write",
        "checkpoint age",
        "cpu",
        "memory",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(wanted)),
            "no panel about {wanted}: {titles:?}"
        );
    }
}
