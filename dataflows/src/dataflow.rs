//! `evolve`: the genetic algorithm as an iterative timely dataflow, callable inside any dataflow.
//!
//! One round of the loop is one generation:
//!
//! ```text
//!  population(g) ──exchange(route)──► Evaluate (per-worker fitness cache)
//!      ▲                                        │ exchange(→ worker 0)
//!      │                                        ▼
//!  feedback (+1) ◄── next population ◄── Select (worker 0: canonical order, stats,
//!                                          hall of fame, elitism, tournaments, variation)
//!                                               │ reports (leave the loop)
//!                                               ▼
//!                              stats / hall of fame / checkpoints streams
//! ```
//!
//! Each individual carries its route, the worker chosen by the selector's [`Router`]: the
//! worker that already evaluated (and cached) the genome, or for a new genome the least
//! loaded worker by the problem's cost estimate.
//!
//! Worker 0 seeds the loop with the first population and is the selector: when its input
//! frontier has passed a generation, it has every evaluated individual of that generation and
//! completes it with the same code as [`run_sequential`](crate::run_sequential). It decides
//! termination (generations or patience) by not feeding a next population back, after which
//! the loop drains and the dataflow completes on every worker.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::{operator::source, Operator};
use timely::dataflow::operators::vec::Map;
use timely::dataflow::operators::{CapabilitySet, Concat, ConnectLoop, Enter, Leave, LoopVariable, OkErr};
use timely::dataflow::{Scope, StreamVec};
use timely::order::Product;
use timely::progress::Timestamp;

use crate::checkpoint::{Checkpoint, ResumeError};
use crate::config::GaConfig;
use crate::evolution::Evolution;
use crate::fitness::Fitness;
use crate::hall_of_fame::HallOfFame;
use crate::problem::{Genome, Problem};
use crate::report::{GenerationReport, GenerationStats, Scored};
use crate::routing::Router;

/// Why the dataflow could not be built or run.
#[derive(Debug, Error)]
pub enum DataflowError {
    /// The configuration or the checkpoint to resume is invalid.
    #[error(transparent)]
    Resume(#[from] ResumeError),
    /// The cluster configuration is invalid or the processes could not connect.
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    /// timely could not start the computation.
    #[error("could not start the timely computation: {0}")]
    Timely(String),
    /// A worker thread panicked.
    #[error("worker {worker} failed: {message}")]
    WorkerFailed {
        /// The worker's index in this process.
        worker: usize,
        /// What it reported.
        message: String,
    },
    /// The coordinator finished without reporting any generation.
    #[error("the coordinator finished without a result")]
    NoResult,
}

impl DataflowError {
    /// Whether the error comes from bad input (GA parameters, checkpoint/config mismatch,
    /// cluster flags, hostfile, processes started with different flags or data) rather than
    /// from running: a CLI should exit with status 2.
    pub fn is_usage_error(&self) -> bool {
        use crate::cluster::ClusterError as C;
        match self {
            DataflowError::Resume(ResumeError::Corrupt(_)) => false,
            DataflowError::Resume(_) => true,
            DataflowError::Cluster(e) => matches!(
                e,
                C::BadFlag { .. }
                    | C::MissingValue(_)
                    | C::HostfileUnreadable { .. }
                    | C::HostfileLine { .. }
                    | C::HostfileTooShort { .. }
                    | C::WorkersDiffer { .. }
                    | C::RunsDiffer { .. }
            ),
            _ => false,
        }
    }
}

/// A genome on its way to evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "G: Genome")]
pub struct Individual<G: Genome> {
    /// Its generation.
    pub generation: u64,
    /// Its slot in the generation.
    pub slot: u64,
    /// The genome.
    pub genome: G,
    /// The worker (index among all workers of all processes) that evaluates it.
    pub route: u64,
}

/// A genome with its fitness, on its way to the selector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "G: Genome")]
pub struct Evaluated<G: Genome> {
    /// Its generation.
    pub generation: u64,
    /// Its slot in the generation.
    pub slot: u64,
    /// The genome.
    pub genome: G,
    /// Its fitness.
    pub fitness: Fitness,
    /// The metrics its evaluation reported.
    pub metrics: Vec<f64>,
    /// Whether the fitness came from the evaluating worker's cache.
    pub cache_hit: bool,
}

/// What the selector emits: individuals of the next generation, or a generation's report.
enum Selected<G: Genome> {
    Next(Individual<G>),
    Report(Box<GenerationReport<G>>),
}

/// The streams `evolve` returns, in the caller's scope. Only worker 0 (the selector) has data;
/// other workers' streams are empty. Each stream carries one element per generation, in
/// generation order; they all leave the loop at the scope's minimum time.
pub struct EvolutionStreams<'scope, T: Timestamp, G: Genome> {
    /// Everything known at the end of each generation.
    pub reports: StreamVec<'scope, T, GenerationReport<G>>,
    /// Per-generation statistics.
    pub stats: StreamVec<'scope, T, GenerationStats>,
    /// The hall of fame after each generation.
    pub hall_of_fame: StreamVec<'scope, T, HallOfFame<G>>,
    /// The checkpoint after each generation (the next population, before evaluation).
    pub checkpoints: StreamVec<'scope, T, Checkpoint<G>>,
}

