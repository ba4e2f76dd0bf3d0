//! Toy problems (sphere, Rastrigin, a sphere with families) for tests, benches and examples.
//!
//! Genomes are coordinates quantised to integers (`x = units / 1000`), so they are `Ord` and
//! `Hash` and every process computes bit-identical fitness values.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::fitness::Fitness;
use crate::problem::Problem;
use crate::rng::Rng;
use crate::stable_hash::stable_hash;

/// Units per coordinate unit: genomes store `round(x * SCALE)`.
pub const SCALE: f64 = 1000.0;

/// Spins for `cost` (a stand-in for an expensive evaluation such as a backtest).
fn busy_wait(cost: Duration) {
    if cost.is_zero() {
        return;
    }
    let start = Instant::now();
    while start.elapsed() < cost {
        std::hint::spin_loop();
    }
}

/// A box of real vectors `[-bound, bound]^dims` with Gaussian mutation and uniform crossover.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RealBox {
    /// Number of coordinates.
    pub dims: usize,
    /// Half-width of the box.
    pub bound: f64,
    /// Mutation standard deviation (in coordinate units).
    pub sigma: f64,
}

impl RealBox {
    fn limit(&self) -> i64 {
        (self.bound * SCALE).round() as i64
    }

    /// A uniform random point.
    pub fn random(&self, rng: &mut Rng) -> Vec<i64> {
        let limit = self.limit();
        (0..self.dims).map(|_| rng.range_i64(-limit, limit)).collect()
    }

    /// Perturbs each coordinate with probability `1/dims` (at least one) by N(0, sigma).
    pub fn mutate(&self, genome: &[i64], rng: &mut Rng) -> Vec<i64> {
        let limit = self.limit();
        let forced = rng.index(genome.len().max(1));
        let rate = 1.0 / genome.len().max(1) as f64;
        genome
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                if i == forced || rng.chance(rate) {
                    let step = (rng.gaussian() * self.sigma * SCALE).round() as i64;
                    (x + step).clamp(-limit, limit)
                } else {
                    x
                }
            })
            .collect()
    }

    /// Takes each coordinate from `a` or `b` with equal probability.
    pub fn crossover(&self, a: &[i64], b: &[i64], rng: &mut Rng) -> Vec<i64> {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| if rng.chance(0.5) { x } else { y })
            .collect()
    }
}

/// Coordinates as `f64`.
fn coordinates(genome: &[i64]) -> impl Iterator<Item = f64> + '_ {
    genome.iter().map(|&u| u as f64 / SCALE)
}

/// Maximise `-(x1² + ... + xn²)` on `[-5.12, 5.12]^n` (optimum 0 at the origin); reports the
/// distance to the origin as its one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Sphere {
    /// The search space and variation.
    pub space: RealBox,
    /// Simulated evaluation cost (busy wait).
    pub eval_cost: Duration,
}

impl Sphere {
    /// A sphere in `dims` dimensions with free evaluation.
    pub fn new(dims: usize) -> Sphere {
        Sphere {
            space: RealBox {
                dims,
                bound: 5.12,
                sigma: 0.3,
            },
            eval_cost: Duration::ZERO,
        }
    }

    /// The same problem with a simulated evaluation cost.
    pub fn with_eval_cost(mut self, cost: Duration) -> Sphere {
        self.eval_cost = cost;
        self
    }
}

impl Problem for Sphere {
    type Genome = Vec<i64>;

    fn random_genome(&self, rng: &mut Rng) -> Vec<i64> {
        self.space.random(rng)
    }

    fn mutate(&self, genome: &Vec<i64>, rng: &mut Rng) -> Vec<i64> {
        self.space.mutate(genome, rng)
    }

    fn crossover(&self, a: &Vec<i64>, b: &Vec<i64>, rng: &mut Rng) -> Vec<i64> {
        self.space.crossover(a, b, rng)
    }

    fn evaluate(&self, genome: &Vec<i64>) -> Fitness {
        busy_wait(self.eval_cost);
        Fitness::new(-coordinates(genome).map(|x| x * x).sum::<f64>())
    }

    /// The space (not the simulated cost, which changes no result).
    fn fingerprint(&self) -> u64 {
        stable_hash(&("sphere", &self.space))
    }

