//! A plain sequential genetic algorithm with exactly the dataflow's semantics (the test oracle).

use std::collections::HashMap;

use crate::checkpoint::{Checkpoint, ResumeError};
use crate::config::GaConfig;
use crate::evolution::Evolution;
use crate::problem::Problem;
use crate::report::{EvolutionResult, GenerationReport, ResultCollector, Scored};
use crate::stop::StopSignal;

/// Runs the genetic algorithm in the calling thread, calling `on_generation` after each
/// generation, and returns the result.
///
/// It shares selection and variation ([`crate::selection`]) with the dataflow and evaluates
/// with one fitness cache, which gives the same fitness, `evaluations` and `cache_hits` as
/// the dataflow's per-worker caches (a genome always goes to the same worker). So for the same
/// seed, every generation's population and statistics (except `elapsed`) equal the dataflow's
/// at any number of workers and processes.
///
/// ```
/// use evoflow_dataflows::{run_sequential, toy::Sphere, GaConfig};
/// let config = GaConfig { population: 20, generations: 5, seed: 7, ..GaConfig::default() };
/// let result = run_sequential(&Sphere::new(3), &config, None, |_| {}).unwrap();
/// assert_eq!(result.stats.len(), 5);
/// assert!(result.stats[4].best_ever >= result.stats[0].best);
/// ```
pub fn run_sequential<P, F>(
    problem: &P,
    config: &GaConfig,
    resume: Option<Checkpoint<P::Genome>>,
    on_generation: F,
) -> Result<EvolutionResult<P::Genome>, ResumeError>
where
    P: Problem,
    F: FnMut(&GenerationReport<P::Genome>),
{
    run_sequential_stoppable(problem, config, resume, &StopSignal::new(), on_generation)
}

/// [`run_sequential`] that reads `stop` at every generation boundary as the dataflow does:
/// after a generation's evaluations and before completing it, so a stop requested while
/// generation `g` runs (e.g. from `on_generation` of `g - 1`) ends the run after `g` with
/// [`StopReason::Interrupted`](crate::StopReason::Interrupted) (unless `g` is the last anyway).
///
/// ```
/// use evoflow_dataflows::{run_sequential_stoppable, toy::Sphere, GaConfig, StopReason, StopSignal};
/// let config = GaConfig { population: 20, generations: 50, seed: 7, ..GaConfig::default() };
/// let stop = StopSignal::new();
/// let asker = stop.clone();
/// let result = run_sequential_stoppable(&Sphere::new(3), &config, None, &stop, |report| {
///     if report.stats.generation == 3 {
///         asker.request(15);
///     }
/// })
/// .unwrap();
/// assert_eq!(result.stats.len(), 5);
/// assert_eq!(result.stop, StopReason::Interrupted { signal: 15 });
/// assert_eq!(result.last_checkpoint.generation, 5);
/// ```
pub fn run_sequential_stoppable<P, F>(
    problem: &P,
    config: &GaConfig,
    resume: Option<Checkpoint<P::Genome>>,
    stop: &StopSignal,
    mut on_generation: F,
) -> Result<EvolutionResult<P::Genome>, ResumeError>
where
    P: Problem,
    F: FnMut(&GenerationReport<P::Genome>),
{
    if let Some(checkpoint) = &resume {
        checkpoint.check_resumable(config)?;
    }
    let (mut evolution, start) = Evolution::start(problem, config, resume)?;
    let mut generation = start.generation;
    let mut population = start.population;
    let mut cache: HashMap<P::Genome, (crate::Fitness, Vec<f64>)> = HashMap::new();
    let mut collector = ResultCollector::default();
    loop {
        let mut evaluations = 0;
        let mut cache_hits = 0;
        let scored: Vec<Scored<P::Genome>> = population
            .into_iter()
            .map(|genome| {
                let (fitness, metrics) = match cache.get(&genome) {
                    Some(hit) => {
                        cache_hits += 1;
                        hit.clone()
                    }
                    None => {
                        evaluations += 1;
                        let scored = problem.evaluate_with_metrics(&genome);
                        cache.insert(genome.clone(), scored.clone());
                        scored
                    }
                };
                Scored {
                    genome,
                    fitness,
                    metrics,
                }
            })
            .collect();
        let report =
            evolution.complete_or_interrupt(problem, generation, scored, evaluations, cache_hits, stop.requested());
        on_generation(&report);
        let stop = report.stats.stop.is_some();
        population = report.checkpoint.population.clone();
        collector.push(report);
        if stop {
            break;
        }
        generation += 1;
    }
    // At least one generation ran, so the result exists.
    collector
        .finish()
        .ok_or_else(|| ResumeError::Corrupt("no generation ran".into()))
}
