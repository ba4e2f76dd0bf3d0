//! `Scored`: a genome with its fitness and metrics, and how metrics compare.

use serde::{Deserialize, Serialize};

use crate::fitness::Fitness;
use crate::problem::Genome;

/// A genome with its fitness and the metrics its evaluation reported
/// ([`Problem::evaluate_with_metrics`](crate::Problem::evaluate_with_metrics)).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "G: Genome")]
pub struct Scored<G: Genome> {
    /// The genome.
    pub genome: G,
    /// Its fitness.
    pub fitness: Fitness,
    /// Problem-defined numbers computed with the fitness (empty by default).
    #[serde(default)]
    pub metrics: Vec<f64>,
}

impl<G: Genome> Scored<G> {
    /// A scored genome without metrics.
    pub fn new(genome: G, fitness: Fitness) -> Scored<G> {
        Scored {
            genome,
            fitness,
            metrics: Vec::new(),
        }
    }
}

/// Metrics compare by bit pattern, so a NaN metric equals itself and populations compare
/// exactly.
impl<G: Genome> PartialEq for Scored<G> {
    fn eq(&self, other: &Self) -> bool {
        self.genome == other.genome && self.fitness == other.fitness && same_metrics(&self.metrics, &other.metrics)
    }
}

/// Whether two metric vectors are equal: bit for bit (`0.0` is not `-0.0`), except that any
/// NaN equals any NaN (a NaN's payload does not survive every serialisation).
pub fn same_metrics(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()))
}

impl<G: Genome> Eq for Scored<G> {}
