//! A stop request ends a run at a generation boundary on every worker, exactly as the sequential
//! GA stopped at that boundary, and its checkpoint resumes to the uninterrupted run.

mod common;

use std::sync::{Arc, Mutex};

use common::{assert_same_reports, normalise, sequential_reports, threads};
use evoflow_dataflows::toy::Sphere;
use evoflow_dataflows::{
    connect, run_sequential_stoppable, Checkpoint, GaConfig, GenerationReport, RunEnd, StopReason, StopSignal,
};

fn config() -> GaConfig {
    GaConfig {
        population: 30,
        generations: 60,
        elitism: 2,
        seed: 21,
        hall_of_fame: 5,
        ..GaConfig::default()
    }
}

/// Runs the dataflow at `workers` threads, requesting a stop (signal 15) from `on_generation`
/// of generation `at`; returns the reports and the end.
fn stopped_run(
    workers: usize,
    at: u64,
    resume: Option<Checkpoint<Vec<i64>>>,
) -> (Vec<GenerationReport<Vec<i64>>>, RunEnd<Vec<i64>>) {
    let stop = StopSignal::new();
    let asker = stop.clone();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let end = connect(Arc::new(Sphere::new(3)), &config(), &threads(workers, workers == 3))
        .unwrap()
        .stop_on(stop)
        .execute(resume, move |report| {
            if report.stats.generation == at {
                asker.request(15);
            }
            sink.lock().unwrap().push(report.clone());
        })
        .unwrap();
    let reports = std::mem::take(&mut *reports.lock().unwrap());
    (reports, end)
}

/// The sequential GA with a stop requested from `on_generation` of generation `at`.
fn stopped_sequential(at: u64, resume: Option<Checkpoint<Vec<i64>>>) -> Vec<GenerationReport<Vec<i64>>> {
    let stop = StopSignal::new();
    let asker = stop.clone();
    let mut reports = Vec::new();
    let result = run_sequential_stoppable(&Sphere::new(3), &config(), resume, &stop, |report| {
        if report.stats.generation == at {
            asker.request(15);
        }
        reports.push(report.clone());
    })
    .unwrap();
    assert_eq!(result.stop, StopReason::Interrupted { signal: 15 });
    reports
}

#[test]
fn a_stop_request_ends_the_run_at_a_boundary_as_the_sequential_ga_and_resumes_exactly() {
    let full = normalise(sequential_reports(&Sphere::new(3), &config(), None), true);
    for workers in [1, 2, 3] {
        let at = 5;
        let (reports, end) = stopped_run(workers, at, None);
        let last = reports.last().unwrap().stats.generation;
        // Read after each generation's evaluations: the generation after the request, or (when
        // the request came after some worker had already read the flag) the one after that.
        assert!(last == at + 1 || last == at + 2, "-w {workers}: stopped after {last}");
        assert_eq!(end.stop, StopReason::Interrupted { signal: 15 });
        assert_eq!(end.exit_code(), Some(143));
        let result = end.result.expect("coordinator");
        assert_eq!(result.stop, StopReason::Interrupted { signal: 15 });
        assert_eq!(result.stats.len(), reports.len());
        assert_eq!(result.last_checkpoint.generation, last + 1);
        assert_eq!(
            reports.last().unwrap().stats.stop,
            Some(StopReason::Interrupted { signal: 15 })
        );
        assert!(reports[..reports.len() - 1].iter().all(|r| r.stats.stop.is_none()));

        // The sequential GA stopped at the same boundary gives the same reports.
        let sequential = stopped_sequential(last - 1, None);
        assert_same_reports(
            &format!("stopped at -w {workers}"),
            &normalise(sequential, false),
            &normalise(reports.clone(), false),
        );
        // Up to the stop it is the uninterrupted run (apart from the stop flag).
        for (r, f) in reports.iter().zip(&full) {
            assert_eq!(
                r.population, f.population,
                "-w {workers}: generation {}",
                r.stats.generation
            );
            assert_eq!(
                r.checkpoint, f.checkpoint,
                "-w {workers}: generation {}",
                r.stats.generation
            );
        }

        // Resuming the last checkpoint on another worker count ends as the uninterrupted run.
        let other = if workers == 3 { 1 } else { workers + 1 };
        let resumed = common::dataflow_reports(
            Sphere::new(3),
            &config(),
            &threads(other, false),
            Some(result.last_checkpoint.clone()),
        );
        assert_same_reports(
            &format!("stopped at -w {workers}, resumed at -w {other}"),
            &full[last as usize + 1..],
            &normalise(resumed, true),
        );
    }
}

#[test]
fn a_request_before_the_start_stops_after_the_first_generation_even_after_a_resume() {
    let full = normalise(sequential_reports(&Sphere::new(3), &config(), None), true);
    for workers in [1, 2, 3] {
        for resume in [None, Some(full[9].checkpoint.clone())] {
            let first = resume.as_ref().map_or(0, |c| c.generation);
            let stop = StopSignal::new();
            stop.request(2);
            let end = connect(Arc::new(Sphere::new(3)), &config(), &threads(workers, false))
                .unwrap()
                .stop_on(stop)
                .execute(resume, |_| {})
                .unwrap();
            assert_eq!(end.stop, StopReason::Interrupted { signal: 2 });
            let result = end.result.unwrap();
            assert_eq!(result.stats.len(), 1, "-w {workers}");
            assert_eq!(result.stats[0].generation, first);
            assert_eq!(result.last_checkpoint, full[first as usize].checkpoint);
        }
    }
}

#[test]
fn the_runs_own_end_wins_over_a_stop_requested_in_its_last_generation() {
    // Sequential (deterministic): a request during the last generation completes the run.
    let stop = StopSignal::new();
    let asker = stop.clone();
    let last = config().generations - 1;
    let result = run_sequential_stoppable(&Sphere::new(3), &config(), None, &stop, |report| {
        if report.stats.generation == last - 1 {
            asker.request(15);
        }
    })
    .unwrap();
    assert_eq!(result.stop, StopReason::Generations);
    assert_eq!(result.stats.len() as u64, config().generations);
    // Without a request, `execute` reports the run's own end on every worker.
    let end = connect(Arc::new(Sphere::new(3)), &config(), &threads(2, false))
        .unwrap()
        .execute(None, |_| {})
        .unwrap();
    assert_eq!(end.stop, StopReason::Generations);
    assert_eq!(end.exit_code(), None);
}
