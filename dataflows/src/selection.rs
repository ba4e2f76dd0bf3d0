//! Selection and variation: canonical order, elitism, niche protection, tournaments, offspring.
//!
//! Given one evaluated generation, [`breed`] builds the next one. The population is first put
//! in **canonical order** ([`canonical_order`]: fitness descending, then genome ascending), so
//! the result never depends on the order in which workers delivered results. Slot `i` of the
//! next generation draws all its randomness from `Rng::for_slot(seed, next_generation, i)`.
//!
//! The next generation is filled slot by slot:
//! 1. **Elitism**: slots `0 .. elitism` copy the best individuals unchanged.
//! 2. **Niche protection** (when `min_niche_share > 0`): each niche present in the initial
//!    population (the *protected* niches, ascending id) is guaranteed
//!    `quota = ceil(min_niche_share * population)` slots, capped at
//!    `(population - elitism) / protected niches` (and at least 1). Elites of the niche count
//!    towards its quota. If no elite belongs to the niche, its best individual is copied
//!    unchanged (the *niche elite*); the rest of the quota is filled with offspring whose
//!    parents are chosen by tournaments **within the niche**. Because a niche elite is always
//!    kept, every protected niche survives every generation, whatever variation does (with
//!    more protected niches than non-elite slots, the niches with the lowest ids get the slots).
//!    The quota holds as a minimum share when variation of two same-niche parents stays in the
//!    niche, which [`Problem::niche`] asks of problems.
//! 3. **Offspring**: the remaining slots are offspring of tournaments over the whole population.
//!
//! An offspring: parent `a` = tournament winner; with probability `crossover_rate` the child is
//! `crossover(a, b)` with `b` a second tournament winner, else a copy of `a`; then with
//! probability `mutation_rate` it is mutated. A tournament draws `tournament_size` positions
//! uniformly with replacement and keeps the best (the lowest canonical position).

use crate::config::GaConfig;
use crate::problem::Problem;
use crate::report::Scored;
use crate::rng::Rng;

/// Sorts a generation into canonical order: fitness descending, then genome ascending.
pub fn canonical_order<G: crate::problem::Genome>(population: &mut [Scored<G>]) {
    population.sort_by(|a, b| b.fitness.cmp(&a.fitness).then_with(|| a.genome.cmp(&b.genome)));
}

/// The best of `size` uniform draws (with replacement) among `candidates`, which hold
/// canonical positions in ascending order; the smallest drawn position wins.
pub fn tournament(candidates: &[usize], size: usize, rng: &mut Rng) -> usize {
    let mut best = usize::MAX;
    for _ in 0..size.max(1) {
        best = best.min(candidates[rng.index(candidates.len())]);
    }
    best
}

/// One offspring from parents chosen among `candidates` (canonical positions into `sorted`).
fn offspring<P: Problem>(
    problem: &P,
    config: &GaConfig,
    sorted: &[Scored<P::Genome>],
    candidates: &[usize],
    rng: &mut Rng,
) -> P::Genome {
    let a = tournament(candidates, config.tournament_size, rng);
    let mut child = if rng.chance(config.crossover_rate) {
        let b = tournament(candidates, config.tournament_size, rng);
        problem.crossover(&sorted[a].genome, &sorted[b].genome, rng)
    } else {
        sorted[a].genome.clone()
    };
    if rng.chance(config.mutation_rate) {
        child = problem.mutate(&child, rng);
    }
    child
}

