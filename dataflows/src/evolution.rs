//! The coordinator's per-generation state machine, shared by the sequential GA and the dataflow.

use std::time::Instant;

use crate::checkpoint::{stop_reason, Checkpoint, ResumeError};
use crate::config::GaConfig;
use crate::fitness::Fitness;
use crate::hall_of_fame::{update_hall_of_fame, HallOfFameEntry};
use crate::problem::Problem;
use crate::report::{GenerationReport, GenerationStats, NicheCount, Scored};
use crate::rng::Rng;
use crate::selection::{breed, canonical_order};
use crate::stop::StopReason;

/// The initial population: slot `i` is `initial_genome(i, Rng::for_slot(seed, 0, i))`.
pub fn initial_population<P: Problem>(problem: &P, config: &GaConfig) -> Vec<P::Genome> {
    (0..config.population)
        .map(|slot| problem.initial_genome(slot, &mut Rng::for_slot(config.seed, 0, slot as u64)))
        .collect()
}

/// What the coordinator carries from one generation to the next.
#[derive(Debug)]
pub struct Evolution<P: Problem> {
    config: GaConfig,
    best_history: Vec<Fitness>,
    hall_of_fame: Vec<HallOfFameEntry<P::Genome>>,
    protected_niches: Vec<u32>,
    started: Instant,
}

/// The first population of a (possibly resumed) run.
#[derive(Debug)]
pub struct Start<G> {
    /// Its generation number.
    pub generation: u64,
    /// The genomes, by slot.
    pub population: Vec<G>,
}

impl<P: Problem> Evolution<P> {
    /// Why the run is already over: a resumed checkpoint whose stopping rule holds (a complete
    /// run, or one killed after its last checkpoint). `None` while generations remain.
    pub fn finished(&self) -> Option<StopReason> {
        stop_reason(&self.config, &self.best_history)
    }

    /// Validates `config` (and `resume` against it) and returns the state with the first
    /// population to evaluate.
    pub fn start(
        problem: &P,
        config: &GaConfig,
        resume: Option<Checkpoint<P::Genome>>,
    ) -> Result<(Evolution<P>, Start<P::Genome>), ResumeError> {
        config.validate()?;
        let started = Instant::now();
        match resume {
            Some(checkpoint) => {
                checkpoint.check_compatible(config)?;
                let evolution = Evolution {
                    config: config.clone(),
                    best_history: checkpoint.best_history,
                    hall_of_fame: checkpoint.hall_of_fame,
                    protected_niches: checkpoint.protected_niches,
                    started,
                };
                Ok((
                    evolution,
                    Start {
                        generation: checkpoint.generation,
                        population: checkpoint.population,
                    },
                ))
            }
            None => {
                let population = initial_population(problem, config);
                let mut protected_niches: Vec<u32> = population.iter().map(|g| problem.niche(g)).collect();
                protected_niches.sort_unstable();
                protected_niches.dedup();
                let evolution = Evolution {
                    config: config.clone(),
                    best_history: Vec::new(),
                    hall_of_fame: Vec::new(),
                    protected_niches,
                    started,
                };
                Ok((
                    evolution,
                    Start {
                        generation: 0,
                        population,
                    },
                ))
            }
        }
    }

    /// The configuration of the run.
    pub fn config(&self) -> &GaConfig {
        &self.config
    }

    /// Completes generation `generation` from its evaluated individuals (in any order): puts
    /// them in canonical order, computes statistics, updates the hall of fame, decides whether
    /// to stop, and breeds the next generation (also when stopping, for the checkpoint).
    pub fn complete(
        &mut self,
        problem: &P,
        generation: u64,
        population: Vec<Scored<P::Genome>>,
        evaluations: u64,
        cache_hits: u64,
    ) -> GenerationReport<P::Genome> {
        self.complete_or_interrupt(problem, generation, population, evaluations, cache_hits, None)
    }

    /// [`Evolution::complete`], and when `interrupt` is `Some(signal)` (a stop was requested
    /// while the generation ran) the run stops after it with
    /// [`StopReason::Interrupted`](crate::StopReason::Interrupted), unless its own rule
    /// (generations, patience) stops it there anyway, which takes precedence: the run is then
    /// complete. The checkpoint is the same either way, so an interrupted run resumes exactly.
    pub fn complete_or_interrupt(
        &mut self,
        problem: &P,
        generation: u64,
        mut population: Vec<Scored<P::Genome>>,
        evaluations: u64,
        cache_hits: u64,
        interrupt: Option<i32>,
    ) -> GenerationReport<P::Genome> {
        canonical_order(&mut population);
        let niches: Vec<u32> = population.iter().map(|s| problem.niche(&s.genome)).collect();

        let best = population.first().map_or(Fitness::PENALTY, |s| s.fitness);
        let worst = population.last().map_or(Fitness::PENALTY, |s| s.fitness);
        self.best_history.push(best);
        let best_ever = self.best_history.iter().copied().max().unwrap_or(best);
        update_hall_of_fame(
            problem,
            &mut self.hall_of_fame,
            &population,
            generation,
            self.config.hall_of_fame,
        );
        let stop = stop_reason(&self.config, &self.best_history)
            .or(interrupt.map(|signal| crate::stop::StopReason::Interrupted { signal }));

        let valid: Vec<f64> = population
            .iter()
            .filter(|s| !s.fitness.is_penalty())
            .map(|s| s.fitness.value())
            .collect();
        let mean = if valid.is_empty() {
            0.0
        } else {
            valid.iter().sum::<f64>() / valid.len() as f64
        };
        let std_dev = if valid.len() < 2 {
            0.0
        } else {
            (valid.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / valid.len() as f64).sqrt()
        };
        let distinct = 1 + population.windows(2).filter(|w| w[0].genome != w[1].genome).count();
        let mut sorted_niches = niches.clone();
        sorted_niches.sort_unstable();
        let mut niche_counts: Vec<NicheCount> = Vec::new();
        for niche in sorted_niches {
            match niche_counts.last_mut() {
                Some(last) if last.niche == niche => last.count += 1,
                _ => niche_counts.push(NicheCount { niche, count: 1 }),
            }
        }

        let stats = GenerationStats {
            generation,
            best,
            worst,
            best_ever,
            mean,
            std_dev,
            penalized: population.len() - valid.len(),
            distinct,
            evaluations,
            cache_hits,
            niches: niche_counts,
            elapsed: self.started.elapsed(),
            stop,
        };

        let next = breed(
            problem,
            &self.config,
            &population,
            &niches,
            &self.protected_niches,
            generation + 1,
        );
        let checkpoint = Checkpoint {
            config: self.config.clone(),
            generation: generation + 1,
            population: next,
            best_history: self.best_history.clone(),
            hall_of_fame: self.hall_of_fame.clone(),
            protected_niches: self.protected_niches.clone(),
        };
        GenerationReport {
            stats,
            population,
            hall_of_fame: self.hall_of_fame.clone(),
            checkpoint,
        }
    }
}
