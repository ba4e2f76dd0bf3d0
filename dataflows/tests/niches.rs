//! Niche protection keeps every family of the initial population alive.

mod common;

use common::{dataflow_reports, threads};
use evoflow_dataflows::toy::FamilySphere;
use evoflow_dataflows::GaConfig;

#[test]
fn protected_niches_survive_and_keep_their_share() {
    // Family f pays f * 50: families 1..4 are hopeless against family 0.
    let problem = FamilySphere::new(3, 5, 50.0);
    let config = GaConfig {
        population: 50,
        generations: 30,
        elitism: 2,
        tournament_size: 4,
        min_niche_share: 0.1,
        seed: 12,
        ..GaConfig::default()
    };
    let reports = dataflow_reports(problem.clone(), &config, &threads(2, false), None);
    let initial: Vec<u32> = reports[0].stats.niches.iter().map(|n| n.niche).collect();
    assert_eq!(initial, vec![0, 1, 2, 3, 4]);
    for r in &reports {
        let present: Vec<u32> = r.stats.niches.iter().map(|n| n.niche).collect();
        assert_eq!(present, initial, "generation {}", r.stats.generation);
        // Variation keeps the family here, so each niche holds its quota ceil(0.1 * 50) = 5.
        assert!(
            r.stats.niches.iter().all(|n| n.count >= 5),
            "generation {}: {:?}",
            r.stats.generation,
            r.stats.niches
        );
    }

    // Control: without protection the handicapped families die out.
    let unprotected = GaConfig {
        min_niche_share: 0.0,
        ..config
    };
    let reports = dataflow_reports(problem, &unprotected, &threads(2, false), None);
    let last: Vec<u32> = reports.last().unwrap().stats.niches.iter().map(|n| n.niche).collect();
    assert_eq!(last, vec![0], "without protection only the best family should remain");
}
