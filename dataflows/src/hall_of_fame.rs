//! The hall of fame: the best distinct genomes ever seen in a run.

use serde::{Deserialize, Serialize};

use crate::fitness::Fitness;
use crate::problem::Genome;
use crate::report::Scored;

/// One genome in the hall of fame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "G: Genome")]
pub struct HallOfFameEntry<G: Genome> {
    /// The genome.
    pub genome: G,
    /// Its fitness.
    pub fitness: Fitness,
    /// The generation in which it (last) entered the hall of fame.
    pub generation: u64,
}

/// The hall of fame after one generation (an element of the hall-of-fame stream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "G: Genome")]
pub struct HallOfFame<G: Genome> {
    /// The generation just completed.
    pub generation: u64,
    /// The best distinct genomes so far, best first.
    pub entries: Vec<HallOfFameEntry<G>>,
}

/// Merges a generation (in canonical order, best first) into the hall of fame.
///
/// The result holds at most `capacity` distinct genomes ordered by fitness (descending), ties
/// by genome (ascending); an entry already present keeps its original generation.
pub fn update_hall_of_fame<G: Genome>(
    entries: &mut Vec<HallOfFameEntry<G>>,
    sorted: &[Scored<G>],
    generation: u64,
    capacity: usize,
) {
    if capacity == 0 {
        entries.clear();
        return;
    }
    // Only the best `capacity` distinct genomes of this generation can enter.
    let mut added = 0;
    let mut previous: Option<&G> = None;
    for scored in sorted {
        if added == capacity {
            break;
        }
        // `sorted` is canonical, so duplicates of a genome are adjacent.
        if previous == Some(&scored.genome) {
            continue;
        }
        previous = Some(&scored.genome);
        if !entries.iter().any(|e| e.genome == scored.genome) {
            entries.push(HallOfFameEntry {
                genome: scored.genome.clone(),
                fitness: scored.fitness,
                generation,
            });
        }
        added += 1;
    }
    entries.sort_by(|a, b| b.fitness.cmp(&a.fitness).then_with(|| a.genome.cmp(&b.genome)));
    entries.truncate(capacity);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(genome: u32, fitness: f64) -> Scored<u32> {
        Scored::new(genome, Fitness::new(fitness))
    }

    #[test]
    fn keeps_best_distinct_and_first_generation() {
        let mut hof = Vec::new();
        update_hall_of_fame(
            &mut hof,
            &[scored(1, 5.0), scored(1, 5.0), scored(2, 4.0), scored(3, 1.0)],
            0,
            2,
        );
        assert_eq!(
            hof.iter().map(|e| (e.genome, e.generation)).collect::<Vec<_>>(),
            vec![(1, 0), (2, 0)]
        );
        update_hall_of_fame(&mut hof, &[scored(4, 4.5), scored(1, 5.0)], 1, 2);
        assert_eq!(
            hof.iter().map(|e| (e.genome, e.generation)).collect::<Vec<_>>(),
            vec![(1, 0), (4, 1)]
        );
        // Ties on fitness break by genome order.
        update_hall_of_fame(&mut hof, &[scored(0, 4.5)], 2, 3);
        assert_eq!(hof.iter().map(|e| e.genome).collect::<Vec<_>>(), vec![1, 0, 4]);
    }
}
