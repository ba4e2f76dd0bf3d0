//! Resuming a checkpoint gives exactly the uninterrupted run; patience stops runs identically.

mod common;

use common::{assert_same_reports, dataflow_reports, normalise, sequential_reports, threads};
use evoflow_dataflows::toy::Sphere;
use evoflow_dataflows::{run, Checkpoint, DataflowError, GaConfig, ResumeError, StopReason};

fn config() -> GaConfig {
    GaConfig {
        population: 40,
        generations: 20,
        elitism: 2,
        seed: 77,
        hall_of_fame: 5,
        ..GaConfig::default()
    }
}

#[test]
fn resume_from_a_middle_checkpoint_equals_the_uninterrupted_run() {
    let config = config();
    let full = dataflow_reports(Sphere::new(4), &config, &threads(2, false), None);
    for g in [0usize, 7, 18] {
        // Through JSON, as the CLI may store it (serde_json needs `float_roundtrip` for exact f64s).
        let json = serde_json::to_string(&full[g].checkpoint).unwrap();
        let checkpoint: Checkpoint<Vec<i64>> = serde_json::from_str(&json).unwrap();
        assert_eq!(checkpoint.generation, g as u64 + 1);
        let resumed = dataflow_reports(Sphere::new(4), &config, &threads(3, false), Some(checkpoint.clone()));
        assert_eq!(resumed[0].stats.generation, g as u64 + 1);
        assert_same_reports(
            &format!("resume after generation {g}"),
            &normalise(full[g + 1..].to_vec(), true),
            &normalise(resumed, true),
        );
        let sequential = sequential_reports(&Sphere::new(4), &config, Some(checkpoint));
        assert_same_reports(
            &format!("sequential resume after generation {g}"),
            &normalise(full[g + 1..].to_vec(), true),
            &normalise(sequential, true),
        );
    }
}

#[test]
fn a_finished_run_can_be_extended() {
    let short = GaConfig {
        generations: 10,
        ..config()
    };
    let long = GaConfig {
        generations: 20,
        ..config()
    };
    let first = dataflow_reports(Sphere::new(3), &short, &threads(1, false), None);
    let rest = dataflow_reports(
        Sphere::new(3),
        &long,
        &threads(2, true),
        Some(first[9].checkpoint.clone()),
    );
    let whole = dataflow_reports(Sphere::new(3), &long, &threads(2, false), None);
    assert_same_reports(
        "extended",
        &normalise(whole[10..].to_vec(), true),
        &normalise(rest, true),
    );
    // The first ten generations agree too (the stored config and the stop flag differ by design).
    for (w, f) in whole[..10].iter().zip(&first) {
        assert_eq!(w.population, f.population);
        assert_eq!(w.hall_of_fame, f.hall_of_fame);
        assert_eq!(w.checkpoint.population, f.checkpoint.population);
    }
    assert_eq!(first[9].stats.stop, Some(StopReason::Generations));

    let err = run(
        std::sync::Arc::new(Sphere::new(3)),
        &short,
        &threads(1, false),
        Some(first[9].checkpoint.clone()),
        |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            DataflowError::Resume(ResumeError::AlreadyFinished {
                generation: 10,
                reason: StopReason::Generations
            })
        ),
        "{err}"
    );
}

#[test]
fn patience_stops_early_and_identically() {
    // Tiny population, no crossover and rare mutation: progress stalls quickly.
    let config = GaConfig {
        population: 6,
        generations: 500,
        elitism: 1,
        mutation_rate: 0.05,
        crossover_rate: 0.0,
        patience: Some(4),
        seed: 9,
        ..GaConfig::default()
    };
    let expected = normalise(sequential_reports(&Sphere::new(2), &config, None), false);
    let last = expected.last().unwrap();
    assert_eq!(last.stats.stop, Some(StopReason::Patience));
    assert!(expected.len() < 500);
    // The rule: the last 4 generations did not beat the best before them.
    let n = expected.len();
    let before = expected[..n - 4].iter().map(|r| r.stats.best).max().unwrap();
    assert!(expected[n - 4..].iter().all(|r| r.stats.best <= before));
    assert!(expected[..n - 1].iter().all(|r| r.stats.stop.is_none()));
    for workers in [1, 3] {
        let actual = normalise(
            dataflow_reports(Sphere::new(2), &config, &threads(workers, false), None),
            false,
        );
        assert_same_reports(&format!("patience -w {workers}"), &expected, &actual);
    }
}

#[test]
fn resume_with_a_different_seed_is_refused() {
    let config = config();
    let reports = sequential_reports(&Sphere::new(2), &config, None);
    let other = GaConfig { seed: 78, ..config };
    let err = run(
        std::sync::Arc::new(Sphere::new(2)),
        &other,
        &threads(1, false),
        Some(reports[3].checkpoint.clone()),
        |_| {},
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot resume: seed is 78 but the checkpoint was written with 77"
    );
}
