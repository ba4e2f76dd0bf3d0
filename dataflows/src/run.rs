//! `run` and `connect`: execute `evolve` on timely workers (threads, processes) and return the coordinator's result.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use timely::communication::AllocatorBuilder;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::Inspect;
use timely::WorkerConfig;

use crate::checkpoint::Checkpoint;
use crate::cluster::ClusterConfig;
use crate::config::GaConfig;
use crate::dataflow::{evolve_observed, DataflowError};
use crate::network::{build_communication, exit_on_lost_peer, panic_text};
use crate::observer::EvaluationObserver;
use crate::problem::{Genome, Problem};
use crate::report::{EvolutionResult, GenerationReport, ResultCollector};
use crate::stable_hash::stable_hash;
use crate::stop::{StopReason, StopSignal};

/// How long an idle worker parks before checking whether another worker failed.
const PARK: Duration = Duration::from_millis(50);

/// What [`run()`] returns in this process.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome<G: Genome> {
    /// This is process 0 (the coordinator): the run's result.
    Coordinator(Box<EvolutionResult<G>>),
    /// Another process of a cluster: the run ended; the coordinator has the result.
    NotCoordinator,
}

impl<G: Genome> RunOutcome<G> {
    /// The result, on the coordinator.
    pub fn into_result(self) -> Option<EvolutionResult<G>> {
        match self {
            RunOutcome::Coordinator(result) => Some(*result),
            RunOutcome::NotCoordinator => None,
        }
    }
}

/// How a run ended in this process ([`Connection::execute`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RunEnd<G: Genome> {
    /// Why the run stopped: the same on every process of the run (so a process that did not
    /// receive the stop request learns that the run was interrupted too).
    pub stop: StopReason,
    /// The run's result, on the coordinator (process 0) only.
    pub result: Option<Box<EvolutionResult<G>>>,
}

impl<G: Genome> RunEnd<G> {
    /// The exit status for a process of an interrupted run (`128 + signal`), `None` when the
    /// run ended by its own rule.
    pub fn exit_code(&self) -> Option<i32> {
        self.stop.exit_code()
    }

    /// The same end as the older [`RunOutcome`].
    pub fn into_outcome(self) -> RunOutcome<G> {
        match self.result {
            Some(result) => RunOutcome::Coordinator(result),
            None => RunOutcome::NotCoordinator,
        }
    }
}

/// Runs the genetic algorithm on the workers and processes described by `cluster`.
///
/// Validates `config`, `resume` and `cluster` before starting anything; in a cluster, connects
/// to the other processes within `cluster.connect_timeout` (clear error otherwise) and makes
/// the process exit with status 1 and a message if a peer is lost mid-run. It is [`connect`]
/// followed by [`Connection::run`], for callers with nothing to do in between. `on_generation` is
/// called on the coordinator (process 0, worker 0) after every generation, in order, e.g. to
/// draw progress and write the checkpoint. Every process must call `run` with the same
/// `config` and worker count, and a problem of the same [`Problem::fingerprint`]: processes
/// that differ in any of them refuse to connect
/// ([`ClusterError::WorkersDiffer`](crate::ClusterError::WorkersDiffer),
/// [`ClusterError::RunsDiffer`](crate::ClusterError::RunsDiffer)). Only the selector (worker 0
/// of process 0) reads `resume`; the other processes may pass `None`.
///
/// ```
/// use std::sync::Arc;
/// use evoflow_dataflows::{run, toy::Sphere, ClusterConfig, GaConfig};
///
/// let config = GaConfig { population: 16, generations: 4, seed: 1, ..GaConfig::default() };
/// let cluster = ClusterConfig { workers: 2, ..ClusterConfig::default() };
/// let mut seen = Vec::new();
/// let outcome = run(Arc::new(Sphere::new(2)), &config, &cluster, None, move |report| {
///     seen.push(report.stats.generation);
/// })
/// .unwrap();
/// let result = outcome.into_result().expect("single process is the coordinator");
/// assert_eq!(result.stats.len(), 4);
/// ```
pub fn run<P, F>(
    problem: Arc<P>,
    config: &GaConfig,
    cluster: &ClusterConfig,
    resume: Option<Checkpoint<P::Genome>>,
    on_generation: F,
) -> Result<RunOutcome<P::Genome>, DataflowError>
where
    P: Problem,
    F: FnMut(&GenerationReport<P::Genome>) + Send + 'static,
{
    config.validate().map_err(crate::checkpoint::ResumeError::from)?;
    if let Some(checkpoint) = &resume {
        checkpoint.check_resumable(config)?;
    }
    connect(problem, config, cluster)?.run(resume, on_generation)
}

