//! The dataflow's populations, statistics and hall of fame equal the sequential GA's, per generation.

mod common;

use common::{assert_same_reports, dataflow_reports, normalise, sequential_reports, threads};
use evoflow_dataflows::toy::{FamilySphere, Rastrigin, Sphere};
use evoflow_dataflows::{GaConfig, Problem};

fn check<P: Problem + Clone>(label: &str, problem: P, config: &GaConfig) {
    let expected = normalise(sequential_reports(&problem, config, None), false);
    assert_eq!(expected.len() as u64, config.generations);
    for workers in [1, 2, 3] {
        let actual = normalise(
            dataflow_reports(problem.clone(), config, &threads(workers, false), None),
            false,
        );
        assert_same_reports(&format!("{label} -w {workers}"), &expected, &actual);
    }
    let actual = normalise(dataflow_reports(problem, config, &threads(2, true), None), false);
    assert_same_reports(&format!("{label} -w 2 -z"), &expected, &actual);
}

#[test]
fn sphere_matches_sequential_at_1_to_4_workers_and_zerocopy() {
    let config = GaConfig {
        population: 60,
        generations: 25,
        elitism: 3,
        seed: 11,
        ..GaConfig::default()
    };
    check("sphere", Sphere::new(5), &config);
}

#[test]
fn rastrigin_matches_sequential_at_1_to_4_workers_and_zerocopy() {
    let config = GaConfig {
        population: 50,
        generations: 30,
        elitism: 2,
        tournament_size: 4,
        crossover_rate: 0.9,
        mutation_rate: 0.5,
        seed: 2024,
        hall_of_fame: 7,
        ..GaConfig::default()
    };
    check("rastrigin", Rastrigin::new(4), &config);
}

#[test]
fn niches_match_sequential() {
    let config = GaConfig {
        population: 40,
        generations: 15,
        min_niche_share: 0.1,
        seed: 5,
        ..GaConfig::default()
    };
    check("family sphere", FamilySphere::new(3, 4, 10.0), &config);
}

#[test]
fn different_seeds_give_different_runs() {
    // A guard against a comparison that cannot fail: the seed must matter.
    let a = sequential_reports(
        &Sphere::new(3),
        &GaConfig {
            population: 20,
            generations: 3,
            seed: 1,
            ..GaConfig::default()
        },
        None,
    );
    let b = sequential_reports(
        &Sphere::new(3),
        &GaConfig {
            population: 20,
            generations: 3,
            seed: 2,
            ..GaConfig::default()
        },
        None,
    );
    assert_ne!(a[2].population, b[2].population);
}

#[test]
fn the_search_improves() {
    let config = GaConfig {
        population: 60,
        generations: 40,
        seed: 3,
        ..GaConfig::default()
    };
    let reports = sequential_reports(&Sphere::new(3), &config, None);
    let first = reports[0].stats.best.value();
    let last = reports.last().unwrap().stats.best.value();
    assert!(last > first, "best went from {first} to {last}");
    assert!(last > -0.05, "sphere optimum is 0, got {last}");
}

#[test]
fn cache_counts_are_consistent() {
    let config = GaConfig {
        population: 30,
        generations: 8,
        elitism: 4,
        seed: 8,
        ..GaConfig::default()
    };
    let reports = dataflow_reports(Sphere::new(2), &config, &threads(3, false), None);
    for r in &reports {
        assert_eq!(r.stats.evaluations + r.stats.cache_hits, 30);
        assert!(r.stats.evaluations as usize >= r.stats.distinct.min(1));
    }
    // Elites are never re-evaluated: from generation 1 on, at least `elitism` hits.
    assert!(reports[1..].iter().all(|r| r.stats.cache_hits >= 4));
}

#[test]
fn workers_given_no_individual_still_vote_and_match_sequential() {
    // 3 individuals on 6 workers: every generation leaves some workers without a share, so
    // their votes come from the frontier while the others vote on their counts.
    let config = GaConfig {
        population: 3,
        generations: 12,
        elitism: 1,
        seed: 21,
        ..GaConfig::default()
    };
    let problem = Sphere::new(2);
    let expected = normalise(sequential_reports(&problem, &config, None), false);
    let actual = normalise(dataflow_reports(problem, &config, &threads(6, false), None), false);
    assert_same_reports("sphere 3 individuals -w 6", &expected, &actual);
}
