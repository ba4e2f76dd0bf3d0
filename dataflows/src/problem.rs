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

    /// A random genome for the initial population.
    fn random_genome(&self, rng: &mut Rng) -> Self::Genome;

    /// A mutated copy of `genome`.
    fn mutate(&self, genome: &Self::Genome, rng: &mut Rng) -> Self::Genome;

    /// A child combining `a` (the first parent) and `b`.
    fn crossover(&self, a: &Self::Genome, b: &Self::Genome, rng: &mut Rng) -> Self::Genome;

    /// The fitness of `genome` (higher is better). May be expensive, e.g. a backtest.
    fn evaluate(&self, genome: &Self::Genome) -> Fitness;

    /// The niche (family) of `genome`; defaults to a single niche `0`.
    ///
    /// With [`GaConfig::min_niche_share`](crate::GaConfig::min_niche_share) above zero, every
    /// niche present in the initial population is kept alive (see [`crate::selection`]).
    /// Variation of two parents of one niche is expected to stay in that niche.
    fn niche(&self, genome: &Self::Genome) -> u32 {
        let _ = genome;
        0
    }

    /// The hash that routes `genome` to the worker that evaluates (and caches) it.
    ///
    /// Must be identical in every process; the default is [`stable_hash`] over the genome's
    /// serialized bytes (never `std`'s randomly keyed hasher).
    fn genome_hash(&self, genome: &Self::Genome) -> u64 {
        stable_hash(genome)
    }
}