/// Connects this process to the others of `cluster` for a run of `config` on `problem`: the
/// first half of [`run()`]. Validates `config` and `cluster`; in a cluster, every process
/// announces its worker count and a fingerprint of `config` and `problem`
/// ([`Problem::fingerprint`]), and this returns once all of them have connected and agree
/// (within `cluster.connect_timeout`). Work that must wait until every process has started,
/// such as process 0 opening for writing a store the others read their input from, goes
/// between this and [`Connection::run`].
///
/// Dropping a `Connection` of a cluster without running it keeps its network threads, so
/// that the other processes see this one as lost (and stop) when it exits rather than
/// waiting for a run that never starts.
///
/// ```
/// use std::sync::Arc;
/// use evoflow_dataflows::{connect, run, toy::Sphere, ClusterConfig, GaConfig};
///
/// let config = GaConfig { population: 16, generations: 3, seed: 2, ..GaConfig::default() };
/// let cluster = ClusterConfig { workers: 2, ..ClusterConfig::default() };
/// let connection = connect(Arc::new(Sphere::new(2)), &config, &cluster).unwrap();
/// // Every process has connected: open what the others must not see opened earlier.
/// let split = connection.run(None, |_| {}).unwrap().into_result().unwrap();
/// let whole = run(Arc::new(Sphere::new(2)), &config, &cluster, None, |_| {}).unwrap();
/// assert_eq!(split.hall_of_fame, whole.into_result().unwrap().hall_of_fame);
/// ```
pub fn connect<P: Problem>(
    problem: Arc<P>,
    config: &GaConfig,
    cluster: &ClusterConfig,
) -> Result<Connection<P>, DataflowError> {
    config.validate().map_err(crate::checkpoint::ResumeError::from)?;
    cluster.validate()?;
    if cluster.processes > 1 {
        exit_on_lost_peer();
    }
    // Every process must run the same evolution: the peers compare this when they connect.
    let fingerprint = stable_hash(&(config, problem.fingerprint()));
    let (builders, others) = build_communication(cluster, fingerprint)?;
    Ok(Connection {
        problem,
        config: config.clone(),
        coordinator_process: cluster.is_coordinator(),
        in_cluster: cluster.processes > 1,
        peers: cluster.processes.saturating_sub(1),
        network: Some((builders, others)),
        stop: StopSignal::new(),
        observer: None,
    })
}

/// A process connected to the others of its cluster for one run ([`connect`]).
pub struct Connection<P: Problem> {
    problem: Arc<P>,
    config: GaConfig,
    coordinator_process: bool,
    in_cluster: bool,
    /// The other processes of the run.
    peers: usize,
    /// The workers' allocators and the guard of the network threads (taken by `run`).
    network: Option<(Vec<AllocatorBuilder>, Box<dyn Any + Send>)>,
    /// Read at every generation boundary ([`Connection::stop_on`]).
    stop: StopSignal,
    /// Hears from this process's workers ([`Connection::observe`]).
    observer: Option<Arc<dyn EvaluationObserver>>,
}

impl<P: Problem> Drop for Connection<P> {
    fn drop(&mut self) {
        // Unused: dropping the allocators would end the streams to the peers cleanly (they
        // would wait for this process forever) and dropping the guard would join the network
        // threads (waiting for peers that wait for this process). Keep both until exit.
        if let Some(network) = self.network.take().filter(|_| self.in_cluster) {
            std::mem::forget(network);
        }
    }
}

