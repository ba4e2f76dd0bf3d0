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
//! loaded worker by the problem's cost estimate, calibrated with the evaluation times
//! measured so far. It also carries its share: how many individuals of its generation went
//! to that worker.
//!
//! Worker 0 seeds the loop with the first population and is the selector: once it holds every
//! evaluated individual of a generation and every worker's vote on it (below), it completes
//! the generation with the same code as [`run_sequential`](crate::run_sequential). It counts
//! them rather than waiting for its input frontier to pass the generation, so the next
//! generation starts without a round of progress messages; the frontier only completes the
//! rounds that have nothing to count (the round after the last). It decides
//! termination (generations, patience, or a stop request) by not feeding a next population
//! back and telling every worker why the run ended, after which the loop drains and the
//! dataflow completes on every worker.
//!
//! **Stopping on request.** Every worker's `Evaluate` holds a capability at the current round
//! of the loop. Once it has evaluated its share of a round's generation (it counted as many
//! individuals as they say they share, or, for a worker given none, its population input has
//! passed the round), it reads its [`StopSignal`] and sends what it read to the selector as a
//! vote at that round, then moves its capability to the next round. So the selector completes
//! a generation only with every worker's vote, and the stop decision (any vote asks to stop)
//! is made in one place, identically for every worker and process. When the run ends the
//! selector sends every worker the [`StopReason`]; each `Evaluate` then drops its capability
//! and the reason leaves the loop on every worker (`EvolutionStreams::ended`).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::core::Exchange as ExchangeRecords;
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
use crate::observer::EvaluationObserver;
use crate::problem::{Genome, Problem};
use crate::report::{GenerationReport, GenerationStats, Scored};
use crate::routing::Router;
use crate::stop::{StopReason, StopSignal};

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
    /// How many individuals of its generation (itself included) go to that worker.
    pub share: u64,
}

/// The individuals of `generation`: the genomes of `population` by slot, with their routes
/// and each route's share.
fn routed<G: Genome>(
    generation: u64,
    population: impl IntoIterator<Item = G>,
    routes: Vec<u64>,
) -> impl Iterator<Item = Individual<G>> {
    let mut shares: HashMap<u64, u64> = HashMap::new();
    for route in &routes {
        *shares.entry(*route).or_default() += 1;
    }
    population
        .into_iter()
        .zip(routes)
        .enumerate()
        .map(move |(slot, (genome, route))| Individual {
            generation,
            slot: slot as u64,
            genome,
            route,
            share: shares[&route],
        })
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
    /// How long the evaluation took in seconds (0 for a cache hit); it only calibrates
    /// routing, never a result.
    pub seconds: f64,
}

/// What reaches the selector: an evaluated individual, or a worker's stop vote for the round
/// the message is stamped with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "G: Genome")]
enum ToSelector<G: Genome> {
    Evaluated(Evaluated<G>),
    /// What `worker` (index among all workers) read from its [`StopSignal`] when it had
    /// evaluated its share of the loop's round `round` (generation: first generation + round).
    Vote {
        worker: u64,
        round: u64,
        signal: Option<i32>,
    },
}

/// The selector's word to one worker that the run ended, and why.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Ended {
    target: u64,
    stop: StopReason,
}

/// What the selector emits: individuals of the next generation, a generation's report, or the
/// end of the run for one worker.
enum Selected<G: Genome> {
    Next(Individual<G>),
    Report(Box<GenerationReport<G>>),
    Ended(Ended),
}

