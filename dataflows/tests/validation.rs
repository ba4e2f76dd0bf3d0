//! Invalid GA parameters and cluster flags/hostfiles give clear errors before anything starts.

use std::path::PathBuf;
use std::sync::Arc;

use evoflow_dataflows::toy::Sphere;
use evoflow_dataflows::{run, ClusterConfig, ConfigError, DataflowError, GaConfig, ResumeError};

fn temp_hostfile(name: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("evoflow-dataflows-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn bad_ga_config_is_rejected_by_run() {
    let config = GaConfig {
        population: 1,
        ..GaConfig::default()
    };
    let err = run(
        Arc::new(Sphere::new(2)),
        &config,
        &ClusterConfig::default(),
        None,
        |_| {},
    )
    .unwrap_err();
    assert!(matches!(
        err,
        DataflowError::Resume(ResumeError::Config(ConfigError::PopulationTooSmall(1)))
    ));
    assert_eq!(err.to_string(), "population must be at least 2 (got 1)");
    let config = GaConfig {
        elitism: 5,
        population: 5,
        ..GaConfig::default()
    };
    let err = run(
        Arc::new(Sphere::new(2)),
        &config,
        &ClusterConfig::default(),
        None,
        |_| {},
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "elitism must be smaller than the population (5 >= 5)");
}

#[test]
fn hostfile_errors_name_file_and_line() {
    let path = temp_hostfile("bad-port", "# hosts\n127.0.0.1:2101\n127.0.0.1:http\n");
    let cluster = ClusterConfig {
        processes: 2,
        hostfile: Some(path.clone()),
        ..ClusterConfig::default()
    };
    let err = cluster.validate().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3: bad port \"http\" in \"127.0.0.1:http\" (expected 1-65535)",
            path.display()
        )
    );

    let path = temp_hostfile("short", "127.0.0.1:2101\n\n# only one\n");
    let cluster = ClusterConfig {
        processes: 3,
        hostfile: Some(path.clone()),
        ..ClusterConfig::default()
    };
    let err = cluster.validate().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{} lists 1 address(es) but --processes is 3", path.display())
    );

    let missing = std::env::temp_dir().join("evoflow-dataflows-no-such-hostfile");
    let cluster = ClusterConfig {
        processes: 2,
        hostfile: Some(missing.clone()),
        ..ClusterConfig::default()
    };
    let err = cluster.validate().unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("cannot read hostfile {}", missing.display())),
        "{err}"
    );

    // The error reaches `run` unchanged, before any networking.
    let err = run(Arc::new(Sphere::new(2)), &GaConfig::default(), &cluster, None, |_| {}).unwrap_err();
    assert!(matches!(err, DataflowError::Cluster(_)), "{err}");

    let path = temp_hostfile("good", "127.0.0.1:2101\n127.0.0.1:2102 # p1\n127.0.0.1:2103\n");
    let cluster = ClusterConfig {
        processes: 2,
        process: 1,
        hostfile: Some(path),
        ..ClusterConfig::default()
    };
    assert_eq!(cluster.validate().unwrap(), vec!["127.0.0.1:2101", "127.0.0.1:2102"]);
}
