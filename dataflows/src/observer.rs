//! `EvaluationObserver`: a hook through which each worker reports its evaluation work (counts, cache hits, busy time) to whatever watches the run.
//!
//! The dataflow calls a [`WorkerObserver`] of its own on every worker: once per evaluation
//! (with the genome's niche and how long it took), once per cache hit, once per activation of
//! the `Evaluate` operator that did work (with how long it was busy), and once each time the
//! worker has evaluated its share of a generation. Those calls run in the hot loop, on the
//! worker's thread, so an implementation should keep plain worker-local counters and publish
//! them elsewhere (a metrics registry, a log) only in
//! [`WorkerObserver::generation_evaluated`], once per generation. Every method has a no-op
//! default; without an observer ([`Connection::observe`](crate::Connection::observe),
//! [`evolve_observed`](crate::evolve_observed)) the dataflow only times each evaluation (a
//! cache miss) for its routing, and times nothing else.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//! use evoflow_dataflows::{connect, toy::Sphere, ClusterConfig, EvaluationObserver, GaConfig, WorkerObserver};
//!
//! /// Adds up every worker's evaluations and cache hits at each generation it finishes.
//! #[derive(Default)]
//! struct Totals(Arc<Mutex<(u64, u64)>>);
//!
//! struct Local {
//!     evaluations: u64,
//!     cache_hits: u64,
//!     totals: Arc<Mutex<(u64, u64)>>,
//! }
//!
//! impl WorkerObserver for Local {
//!     fn evaluated(&mut self, _niche: u32, _took: Duration) {
//!         self.evaluations += 1;
//!     }
//!     fn cache_hit(&mut self) {
//!         self.cache_hits += 1;
//!     }
//!     fn generation_evaluated(&mut self, _generation: u64) {
//!         let mut totals = self.totals.lock().unwrap();
//!         totals.0 += std::mem::take(&mut self.evaluations);
//!         totals.1 += std::mem::take(&mut self.cache_hits);
//!     }
//! }
//!
//! impl EvaluationObserver for Totals {
//!     fn worker(&self, _worker: u64) -> Box<dyn WorkerObserver> {
//!         Box::new(Local { evaluations: 0, cache_hits: 0, totals: Arc::clone(&self.0) })
//!     }
//! }
//!
//! let config = GaConfig { population: 16, generations: 5, seed: 4, ..GaConfig::default() };
//! let cluster = ClusterConfig { workers: 2, ..ClusterConfig::default() };
//! let totals = Totals::default();
//! let seen = Arc::clone(&totals.0);
//! let result = connect(Arc::new(Sphere::new(2)), &config, &cluster)
//!     .unwrap()
//!     .observe(Arc::new(totals))
//!     .run(None, |_| {})
//!     .unwrap()
//!     .into_result()
//!     .unwrap();
//! let evaluations: u64 = result.stats.iter().map(|s| s.evaluations).sum();
//! let cache_hits: u64 = result.stats.iter().map(|s| s.cache_hits).sum();
//! assert_eq!(*seen.lock().unwrap(), (evaluations, cache_hits));
//! ```

use std::time::Duration;

/// Makes the per-worker observers of a run; shared by every worker of a process.
pub trait EvaluationObserver: Send + Sync + 'static {
    /// The observer of worker `worker` (its index among all workers of all processes),
    /// made on that worker's thread when the dataflow is built.
    fn worker(&self, worker: u64) -> Box<dyn WorkerObserver>;
}

/// One worker's observer, called from its `Evaluate` operator (see the module docs).
pub trait WorkerObserver {
    /// A genome of niche `niche` ([`Problem::niche`](crate::Problem::niche)) was evaluated
    /// (a cache miss), which took `took`.
    fn evaluated(&mut self, niche: u32, took: Duration) {
        let _ = (niche, took);
    }

    /// A fitness was served from this worker's cache.
    fn cache_hit(&mut self) {}

    /// The worker spent `busy` on one activation of its `Evaluate` operator that had genomes
    /// to score (evaluations, cache look-ups, handing results on): its busy time is the sum.
    fn busy(&mut self, busy: Duration) {
        let _ = busy;
    }

    /// The worker has evaluated its whole share of generation `generation` (the newest
    /// generation it received genomes of): the moment to publish what it counted.
    fn generation_evaluated(&mut self, generation: u64) {
        let _ = generation;
    }
}

/// An observer that records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl WorkerObserver for NoObserver {}

impl EvaluationObserver for NoObserver {
    fn worker(&self, _worker: u64) -> Box<dyn WorkerObserver> {
        Box::new(NoObserver)
    }
}