/// The streams `evolve` returns, in the caller's scope. Only worker 0 (the selector) has data;
/// other workers' streams are empty. Each stream carries one element per generation, in
/// generation order; they all leave the loop at the scope's minimum time.
///
/// [`stats`](Self::stats), [`hall_of_fame`](Self::hall_of_fame) and
/// [`checkpoints`](Self::checkpoints) are parts of each report, built only when asked for: each
/// consumer of a stream receives its own copy of every element, and a report copied for a part
/// nobody reads would delay worker 0 at every generation.
pub struct EvolutionStreams<'scope, T: Timestamp, G: Genome> {
    /// Everything known at the end of each generation.
    pub reports: StreamVec<'scope, T, GenerationReport<G>>,
    /// Why the run ended: one element on every worker (unlike the other streams), the same
    /// everywhere, e.g. [`StopReason::Interrupted`] on every process when a stop was requested
    /// on any of them.
    pub ended: StreamVec<'scope, T, StopReason>,
}

impl<'scope, T: Timestamp, G: Genome> EvolutionStreams<'scope, T, G> {
    /// Per-generation statistics.
    pub fn stats(&self) -> StreamVec<'scope, T, GenerationStats> {
        self.reports.clone().map(|report: GenerationReport<G>| report.stats)
    }

    /// The hall of fame after each generation.
    pub fn hall_of_fame(&self) -> StreamVec<'scope, T, HallOfFame<G>> {
        self.reports.clone().map(|report: GenerationReport<G>| HallOfFame {
            generation: report.stats.generation,
            entries: report.hall_of_fame,
        })
    }

    /// The checkpoint after each generation (the next population, before evaluation).
    pub fn checkpoints(&self) -> StreamVec<'scope, T, Checkpoint<G>> {
        self.reports
            .clone()
            .map(|report: GenerationReport<G>| report.checkpoint)
    }
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
    evolve_stoppable(scope, problem, config, resume, StopSignal::new())
}

/// [`evolve`] that stops at a generation boundary when `stop` is requested on any worker of
/// any process (each worker passes its process's flag): the run ends after the first
/// generation that some worker finished evaluating with a request seen, on every worker alike,
/// with [`StopReason::Interrupted`] in that generation's stats and in `ended`. That
/// generation's report, with its checkpoint, is the last on every stream.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use timely::dataflow::operators::Inspect;
/// use evoflow_dataflows::{evolve_stoppable, toy::Sphere, GaConfig, StopReason, StopSignal};
///
/// let config = GaConfig { population: 20, generations: 1000, seed: 3, ..GaConfig::default() };
/// let stop = StopSignal::new();
/// stop.request(15); // already requested: the run stops after its first generation
/// let ended: Arc<Mutex<Vec<StopReason>>> = Arc::default();
/// let sink = Arc::clone(&ended);
/// timely::example(move |scope| {
///     let streams = evolve_stoppable(scope, Arc::new(Sphere::new(2)), &config, None, stop).unwrap();
///     streams.ended.inspect(move |reason| sink.lock().unwrap().push(*reason));
/// });
/// assert_eq!(*ended.lock().unwrap(), vec![StopReason::Interrupted { signal: 15 }]);
/// ```
pub fn evolve_stoppable<'scope, T, P>(
    scope: Scope<'scope, T>,
    problem: Arc<P>,
    config: &GaConfig,
    resume: Option<Checkpoint<P::Genome>>,
    stop: StopSignal,
) -> Result<EvolutionStreams<'scope, T, P::Genome>, DataflowError>
where
    T: Timestamp,
    P: Problem,
{
    evolve_observed(scope, problem, config, resume, stop, None)
}

