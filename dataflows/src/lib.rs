//! A generic genetic algorithm as an iterative timely dataflow.
//!
//! The crate knows nothing of trading: a user describes what is evolved with the [`Problem`]
//! trait (genome type, random genome, mutation, crossover, evaluation, optional niche), picks
//! parameters in a [`GaConfig`], and either
//! * calls [`run()`] with a [`ClusterConfig`] (timely's `-w/-n/-p/-h/-z` flags) to execute the
//!   run on threads and processes and get the coordinator's [`EvolutionResult`], or
//! * calls [`evolve`] inside their own timely dataflow and consumes the per-generation
//!   [`GenerationStats`], hall-of-fame and [`Checkpoint`] streams, or
//! * calls [`run_sequential`], a plain loop with the same semantics (the test oracle).
//!
//! **Determinism.** Every random draw comes from [`Rng::for_slot`]`(seed, generation, slot)`
//! and each generation is put in a canonical order (fitness descending, genome ascending)
//! before selection, so a seed gives the same populations at any number of workers and
//! processes, with or without `-z`, and after resuming a checkpoint.
//!
//! # Clusters and failures
//!
//! [`ClusterConfig`] holds timely's `-w/--threads`, `-n/--processes`, `-p/--process`,
//! `-h/--hostfile`, `-z/--zerocopy` (and `-r/--report`) plus `--connect-timeout` (default
//! 60 s); [`ClusterConfig::parse_args`] extracts them from an argument list and
//! [`ClusterConfig::validate`] checks them and the hostfile (errors name the file and line).
//! [`run()`] connects the processes within the timeout (`could not connect to process 1 at
//! host:port within 60 s` instead of timely's endless retries), returns
//! [`RunOutcome::Coordinator`] on process 0 and [`RunOutcome::NotCoordinator`] elsewhere.
//! It is [`connect`] then [`Connection::run`]: a caller with work that must wait until every
//! process has connected (evoflow's process 0 opens storage for writing there) calls the two.
//! A peer that connected and then leaves while the others still connect (it refused another
//! process, or died) stops them at once (`process N (at host:port) left before the run
//! started`). If a peer process dies mid-run, the survivors print `error: lost the connection
//! to process N (...)` and exit with status 1; if a worker thread panics in a single process,
//! the other workers stop and [`run()`] returns [`DataflowError::WorkerFailed`].
//!
//! # Stopping a run
//!
//! A [`StopSignal`] ([`StopSignal::on_termination_signals`] sets it on SIGTERM/SIGINT, and a
//! second such signal exits at once with 128 + signal) given to [`Connection::stop_on`] (or
//! [`evolve_stoppable`], [`run_sequential_stoppable`]) stops the run at the next generation
//! boundary: every worker reads its process's flag when it has evaluated its share of a
//! generation and sends it with that generation's results to the selector, which stops after
//! that generation if any worker of any process saw a request. So every process stops after
//! the same generation, its report (with the checkpoint that resumes the run exactly) is the
//! last `on_generation` sees, and [`Connection::execute`] returns
//! [`StopReason::Interrupted`]`{ signal }` in [`RunEnd::stop`] on every process
//! ([`RunEnd::exit_code`] is 128 + signal). [`Connection::run`] and [`run()`] are
//! `execute` without the other processes' stop reason.
//!
//! # Watching the workers
//!
//! An [`EvaluationObserver`] given to [`Connection::observe`] (or [`evolve_observed`]) hears
//! from every worker of the process: each evaluation with its niche and duration, each cache
//! hit, its busy time, and the end of its share of each generation, when it should publish
//! what it counted worker-locally (see [`observer`]). evoflow's Prometheus metrics are built
//! on it; the crate itself depends on no metrics library.
//!
//! # Embedding `evolve` in your own dataflow
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use timely::dataflow::operators::Inspect;
//! use evoflow_dataflows::{evolve, toy::Sphere, GaConfig, GenerationStats};
//!
//! let config = GaConfig { population: 20, generations: 10, seed: 42, ..GaConfig::default() };
//! let seen: Arc<Mutex<Vec<GenerationStats>>> = Arc::default();
//! let sink = Arc::clone(&seen);
//! timely::example(move |scope| {
//!     let streams = evolve(scope, Arc::new(Sphere::new(3)), &config, None).expect("valid config");
//!     streams.stats().inspect(move |s: &GenerationStats| {
//!         println!("generation {} best {}", s.generation, s.best);
//!         sink.lock().unwrap().push(s.clone());
//!     });
//! });
//! let stats = seen.lock().unwrap();
//! assert_eq!(stats.len(), 10);
//! assert!(stats.windows(2).all(|w| w[1].generation == w[0].generation + 1));
//! // Elitism never loses the best individual: best-of-generation never gets worse.
//! assert!(stats.windows(2).all(|w| w[1].best >= w[0].best));
//! ```

pub mod checkpoint;
pub mod cluster;
pub mod config;
pub mod dataflow;
pub mod evolution;
pub mod fitness;
pub mod hall_of_fame;
pub mod network;
pub mod observer;
pub mod problem;
pub mod report;
pub mod rng;
pub mod routing;
pub mod run;
pub mod scored;
pub mod selection;
pub mod sequential;
pub mod stable_hash;
pub mod stop;
pub mod toy;

pub use checkpoint::{stop_reason, Checkpoint, ResumeError};
pub use cluster::{ClusterConfig, ClusterError};
pub use config::{ConfigError, GaConfig};
pub use dataflow::{evolve, evolve_observed, evolve_stoppable, DataflowError, EvolutionStreams};
pub use fitness::Fitness;
pub use hall_of_fame::{HallOfFame, HallOfFameEntry};
pub use observer::{EvaluationObserver, NoObserver, WorkerObserver};
pub use problem::{Genome, Problem};
pub use report::{same_metrics, EvolutionResult, GenerationReport, GenerationStats, NicheCount, Scored, StopReason};
pub use rng::Rng;
pub use routing::Router;
pub use run::{connect, run, Connection, RunEnd, RunOutcome};
pub use sequential::{run_sequential, run_sequential_stoppable};
pub use stable_hash::stable_hash;
pub use stop::{StopSignal, SIGINT, SIGTERM};
