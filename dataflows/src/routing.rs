//! `Router`: picks the worker that evaluates (and caches) each genome: sticky per genome, new genomes balanced by cost.

use std::collections::{HashMap, HashSet};

use crate::problem::Problem;

/// Assigns every individual of a generation the worker that evaluates it.
///
/// * **Sticky**: a genome seen before goes to the worker that evaluated it, whose cache holds
///   its fitness, so elites and repeats are never evaluated twice (as with routing by hash).
/// * **Balanced**: the genomes new in this generation are placed longest-first on the least
///   loaded worker (LPT scheduling) by [`Problem::cost`], ties broken by
///   [`Problem::genome_hash`], so a few expensive genomes do not pile up on one worker as
///   they can when routed by hash. Repeats are free (cache hits) and add no load.
///
/// Routing only decides where a fitness is computed, never its value, so results are the same
/// for any number of workers. The selector (worker 0) owns the router; it remembers every
/// genome routed in the run (one map entry each, like the workers' caches).
#[derive(Debug)]
pub struct Router<G> {
    workers: usize,
    routes: HashMap<G, u64>,
}

impl<G: crate::problem::Genome> Router<G> {
    /// A router over `workers` workers (at least one).
    pub fn new(workers: usize) -> Router<G> {
        Router {
            workers: workers.max(1),
            routes: HashMap::new(),
        }
    }

    /// The worker of each individual of `population`, by slot.
    pub fn route<P: Problem<Genome = G>>(&mut self, problem: &P, population: &[G]) -> Vec<u64> {
        let mut seen = HashSet::new();
        let mut fresh: Vec<(f64, u64, &G)> = population
            .iter()
            .filter(|g| !self.routes.contains_key(*g) && seen.insert(*g))
            .map(|g| {
                let cost = problem.cost(g);
                let cost = if cost.is_finite() && cost > 0.0 { cost } else { 1.0 };
                (cost, problem.genome_hash(g), g)
            })
            .collect();
        fresh.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then_with(|| a.2.cmp(b.2)));
        let mut load = vec![0.0f64; self.workers];
        for (cost, _, genome) in fresh {
            let (worker, _) = load
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
                .expect("at least one worker");
            load[worker] += cost;
            self.routes.insert(genome.clone(), worker as u64);
        }
        population.iter().map(|g| self.routes[g]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fitness::Fitness;
    use crate::rng::Rng;

    /// Genome g costs g.
    struct Weighted;

    impl Problem for Weighted {
        type Genome = u32;
        fn random_genome(&self, rng: &mut Rng) -> u32 {
            rng.below(100) as u32
        }
        fn mutate(&self, g: &u32, _rng: &mut Rng) -> u32 {
            *g
        }
        fn crossover(&self, a: &u32, _b: &u32, _rng: &mut Rng) -> u32 {
            *a
        }
        fn evaluate(&self, g: &u32) -> Fitness {
            Fitness::new(f64::from(*g))
        }
        fn cost(&self, g: &u32) -> f64 {
            f64::from(*g)
        }
    }

    fn loads(population: &[u32], routes: &[u64], workers: usize) -> Vec<f64> {
        let mut load = vec![0.0; workers];
        let mut counted = HashSet::new();
        for (g, w) in population.iter().zip(routes) {
            if counted.insert(*g) {
                load[*w as usize] += f64::from(*g);
            }
        }
        load
    }

    #[test]
    fn balances_expensive_genomes() {
        // One very expensive genome and many cheap ones: the expensive one gets a worker of
        // its own share.
        let population: Vec<u32> = std::iter::once(100).chain(1..=100).collect();
        let routes = Router::new(2).route(&Weighted, &population);
        let load = loads(&population, &routes, 2);
        let total: f64 = load.iter().sum();
        assert!(load.iter().all(|&l| (l - total / 2.0).abs() <= 100.0), "{load:?}");
        assert!(
            (load[0] - load[1]).abs() <= 1.0,
            "LPT on 1..=100 plus 100 is near exact: {load:?}"
        );
    }

    #[test]
    fn genomes_keep_their_worker_and_duplicates_share_one() {
        let mut router = Router::new(3);
        let first = router.route(&Weighted, &[5, 7, 5, 9]);
        assert_eq!(first[0], first[2], "duplicates in a generation share a worker");
        let second = router.route(&Weighted, &[9, 5, 11, 7]);
        assert_eq!(
            (second[0], second[1], second[3]),
            (first[3], first[0], first[1]),
            "sticky"
        );
        assert!(second.iter().all(|&w| w < 3));
    }

    #[test]
    fn deterministic_and_independent_of_order_of_calls_per_generation() {
        let population: Vec<u32> = (0..50).map(|i| (i * 37) % 23).collect();
        let a = Router::new(4).route(&Weighted, &population);
        let b = Router::new(4).route(&Weighted, &population);
        assert_eq!(a, b);
        assert!(Router::new(1).route(&Weighted, &population).iter().all(|&w| w == 0));
    }
}
