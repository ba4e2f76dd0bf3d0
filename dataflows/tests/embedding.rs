//! `evolve` used directly inside a user's multi-worker timely computation.

use std::sync::{Arc, Mutex};

use evoflow_dataflows::toy::Sphere;
use evoflow_dataflows::{evolve, run_sequential, Checkpoint, GaConfig, GenerationStats, HallOfFame};
use timely::dataflow::operators::Inspect;

#[test]
fn streams_arrive_on_worker_0_only_and_match_the_sequential_ga() {
    let config = GaConfig {
        population: 24,
        generations: 6,
        seed: 3,
        ..GaConfig::default()
    };
    let stats: Arc<Mutex<Vec<(usize, GenerationStats)>>> = Arc::default();
    let halls: Arc<Mutex<Vec<HallOfFame<Vec<i64>>>>> = Arc::default();
    let checkpoints: Arc<Mutex<Vec<Checkpoint<Vec<i64>>>>> = Arc::default();
    let (s, h, c) = (Arc::clone(&stats), Arc::clone(&halls), Arc::clone(&checkpoints));
    let cfg = config.clone();
    timely::execute(timely::Config::process(3), move |worker| {
        let index = worker.index();
        let (s, h, c) = (Arc::clone(&s), Arc::clone(&h), Arc::clone(&c));
        let cfg = cfg.clone();
        worker.dataflow::<u32, _, _>(move |scope| {
            let streams = evolve(scope, Arc::new(Sphere::new(2)), &cfg, None).unwrap();
            streams
                .stats()
                .inspect(move |x: &GenerationStats| s.lock().unwrap().push((index, x.clone())));
            streams
                .hall_of_fame()
                .inspect(move |x: &HallOfFame<Vec<i64>>| h.lock().unwrap().push(x.clone()));
            streams
                .checkpoints()
                .inspect(move |x: &Checkpoint<Vec<i64>>| c.lock().unwrap().push(x.clone()));
        });
    })
    .unwrap();

    let mut expected = Vec::new();
    run_sequential(&Sphere::new(2), &config, None, |r| expected.push(r.clone())).unwrap();
    let stats = stats.lock().unwrap();
    let halls = halls.lock().unwrap();
    let checkpoints = checkpoints.lock().unwrap();
    assert_eq!(stats.len(), 6);
    assert!(stats.iter().all(|(worker, _)| *worker == 0));
    for (g, report) in expected.iter().enumerate() {
        let mut actual = stats[g].1.clone();
        actual.elapsed = report.stats.elapsed;
        assert_eq!(actual, report.stats);
        assert_eq!(
            halls[g],
            HallOfFame {
                generation: g as u64,
                entries: report.hall_of_fame.clone()
            }
        );
        assert_eq!(checkpoints[g], report.checkpoint);
    }
}