    /// The fitness, with one metric: the distance to the origin.
    fn evaluate_with_metrics(&self, genome: &Vec<i64>) -> (Fitness, Vec<f64>) {
        let fitness = self.evaluate(genome);
        (fitness, vec![(-fitness.value()).sqrt()])
    }
}

/// Maximise `-(10n + Σ (xi² - 10 cos 2πxi))` on `[-5.12, 5.12]^n` (optimum 0 at the origin).
#[derive(Debug, Clone, PartialEq)]
pub struct Rastrigin {
    /// The search space and variation.
    pub space: RealBox,
}

impl Rastrigin {
    /// Rastrigin in `dims` dimensions.
    pub fn new(dims: usize) -> Rastrigin {
        Rastrigin {
            space: RealBox {
                dims,
                bound: 5.12,
                sigma: 0.5,
            },
        }
    }
}

impl Problem for Rastrigin {
    type Genome = Vec<i64>;

    fn random_genome(&self, rng: &mut Rng) -> Vec<i64> {
        self.space.random(rng)
    }

    fn mutate(&self, genome: &Vec<i64>, rng: &mut Rng) -> Vec<i64> {
        self.space.mutate(genome, rng)
    }

    fn crossover(&self, a: &Vec<i64>, b: &Vec<i64>, rng: &mut Rng) -> Vec<i64> {
        self.space.crossover(a, b, rng)
    }

    fn evaluate(&self, genome: &Vec<i64>) -> Fitness {
        let n = genome.len() as f64;
        let sum: f64 = coordinates(genome)
            .map(|x| x * x - 10.0 * (std::f64::consts::TAU * x).cos())
            .sum();
        Fitness::new(-(10.0 * n + sum))
    }

    fn fingerprint(&self) -> u64 {
        stable_hash(&("rastrigin", &self.space))
    }
}

/// A sphere with `families` niches: family `f` pays a handicap `f * handicap`, so without
/// niche protection the weaker families die out. Variation keeps the first parent's family.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySphere {
    /// The search space and variation.
    pub space: RealBox,
    /// Number of families (niches `0 .. families`).
    pub families: u32,
    /// Fitness handicap per family index.
    pub handicap: f64,
}

impl FamilySphere {
    /// `families` families in `dims` dimensions.
    pub fn new(dims: usize, families: u32, handicap: f64) -> FamilySphere {
        FamilySphere {
            space: RealBox {
                dims,
                bound: 5.12,
                sigma: 0.3,
            },
            families: families.max(1),
            handicap,
        }
    }
}

impl Problem for FamilySphere {
    type Genome = (u32, Vec<i64>);

    fn random_genome(&self, rng: &mut Rng) -> (u32, Vec<i64>) {
        (rng.below(self.families as u64) as u32, self.space.random(rng))
    }

    fn mutate(&self, genome: &(u32, Vec<i64>), rng: &mut Rng) -> (u32, Vec<i64>) {
        (genome.0, self.space.mutate(&genome.1, rng))
    }

    fn crossover(&self, a: &(u32, Vec<i64>), b: &(u32, Vec<i64>), rng: &mut Rng) -> (u32, Vec<i64>) {
        (a.0, self.space.crossover(&a.1, &b.1, rng))
    }

    fn evaluate(&self, genome: &(u32, Vec<i64>)) -> Fitness {
        let sphere: f64 = coordinates(&genome.1).map(|x| x * x).sum();
        Fitness::new(-(sphere + genome.0 as f64 * self.handicap))
    }

    fn niche(&self, genome: &(u32, Vec<i64>)) -> u32 {
        genome.0
    }

    fn fingerprint(&self) -> u64 {
        stable_hash(&("family_sphere", &self.space, self.families, self.handicap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimum_scores_zero_and_space_is_respected() {
        assert_eq!(Sphere::new(3).evaluate(&vec![0, 0, 0]), Fitness::new(0.0));
        assert!(Rastrigin::new(2).evaluate(&vec![0, 0]).value().abs() < 1e-12);
        assert_eq!(Sphere::new(1).evaluate(&vec![2000]), Fitness::new(-4.0));
        let space = RealBox {
            dims: 4,
            bound: 1.0,
            sigma: 10.0,
        };
        let mut rng = Rng::from_seed(3);
        let mut g = space.random(&mut rng);
        for _ in 0..100 {
            g = space.mutate(&g, &mut rng);
            assert!(g.iter().all(|&x| (-1000..=1000).contains(&x)));
        }
    }
}