impl<P: Problem> Connection<P> {
    /// Makes the run stop at a generation boundary when `stop` is requested in this process
    /// (e.g. by [`StopSignal::on_termination_signals`]) or its counterpart in any other process
    /// of the cluster: every process stops after the same generation, whose report (with its
    /// checkpoint) is the last `on_generation` sees, and [`Connection::execute`] returns
    /// [`StopReason::Interrupted`] on every process. Without it, the run never stops early.
    pub fn stop_on(mut self, stop: StopSignal) -> Connection<P> {
        self.stop = stop;
        self
    }

    /// Makes every worker of this process report its evaluation work to `observer` (see
    /// [`crate::observer`]); without it the workers report nothing (they time only their
    /// evaluations, for routing).
    pub fn observe(mut self, observer: Arc<dyn EvaluationObserver>) -> Connection<P> {
        self.observer = Some(observer);
        self
    }

    /// The number of processes of the run other than this one, all connected once
    /// [`connect`] has returned.
    pub fn peers(&self) -> usize {
        self.peers
    }

    /// Runs the evolution this process connected for, from `resume` when given (read by the
    /// selector only): the second half of [`run()`], with the same `on_generation` and result.
    /// The result of an interrupted run ([`Connection::stop_on`]) has
    /// [`StopReason::Interrupted`] as its `stop`; [`Connection::execute`] tells the other
    /// processes too.
    pub fn run<F>(
        self,
        resume: Option<Checkpoint<P::Genome>>,
        on_generation: F,
    ) -> Result<RunOutcome<P::Genome>, DataflowError>
    where
        F: FnMut(&GenerationReport<P::Genome>) + Send + 'static,
    {
        self.execute(resume, on_generation).map(RunEnd::into_outcome)
    }