/// Builds the evolution loop inside `scope` and returns its output streams.
///
/// Every worker must call it with the same `config` and `resume` (as with any timely
/// dataflow, all workers build the same graph). The configuration and checkpoint are
/// validated first, identically on every worker. See the crate docs for an example.
pub fn evolve<'scope, T, P>(
    scope: Scope<'scope, T>,
    problem: Arc<P>,
    config: &GaConfig,
    resume: Option<Checkpoint<P::Genome>>,
) -> Result<EvolutionStreams<'scope, T, P::Genome>, DataflowError>
where
    T: Timestamp,
    P: Problem,
{
    let (evolution, start) = Evolution::start(&*problem, config, resume)?;
    let is_selector = scope.index() == 0;
    let mut selector_state = if is_selector { Some(evolution) } else { None };
    let mut first = if is_selector { Some(start) } else { None };
    // Worker 0's router, shared by the first population's source and the selector.
    let router = Rc::new(RefCell::new(Router::new(scope.peers())));
    let first_router = Rc::clone(&router);
    let first_problem = Arc::clone(&problem);

    // Worker 0 seeds the loop with the first population, at the scope's minimum time.
    let initial = source::<_, CapacityContainerBuilder<Vec<Individual<P::Genome>>>, _, _>(
        scope,
        "FirstPopulation",
        move |capability, _info| {
            let mut capability = Some(capability);
            move |output| {
                if let Some(capability) = capability.take() {
                    if let Some(start) = first.take() {
                        let routes = first_router.borrow_mut().route(&*first_problem, &start.population);
                        let mut session = output.session(&capability);
                        for ((slot, genome), route) in start.population.into_iter().enumerate().zip(routes) {
                            session.give(Individual {
                                generation: start.generation,
                                slot: slot as u64,
                                genome,
                                route,
                            });
                        }
                    }
                }
            }
        },
    );

    let reports = scope.iterative::<u64, _, _>(|inner| {
        let (handle, cycle) = inner.loop_variable::<Vec<Individual<P::Genome>>>(1);
        let population = initial.enter(inner).concat(cycle);

        let evaluator = Arc::clone(&problem);
        let evaluated = population.unary::<CapacityContainerBuilder<Vec<Evaluated<P::Genome>>>, _, _, _>(
            Exchange::new(|individual: &Individual<P::Genome>| individual.route),
            "Evaluate",
            move |_capability, _info| {
                let mut cache: HashMap<P::Genome, (Fitness, Vec<f64>)> = HashMap::new();
                move |input, output| {
                    input.for_each_stamp(|capability, batches| {
                        let mut session = output.session(&capability);
                        for batch in batches {
                            for individual in batch.drain(..) {
                                let ((fitness, metrics), cache_hit) = match cache.get(&individual.genome) {
                                    Some(hit) => (hit.clone(), true),
                                    None => {
                                        let scored = evaluator.evaluate_with_metrics(&individual.genome);
                                        cache.insert(individual.genome.clone(), scored.clone());
                                        (scored, false)
                                    }
                                };
                                session.give(Evaluated {
                                    generation: individual.generation,
                                    slot: individual.slot,
                                    genome: individual.genome,
                                    fitness,
                                    metrics,
                                    cache_hit,
                                });
                            }
                        }
                    });
                }
            },
        );

        let selector_problem = Arc::clone(&problem);
        let selected = evaluated.unary_frontier::<CapacityContainerBuilder<Vec<Selected<P::Genome>>>, _, _, _>(
            Exchange::new(|_: &Evaluated<P::Genome>| 0),
            "Select",
            move |_capability, _info| {
                type Pending<T, G> = BTreeMap<u64, (CapabilitySet<Product<T, u64>>, Vec<Evaluated<G>>)>;
                let mut pending: Pending<T, P::Genome> = BTreeMap::new();
                move |(input, frontier), output| {
                    input.for_each_stamp(|capability, batches| {
                        for batch in batches {
                            for evaluated in batch.drain(..) {
                                let entry = pending
                                    .entry(evaluated.generation)
                                    .or_insert_with(|| (CapabilitySet::new(), Vec::new()));
                                for cap in capability.retain_stamp(output.output_index()).iter() {
                                    entry.0.insert(cap.clone());
                                }
                                entry.1.push(evaluated);
                            }
                        }
                    });
                    // Complete each generation whose times the input frontier has passed.
                    let complete: Vec<u64> = pending
                        .iter()
                        .filter(|(_, (caps, _))| caps.iter().all(|cap| !frontier.less_equal(cap.time())))
                        .map(|(generation, _)| *generation)
                        .collect();
                    for generation in complete {
                        let (Some((caps, evaluated)), Some(evolution)) =
                            (pending.remove(&generation), selector_state.as_mut())
                        else {
                            continue;
                        };
                        let mut evaluations = 0;
                        let mut cache_hits = 0;
                        let mut by_slot = evaluated;
                        by_slot.sort_by_key(|e| e.slot);
                        let scored: Vec<Scored<P::Genome>> = by_slot
                            .into_iter()
                            .map(|e| {
                                if e.cache_hit {
                                    cache_hits += 1;
                                } else {
                                    evaluations += 1;
                                }
                                Scored {
                                    genome: e.genome,
                                    fitness: e.fitness,
                                    metrics: e.metrics,
                                }
                            })
                            .collect();
                        let report =
                            evolution.complete(&*selector_problem, generation, scored, evaluations, cache_hits);
                        let mut session = output.session(&caps);
                        if report.stats.stop.is_none() {
                            let next = &report.checkpoint.population;
                            let routes = router.borrow_mut().route(&*selector_problem, next);
                            for ((slot, genome), route) in next.iter().enumerate().zip(routes) {
                                session.give(Selected::Next(Individual {
                                    generation: generation + 1,
                                    slot: slot as u64,
                                    genome: genome.clone(),
                                    route,
                                }));
                            }
                        }
                        session.give(Selected::Report(Box::new(report)));
                    }
                }
            },
        );

        // A report is large but there is one per generation.
        #[allow(clippy::result_large_err)]
        let (next, reports) = selected.ok_err(|selected| match selected {
            Selected::Next(individual) => Ok(individual),
            Selected::Report(report) => Err(*report),
        });
        next.connect_loop(handle);
        reports.leave(scope)
    });

    let stats = reports.clone().map(|report: GenerationReport<P::Genome>| report.stats);
    let hall_of_fame = reports.clone().map(|report: GenerationReport<P::Genome>| HallOfFame {
        generation: report.stats.generation,
        entries: report.hall_of_fame,
    });
    let checkpoints = reports
        .clone()
        .map(|report: GenerationReport<P::Genome>| report.checkpoint);
    Ok(EvolutionStreams {
        reports,
        stats,
        hall_of_fame,
        checkpoints,
    })
}
