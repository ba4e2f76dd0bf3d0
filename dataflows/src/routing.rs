//! `Router`: picks the worker that evaluates (and caches) each genome: sticky per genome, new genomes balanced by cost calibrated with measured evaluation times.

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
/// * **Calibrated**: [`Problem::cost`] is a model; the evaluations measured so far
///   ([`Router::measured`]) scale it per niche (measured seconds / modelled cost of that
///   niche's evaluations; niches not measured yet take the ratio over all niches), so a
///   family whose model is off by 10x still gets its share of the workers.
///
/// Routing only decides where a fitness is computed, never its value, so results are the same
/// for any number of workers. The selector (worker 0) owns the router; it remembers every
/// genome routed in the run (one map entry each, like the workers' caches).
#[derive(Debug)]
pub struct Router<G> {
    workers: usize,
    routes: HashMap<G, u64>,
    /// Per niche: (measured seconds, modelled cost) summed over its measured evaluations.
    calibration: HashMap<u32, (f64, f64)>,
    /// The same sums over every niche.
    overall: (f64, f64),
}

/// `cost` when it is a usable weight, else 1.
fn modelled<P: Problem>(problem: &P, genome: &P::Genome) -> f64 {
    let cost = problem.cost(genome);
    if cost.is_finite() && cost > 0.0 {
        cost
    } else {
        1.0
    }
}

impl<G: crate::problem::Genome> Router<G> {
    /// A router over `workers` workers (at least one).
    pub fn new(workers: usize) -> Router<G> {
        Router {
            workers: workers.max(1),
            routes: HashMap::new(),
            calibration: HashMap::new(),
            overall: (0.0, 0.0),
        }
    }

    /// Records that evaluating `genome` took `seconds` (a cache miss), to calibrate the cost
    /// of the genomes routed after it. Only routing depends on it, never a result.
    pub fn measured<P: Problem<Genome = G>>(&mut self, problem: &P, genome: &G, seconds: f64) {
        if !(seconds.is_finite() && seconds > 0.0) {
            return;
        }
        let cost = modelled(problem, genome);
        let niche = self.calibration.entry(problem.niche(genome)).or_insert((0.0, 0.0));
        niche.0 += seconds;
        niche.1 += cost;
        self.overall.0 += seconds;
        self.overall.1 += cost;
    }

    /// The expected cost of evaluating `genome`: its modelled cost scaled by its niche's
    /// measured ratio (the overall ratio for a niche not measured yet; 1 before any).
    fn expected_cost<P: Problem<Genome = G>>(&self, problem: &P, genome: &G) -> f64 {
        let cost = modelled(problem, genome);
        let (seconds, modelled) = match self.calibration.get(&problem.niche(genome)) {
            Some(niche) => *niche,
            None if self.overall.1 > 0.0 => self.overall,
            None => return cost,
        };
        cost * seconds / modelled
    }

    /// The worker of each individual of `population`, by slot.
    pub fn route<P: Problem<Genome = G>>(&mut self, problem: &P, population: &[G]) -> Vec<u64> {
        let mut seen = HashSet::new();
        let mut fresh: Vec<(f64, u64, &G)> = population
            .iter()
            .filter(|g| !self.routes.contains_key(*g) && seen.insert(*g))
            .map(|g| (self.expected_cost(problem, g), problem.genome_hash(g), g))
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

    /// Genome g costs g (in the model); its niche is g % 2.
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
        fn niche(&self, g: &u32) -> u32 {
            g % 2
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
    fn measured_times_recalibrate_a_niche_whose_model_is_off() {
        // Odd genomes really cost 10x their model: measured so on 1 and 3.
        let mut router = Router::new(2);
        router.route(&Weighted, &[1, 2, 3, 4]);
        for (g, seconds) in [(1, 10.0), (2, 2.0), (3, 30.0), (4, 4.0)] {
            router.measured(&Weighted, &g, seconds);
        }
        // 11 (true cost 110) against 20, 22, 24, 26 (true 92): the model alone (11 vs 92)
        // would give 11 company; measured, it gets a worker almost to itself.
        let population = [11, 20, 22, 24, 26];
        let routes = router.route(&Weighted, &population);
        let lone = routes[0];
        assert!(routes[1..].iter().all(|&w| w != lone), "{routes:?}");
        // A niche never measured takes the overall ratio; non-positive times are ignored.
        router.measured(&Weighted, &20, 0.0);
        router.measured(&Weighted, &20, f64::NAN);
        assert_eq!(router.expected_cost(&Weighted, &20), 20.0);
        let fresh = Router::<u32>::new(2);
        assert_eq!(fresh.expected_cost(&Weighted, &7), 7.0, "uncalibrated: the model");
        let mut one = Router::new(2);
        one.measured(&Weighted, &2, 4.0);
        assert_eq!(
            one.expected_cost(&Weighted, &7),
            14.0,
            "unmeasured niche: overall ratio"
        );
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
