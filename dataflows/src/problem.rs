//! The `Problem` trait: what is evolved (genome, random genome, mutate, crossover, evaluate).

use std::fmt::Debug;
use std::hash::Hash;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::fitness::Fitness;
use crate::rng::Rng;
use crate::stable_hash::stable_hash;

/// A genome type usable by the evolution dataflow.
///
/// `Ord` gives the canonical order used to break fitness ties; `Hash + Eq` key the per-worker
/// fitness cache; `Serialize + DeserializeOwned` carry genomes between processes and into
/// checkpoints.
pub trait Genome: Clone + Ord + Hash + Debug + Serialize + DeserializeOwned + Send + Sync + 'static {}

impl<T> Genome for T where T: Clone + Ord + Hash + Debug + Serialize + DeserializeOwned + Send + Sync + 'static {}

/// What a genetic algorithm evolves, and how it is scored.
///
/// The evolution machinery knows nothing else about the problem. Contract:
/// * `evaluate` is a **pure function** of the genome: the same genome always gets the same
///   fitness, on every worker and process. Results are cached per worker, so an elite or a
///   duplicate is never evaluated twice by the same worker, and results never depend on
///   whether a value came from the cache.
/// * `random_genome`, `mutate` and `crossover` draw randomness only from the `rng` they are
///   given (seeded from (run seed, generation, slot)); never from a global generator.
/// * Nothing here may panic on a genome produced by the other methods.
///
/// ```
/// use evoflow_dataflows::{Fitness, Problem, Rng};
///
/// /// Maximise the number of ones in a 16-bit word.
/// struct OneMax;
///
/// impl Problem for OneMax {
///     type Genome = u16;
///     fn random_genome(&self, rng: &mut Rng) -> u16 { rng.next_u64() as u16 }
///     fn mutate(&self, g: &u16, rng: &mut Rng) -> u16 { g ^ (1 << rng.below(16)) }
///     fn crossover(&self, a: &u16, b: &u16, rng: &mut Rng) -> u16 {
///         let mask = rng.next_u64() as u16;
///         (a & mask) | (b & !mask)
///     }
///     fn evaluate(&self, g: &u16) -> Fitness { Fitness::new(g.count_ones() as f64) }
/// }
///
/// let mut rng = Rng::for_slot(1, 0, 0);
/// let g = OneMax.random_genome(&mut rng);
/// assert_eq!(OneMax.genome_hash(&g), OneMax.genome_hash(&g));
/// assert_eq!(OneMax.niche(&g), 0);
/// ```
pub trait Problem: Send + Sync + 'static {
    /// The evolved representation.
    type Genome: Genome;

    /// A random genome (used by default for the initial population, and by problems that
    /// restart a genome from scratch).
    fn random_genome(&self, rng: &mut Rng) -> Self::Genome;

    /// The genome of `slot` in the initial population; defaults to [`Problem::random_genome`].
    /// Override it to spread the initial population evenly, e.g. over niches by `slot`.
    fn initial_genome(&self, slot: usize, rng: &mut Rng) -> Self::Genome {
        let _ = slot;
        self.random_genome(rng)
    }

    /// A mutated copy of `genome`.
    fn mutate(&self, genome: &Self::Genome, rng: &mut Rng) -> Self::Genome;

    /// A child combining `a` (the first parent) and `b`.
    fn crossover(&self, a: &Self::Genome, b: &Self::Genome, rng: &mut Rng) -> Self::Genome;

    /// The fitness of `genome` (higher is better). May be expensive, e.g. a backtest.
    fn evaluate(&self, genome: &Self::Genome) -> Fitness;

    /// The fitness of `genome` and any numbers computed along the way that the caller wants
    /// with each individual (e.g. a backtest's return and drawdown). The evolution calls this
    /// (not [`Problem::evaluate`]); the metrics travel with the fitness through the cache and
    /// between processes into [`Scored::metrics`](crate::Scored::metrics), so the coordinator
    /// never recomputes them. Defaults to `evaluate` with no metrics; an override must give
    /// the same fitness as `evaluate`.
    fn evaluate_with_metrics(&self, genome: &Self::Genome) -> (Fitness, Vec<f64>) {
        (self.evaluate(genome), Vec::new())
    }

    /// Whether genomes `a` and `b`, of equal fitness and with these metrics from
    /// [`Problem::evaluate_with_metrics`], behave alike, so that the hall of fame keeps only
    /// one of them (for instance two strategies whose parameters differ where it makes no
    /// difference, so that they make the same trades). Defaults to never: every distinct
    /// genome counts.
    fn same_behaviour(&self, a: &Self::Genome, a_metrics: &[f64], b: &Self::Genome, b_metrics: &[f64]) -> bool {
        let _ = (a, a_metrics, b, b_metrics);
        false
    }

    /// The niche (family) of `genome`; defaults to a single niche `0`.
    ///
    /// With [`GaConfig::min_niche_share`](crate::GaConfig::min_niche_share) above zero, every
    /// niche present in the initial population is kept alive (see [`crate::selection`]).
    /// Variation of two parents of one niche is expected to stay in that niche.
    fn niche(&self, genome: &Self::Genome) -> u32 {
        let _ = genome;
        0
    }

    /// A hash of `genome` that is identical in every process: it orders equally costly new
    /// genomes when they are spread over the workers (see [`Router`](crate::Router)). The
    /// default is [`stable_hash`] over the genome's serialized bytes (never `std`'s randomly
    /// keyed hasher).
    fn genome_hash(&self, genome: &Self::Genome) -> u64 {
        stable_hash(genome)
    }

    /// A hash of everything besides the genome that evaluation and variation depend on (the
    /// data, the settings, the dimensions), identical in every process that builds the same
    /// problem. [`run`](crate::run()) refuses to start a cluster whose processes disagree on it
    /// (or on the [`GaConfig`](crate::GaConfig)), since their workers would score genomes
    /// differently and the result would depend on the topology. Defaults to 0: nothing to
    /// compare beyond the configuration. Use [`stable_hash`], never `std`'s keyed hashers.
    fn fingerprint(&self) -> u64 {
        0
    }

    /// The estimated cost of evaluating `genome`, relative to other genomes (default 1: all
    /// alike). New genomes are spread over the workers by it (longest first), so a problem
    /// whose evaluation cost varies widely by genome should return a rough estimate; it only
    /// changes which worker evaluates a genome, never a result.
    fn cost(&self, genome: &Self::Genome) -> f64 {
        let _ = genome;
        1.0
    }
}