    /// [`Connection::run`], telling every process why the run ended ([`RunEnd::stop`]).
    ///
    /// A `resume` checkpoint whose stopping rule already holds (a complete run) runs no
    /// generation: `on_generation` is never called, every process ends with that rule's
    /// reason, and [`RunEnd::result`] is `None` on the coordinator too (its caller holds the
    /// checkpoint). This lets a supervisor start every process of a finished run again.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use evoflow_dataflows::{connect, toy::Sphere, ClusterConfig, GaConfig, StopReason, StopSignal};
    ///
    /// let config = GaConfig { population: 16, generations: 1000, seed: 2, ..GaConfig::default() };
    /// let cluster = ClusterConfig { workers: 2, ..ClusterConfig::default() };
    /// let stop = StopSignal::new();
    /// let asker = stop.clone();
    /// let end = connect(Arc::new(Sphere::new(2)), &config, &cluster)
    ///     .unwrap()
    ///     .stop_on(stop)
    ///     .execute(None, move |report| {
    ///         if report.stats.generation == 2 {
    ///             asker.request(15); // as SIGTERM would
    ///         }
    ///     })
    ///     .unwrap();
    /// assert_eq!(end.stop, StopReason::Interrupted { signal: 15 });
    /// assert_eq!(end.exit_code(), Some(143));
    /// let result = end.result.expect("single process is the coordinator");
    /// // Stopped at a boundary after the request: its checkpoint resumes the run exactly.
    /// let last = result.stats.last().unwrap().generation;
    /// assert!(last >= 3 && last < 1000);
    /// assert_eq!(result.last_checkpoint.generation, last + 1);
    /// ```
    pub fn execute<F>(
        mut self,
        resume: Option<Checkpoint<P::Genome>>,
        on_generation: F,
    ) -> Result<RunEnd<P::Genome>, DataflowError>
    where
        F: FnMut(&GenerationReport<P::Genome>) + Send + 'static,
    {
        if let Some(checkpoint) = &resume {
            checkpoint.check_compatible(&self.config)?;
        }
        let over_at_start = resume
            .as_ref()
            .is_some_and(|c| crate::checkpoint::stop_reason(&self.config, &c.best_history).is_some());
        let Some((builders, others)) = self.network.take() else {
            return Err(DataflowError::NoResult);
        };
        let problem = Arc::clone(&self.problem);
        let coordinator_process = self.coordinator_process;
        let config = self.config.clone();
        let stop = self.stop.clone();
        let observer = self.observer.clone();
        let callback = Arc::new(Mutex::new(Some(on_generation)));

        // Set when a worker of this process fails, so the others stop instead of waiting for it.
        let failed = Arc::new(AtomicBool::new(false));

        let guards = timely::execute::execute_from(builders, others, WorkerConfig::default(), move |worker| {
            let index = worker.index();
            let is_coordinator = index == 0;
            let mut callback = if is_coordinator {
                callback.lock().ok().and_then(|mut slot| slot.take())
            } else {
                None
            };
            let collector: Rc<RefCell<ResultCollector<P::Genome>>> = Rc::new(RefCell::new(ResultCollector::default()));
            let sink = Rc::clone(&collector);
            let ended: Rc<RefCell<Option<StopReason>>> = Rc::default();
            let ended_sink = Rc::clone(&ended);
            let stop = stop.clone();
            let observer = observer.clone();
            let problem = Arc::clone(&problem);
            let config = &config;
            let resume = &resume;
            let failed = &failed;
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                worker.dataflow::<u64, _, _>(|scope| {
                    let streams = evolve_observed(scope, problem, config, resume.clone(), stop, observer)?;
                    // Takes each report (no copy): the callback sees it, then the result keeps it.
                    streams.reports.sink(Pipeline, "Collect", move |(input, _frontier)| {
                        input.for_each(|_, reports: &mut Vec<GenerationReport<P::Genome>>| {
                            for report in reports.drain(..) {
                                if let Some(callback) = callback.as_mut() {
                                    callback(&report);
                                }
                                sink.borrow_mut().push(report);
                            }
                        });
                    });
                    streams.ended.inspect(move |reason: &StopReason| {
                        *ended_sink.borrow_mut() = Some(*reason);
                    });
                    Ok::<(), DataflowError>(())
                })?;
                while worker.has_dataflows() {
                    if failed.load(Ordering::SeqCst) {
                        return Err(DataflowError::WorkerFailed {
                            worker: index,
                            message: "stopped because another worker failed".into(),
                        });
                    }
                    worker.step_or_park(Some(PARK));
                }
                Ok(())
            }));
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(payload) => {
                    failed.store(true, Ordering::SeqCst);
                    Err(DataflowError::WorkerFailed {
                        worker: index,
                        message: panic_text(payload.as_ref()),
                    })
                }
            };
            if outcome.is_err() {
                // Nothing more can complete; drop the dataflow so timely does not wait for it.
                for dataflow in worker.installed_dataflows() {
                    worker.drop_dataflow(dataflow);
                }
            }
            outcome?;
            let collected = std::mem::take(&mut *collector.borrow_mut());
            let ended = ended.borrow_mut().take();
            Ok::<_, DataflowError>((if is_coordinator { collected.finish() } else { None }, ended))
        })
        .map_err(DataflowError::Timely)?;

        let mut result = None;
        let mut stop = None;
        let mut errors = Vec::new();
        for (worker, joined) in guards.join().into_iter().enumerate() {
            match joined {
                Ok(Ok((evolution, ended))) => {
                    result = result.or(evolution);
                    stop = stop.or(ended);
                }
                Ok(Err(error)) => errors.push(error),
                Err(message) => errors.push(DataflowError::WorkerFailed { worker, message }),
            }
        }
        // Report the worker that failed rather than those that stopped because of it.
        let is_secondary = |e: &DataflowError| matches!(e, DataflowError::WorkerFailed { message, .. } if message.starts_with("stopped because"));
        if let Some(index) =
            errors
                .iter()
                .position(|e| !is_secondary(e))
                .or(if errors.is_empty() { None } else { Some(0) })
        {
            return Err(errors.swap_remove(index));
        }
        let stop = stop.ok_or(DataflowError::NoResult)?;
        if !coordinator_process || over_at_start {
            return Ok(RunEnd { stop, result: None });
        }
        let result = result.ok_or(DataflowError::NoResult)?;
        Ok(RunEnd {
            stop,
            result: Some(Box::new(result)),
        })
    }
}