/// Builds generation `next_generation` from the previous one in canonical order.
///
/// `niches[i]` is the niche of `sorted[i]`; `protected` lists the protected niches (ascending).
/// `sorted` must not be empty.
pub fn breed<P: Problem>(
    problem: &P,
    config: &GaConfig,
    sorted: &[Scored<P::Genome>],
    niches: &[u32],
    protected: &[u32],
    next_generation: u64,
) -> Vec<P::Genome> {
    let size = config.population;
    let elitism = config.elitism.min(size).min(sorted.len());
    let mut next: Vec<P::Genome> = Vec::with_capacity(size);
    let rng_for = |slot: usize| Rng::for_slot(config.seed, next_generation, slot as u64);

    next.extend(sorted[..elitism].iter().map(|s| s.genome.clone()));

    let quota = config.niche_quota();
    if quota > 0 && !protected.is_empty() {
        let quota = quota.min((size - elitism) / protected.len()).max(1);
        for &niche in protected {
            let members: Vec<usize> = (0..sorted.len()).filter(|&i| niches[i] == niche).collect();
            let Some(&best_member) = members.first() else { continue };
            let mut have = niches[..elitism].iter().filter(|&&n| n == niche).count();
            if have == 0 && next.len() < size {
                next.push(sorted[best_member].genome.clone());
                have = 1;
            }
            while have < quota && next.len() < size {
                let mut rng = rng_for(next.len());
                next.push(offspring(problem, config, sorted, &members, &mut rng));
                have += 1;
            }
        }
    }

    let everyone: Vec<usize> = (0..sorted.len()).collect();
    while next.len() < size {
        let mut rng = rng_for(next.len());
        next.push(offspring(problem, config, sorted, &everyone, &mut rng));
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fitness::Fitness;

    /// Genome = (niche, value); fitness = value; mutation adds 1; crossover keeps `a`'s niche.
    struct Pairs;

    impl Problem for Pairs {
        type Genome = (u32, i64);
        fn random_genome(&self, rng: &mut Rng) -> (u32, i64) {
            (rng.below(2) as u32, rng.range_i64(0, 100))
        }
        fn mutate(&self, g: &(u32, i64), _rng: &mut Rng) -> (u32, i64) {
            (g.0, g.1 + 1)
        }
        fn crossover(&self, a: &(u32, i64), b: &(u32, i64), _rng: &mut Rng) -> (u32, i64) {
            (a.0, (a.1 + b.1) / 2)
        }
        fn evaluate(&self, g: &(u32, i64)) -> Fitness {
            Fitness::new(g.1 as f64)
        }
        fn niche(&self, g: &(u32, i64)) -> u32 {
            g.0
        }
    }

    fn scored(pop: &[(u32, i64)]) -> Vec<Scored<(u32, i64)>> {
        let mut v: Vec<_> = pop.iter().map(|g| Scored::new(*g, Pairs.evaluate(g))).collect();
        canonical_order(&mut v);
        v
    }

    #[test]
    fn canonical_order_breaks_ties_by_genome() {
        let v = scored(&[(1, 5), (0, 5), (0, 9), (0, 1)]);
        let genomes: Vec<_> = v.iter().map(|s| s.genome).collect();
        assert_eq!(genomes, vec![(0, 9), (0, 5), (1, 5), (0, 1)]);
    }

    #[test]
    fn tournament_picks_the_best_drawn_position() {
        let mut rng = Rng::from_seed(1);
        // A tournament as large as the candidate list almost surely contains position 0.
        let mut wins = 0;
        for _ in 0..100 {
            if tournament(&[0, 1, 2, 3], 40, &mut rng) == 0 {
                wins += 1;
            }
        }
        assert_eq!(wins, 100);
        // Size 1 is uniform: every candidate wins sometimes.
        let mut seen = [false; 4];
        for _ in 0..200 {
            seen[tournament(&[0, 1, 2, 3], 1, &mut rng)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn elites_are_copied_unchanged_in_order() {
        let config = GaConfig {
            population: 6,
            elitism: 2,
            ..GaConfig::default()
        };
        let sorted = scored(&[(0, 1), (0, 50), (0, 7), (0, 60), (0, 3), (0, 2)]);
        let niches: Vec<u32> = sorted.iter().map(|s| s.genome.0).collect();
        let next = breed(&Pairs, &config, &sorted, &niches, &[0], 1);
        assert_eq!(next.len(), 6);
        assert_eq!(&next[..2], &[(0, 60), (0, 50)]);
    }

    #[test]
    fn weak_niche_keeps_its_elite_and_quota() {
        // Niche 1 is far worse than niche 0: without protection tournaments would drop it.
        let mut pop: Vec<(u32, i64)> = (0..18).map(|i| (0, 100 + i)).collect();
        pop.extend([(1, 1), (1, 2)]);
        let sorted = scored(&pop);
        let niches: Vec<u32> = sorted.iter().map(|s| s.genome.0).collect();
        let protected = [0, 1];
        let config = GaConfig {
            population: 20,
            elitism: 2,
            tournament_size: 5,
            min_niche_share: 0.2,
            ..GaConfig::default()
        };
        let next = breed(&Pairs, &config, &sorted, &niches, &protected, 1);
        assert_eq!(next.len(), 20);
        // Slots 0-1: global elites (niche 0), which count towards niche 0's quota of 4; slots 2-3:
        // niche 0 offspring; slot 4: niche 1's elite, copied unchanged; slots 5-7: niche 1 offspring.
        assert_eq!(next[4], (1, 2));
        let in_niche_1 = next.iter().filter(|g| g.0 == 1).count();
        assert!(in_niche_1 >= 4, "quota ceil(0.2 * 20) = 4, got {in_niche_1}");
        // Without protection the weak niche disappears.
        let unprotected = GaConfig {
            min_niche_share: 0.0,
            ..config
        };
        let next = breed(&Pairs, &unprotected, &sorted, &niches, &protected, 1);
        assert_eq!(next.iter().filter(|g| g.0 == 1).count(), 0);
    }

    #[test]
    fn same_inputs_same_offspring() {
        let config = GaConfig {
            population: 30,
            ..GaConfig::default()
        };
        let pop: Vec<(u32, i64)> = (0..30).map(|i| (0, (i * 37) % 101)).collect();
        let sorted = scored(&pop);
        let niches = vec![0; 30];
        assert_eq!(
            breed(&Pairs, &config, &sorted, &niches, &[0], 4),
            breed(&Pairs, &config, &sorted, &niches, &[0], 4)
        );
        assert_ne!(
            breed(&Pairs, &config, &sorted, &niches, &[0], 4),
            breed(&Pairs, &config, &sorted, &niches, &[0], 5)
        );
    }
}