/// [`evolve_stoppable`] that reports each worker's evaluation work to `observer` (see
/// [`crate::observer`]); with `None` it is `evolve_stoppable`.
pub fn evolve_observed<'scope, T, P>(
    scope: Scope<'scope, T>,
    problem: Arc<P>,
    config: &GaConfig,
    resume: Option<Checkpoint<P::Genome>>,
    stop: StopSignal,
    observer: Option<Arc<dyn EvaluationObserver>>,
) -> Result<EvolutionStreams<'scope, T, P::Genome>, DataflowError>
where
    T: Timestamp,
    P: Problem,
{
    let (evolution, start) = Evolution::start(&*problem, config, resume)?;
    let is_selector = scope.index() == 0;
    // A resumed run whose stopping rule already holds runs no generation: the selector ends
    // it on round 0's votes, so every worker of every process ends cleanly with its reason.
    let finished_at_start = if is_selector { evolution.finished() } else { None };
    let mut selector_state = if is_selector { Some(evolution) } else { None };
    // The generation of the loop's round 0 (the same on every worker).
    let first_generation = start.generation;
    let mut first = if is_selector { Some(start) } else { None };
    // Worker 0's router, shared by the first population's source and the selector.
    let router = Rc::new(RefCell::new(Router::new(scope.peers())));
    let first_router = Rc::clone(&router);
    // Worker 0's count of the individuals it sent out per generation (source and selector).
    let expected: Rc<RefCell<HashMap<u64, usize>>> = Rc::default();
    let first_expected = Rc::clone(&expected);
    let first_problem = Arc::clone(&problem);

    // Worker 0 seeds the loop with the first population, at the scope's minimum time.
    let initial = source::<_, CapacityContainerBuilder<Vec<Individual<P::Genome>>>, _, _>(
        scope,
        "FirstPopulation",
        move |capability, _info| {
            let mut capability = Some(capability);
            move |output| {
                if let Some(capability) = capability.take() {
                    if let Some(start) = first.take().filter(|_| finished_at_start.is_none()) {
                        let routes = first_router.borrow_mut().route(&*first_problem, &start.population);
                        first_expected
                            .borrow_mut()
                            .insert(start.generation, start.population.len());
                        output
                            .session(&capability)
                            .give_iterator(routed(start.generation, start.population, routes));
                    }
                }
            }
        },
    );

    let worker_index = scope.index() as u64;
    let workers = scope.peers() as u64;
    let (reports, ended) = scope.iterative::<u64, _, _>(|inner| {
        let (handle, cycle) = inner.loop_variable::<Vec<Individual<P::Genome>>>(1);
        let (ended_handle, ended_cycle) = inner.loop_variable::<Vec<Ended>>(1);
        let population = initial.enter(inner).concat(cycle);

        let evaluator = Arc::clone(&problem);
        let evaluated = population
            .binary_frontier::<_, CapacityContainerBuilder<Vec<ToSelector<P::Genome>>>, _, _, _, _>(
                ended_cycle,
                Exchange::new(|individual: &Individual<P::Genome>| individual.route),
                Pipeline,
                "Evaluate",
                move |capability, _info| {
                    let mut cache: HashMap<P::Genome, (Fitness, Vec<f64>)> = HashMap::new();
                    // The round this worker has not voted on yet; `None` once the run ended.
                    let mut vote = Some(capability);
                    let mut observer = observer.map(|o| o.worker(worker_index));
                    // The newest generation this worker received genomes of (for the observer).
                    let mut newest: Option<u64> = None;
                    // Per generation not voted on yet: (individuals received, their share).
                    let mut received: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
                    move |(input, frontier), (ended, _), output| {
                        let activation = observer.as_ref().map(|_| Instant::now());
                        let mut worked = false;
                        input.for_each_stamp(|capability, batches| {
                            let mut session = output.session(&capability);
                            for batch in batches {
                                for individual in batch.drain(..) {
                                    worked = true;
                                    let round = received.entry(individual.generation).or_insert((0, 0));
                                    round.0 += 1;
                                    round.1 = individual.share;
                                    let ((fitness, metrics), cache_hit, seconds) = match cache.get(&individual.genome) {
                                        Some(hit) => {
                                            if let Some(observer) = observer.as_mut() {
                                                observer.cache_hit();
                                            }
                                            (hit.clone(), true, 0.0)
                                        }
                                        None => {
                                            let started = Instant::now();
                                            let scored = evaluator.evaluate_with_metrics(&individual.genome);
                                            let took = started.elapsed();
                                            if let Some(observer) = observer.as_mut() {
                                                observer.evaluated(evaluator.niche(&individual.genome), took);
                                            }
                                            cache.insert(individual.genome.clone(), scored.clone());
                                            (scored, false, took.as_secs_f64())
                                        }
                                    };
                                    newest = newest.max(Some(individual.generation));
                                    session.give(ToSelector::Evaluated(Evaluated {
                                        generation: individual.generation,
                                        slot: individual.slot,
                                        genome: individual.genome,
                                        fitness,
                                        metrics,
                                        cache_hit,
                                        seconds,
                                    }));
                                }
                            }
                        });
                        if let (Some(observer), Some(activation), true) = (observer.as_mut(), activation, worked) {
                            observer.busy(activation.elapsed());
                        }
                        let mut run_ended = false;
                        ended.for_each_stamp(|_, batches| {
                            for batch in batches {
                                run_ended |= !batch.is_empty();
                                batch.clear();
                            }
                        });
                        if run_ended {
                            vote = None;
                            return;
                        }
                        // Vote on every round whose population this worker has entirely evaluated:
                        // it counted its share, or (given none) its input has passed the round.
                        while let Some(capability) = vote.as_mut() {
                            let generation = first_generation + capability.time().inner;
                            let counted = received
                                .get(&generation)
                                .is_some_and(|(seen, share)| *seen > 0 && seen == share);
                            if !counted && frontier.less_equal(capability.time()) {
                                break;
                            }
                            received.remove(&generation);
                            if let (Some(observer), Some(generation)) = (observer.as_mut(), newest) {
                                observer.generation_evaluated(generation);
                            }
                            output.session(&*capability).give(ToSelector::Vote {
                                worker: worker_index,
                                round: capability.time().inner,
                                signal: stop.requested(),
                            });
                            let next = Product::new(capability.time().outer.clone(), capability.time().inner + 1);
                            capability.downgrade(&next);
                        }
                    }
                },
            );

        let selector_problem = Arc::clone(&problem);
        let selected = evaluated.unary_frontier::<CapacityContainerBuilder<Vec<Selected<P::Genome>>>, _, _, _>(
            Exchange::new(|_: &ToSelector<P::Genome>| 0),
            "Select",
            move |_capability, _info| {
                /// Per generation: its capabilities, evaluated individuals, (worker, signal) votes.
                type Pending<T, G> = BTreeMap<
                    u64,
                    (
                        CapabilitySet<Product<T, u64>>,
                        Vec<Evaluated<G>>,
                        Vec<(u64, Option<i32>)>,
                    ),
                >;
                let mut pending: Pending<T, P::Genome> = BTreeMap::new();
                let workers_usize = workers as usize;
                // Set once the workers were told that the run ended.
                let mut ended_sent = false;
                move |(input, frontier), output| {
                    input.for_each_stamp(|capability, batches| {
                        for batch in batches {
                            for message in batch.drain(..) {
                                let generation = match &message {
                                    ToSelector::Evaluated(evaluated) => evaluated.generation,
                                    ToSelector::Vote { round, .. } => first_generation + round,
                                };
                                let entry = pending
                                    .entry(generation)
                                    .or_insert_with(|| (CapabilitySet::new(), Vec::new(), Vec::new()));
                                for cap in capability.retain_stamp(output.output_index()).iter() {
                                    entry.0.insert(cap.clone());
                                }
                                match message {
                                    ToSelector::Evaluated(evaluated) => entry.1.push(evaluated),
                                    ToSelector::Vote { worker, signal, .. } => entry.2.push((worker, signal)),
                                }
                            }
                        }
                    });
                    // Complete each generation that has every individual sent out and every
                    // worker's vote, or whose times the input frontier has passed.
                    let complete: Vec<u64> = pending
                        .iter()
                        .filter(|(generation, (caps, evaluated, votes))| {
                            let counted = votes.len() == workers_usize
                                && expected.borrow().get(generation) == Some(&evaluated.len());
                            counted || caps.iter().all(|cap| !frontier.less_equal(cap.time()))
                        })
                        .map(|(generation, _)| *generation)
                        .collect();
                    for generation in complete {
                        let (Some((caps, evaluated, mut votes)), Some(evolution)) =
                            (pending.remove(&generation), selector_state.as_mut())
                        else {
                            continue;
                        };
                        expected.borrow_mut().remove(&generation);
                        // The round after the last: workers that voted on it before they
                        // learnt that the run ended (harmless; nothing more follows).
                        if evaluated.is_empty() {
                            if let Some(stop) = finished_at_start.filter(|_| !ended_sent) {
                                // Round 0 of a run that was over before it started.
                                ended_sent = true;
                                let mut session = output.session(&caps);
                                for target in 0..workers {
                                    session.give(Selected::Ended(Ended { target, stop }));
                                }
                            }
                            continue;
                        }
                        votes.sort_unstable();
                        let interrupt = votes.iter().find_map(|(_, signal)| *signal);
                        let mut evaluations = 0;
                        let mut cache_hits = 0;
                        let mut by_slot = evaluated;
                        by_slot.sort_by_key(|e| e.slot);
                        let mut calibrate = router.borrow_mut();
                        let scored: Vec<Scored<P::Genome>> = by_slot
                            .into_iter()
                            .map(|e| {
                                if e.cache_hit {
                                    cache_hits += 1;
                                } else {
                                    evaluations += 1;
                                    calibrate.measured(&*selector_problem, &e.genome, e.seconds);
                                }
                                Scored {
                                    genome: e.genome,
                                    fitness: e.fitness,
                                    metrics: e.metrics,
                                }
                            })
                            .collect();
                        drop(calibrate);
                        let report = evolution.complete_or_interrupt(
                            &*selector_problem,
                            generation,
                            scored,
                            evaluations,
                            cache_hits,
                            interrupt,
                        );
                        let mut session = output.session(&caps);
                        match report.stats.stop {
                            None => {
                                let next = &report.checkpoint.population;
                                let routes = router.borrow_mut().route(&*selector_problem, next);
                                expected.borrow_mut().insert(generation + 1, next.len());
                                session.give_iterator(
                                    routed(generation + 1, next.iter().cloned(), routes).map(Selected::Next),
                                );
                            }
                            Some(stop) => {
                                ended_sent = true;
                                for target in 0..workers {
                                    session.give(Selected::Ended(Ended { target, stop }));
                                }
                            }
                        }
                        session.give(Selected::Report(Box::new(report)));
                    }
                }
            },
        );

        // A report is large but there is one per generation.
        type ReportOrEnded<G> = Result<GenerationReport<G>, Ended>;
        type Split<'a, T, G> = (
            StreamVec<'a, Product<T, u64>, Individual<G>>,
            StreamVec<'a, Product<T, u64>, ReportOrEnded<G>>,
        );
        #[allow(clippy::result_large_err)]
        let (next, rest): Split<'_, T, P::Genome> = selected.ok_err(|selected| match selected {
            Selected::Next(individual) => Ok(individual),
            Selected::Report(report) => Err(Ok(*report)),
            Selected::Ended(ended) => Err(Err(ended)),
        });
        next.connect_loop(handle);
        #[allow(clippy::result_large_err)]
        let (reports, ended): (StreamVec<'_, _, GenerationReport<P::Genome>>, StreamVec<'_, _, Ended>) =
            rest.ok_err(|report_or_ended| report_or_ended);
        let ended = ended.exchange(|ended: &Ended| ended.target);
        ended.clone().connect_loop(ended_handle);
        (reports.leave(scope), ended.leave(scope))
    });

    Ok(EvolutionStreams {
        reports,
        ended: ended.map(|ended: Ended| ended.stop),
    })
}
