//! The hall of fame: the best distinct genomes ever seen in a run.

use serde::{Deserialize, Serialize};

use crate::fitness::Fitness;
use crate::problem::{Genome, Problem};
use crate::scored::{same_metrics, Scored};

/// One genome in the hall of fame.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "G: Genome")]
pub struct HallOfFameEntry<G: Genome> {
    /// The genome.
    pub genome: G,
    /// Its fitness.
    pub fitness: Fitness,
    /// The metrics of its evaluation ([`Scored::metrics`]; empty in checkpoints written
    /// before they were kept).
    #[serde(default, with = "metrics_serde")]
    pub metrics: Vec<f64>,
    /// The generation in which it (last) entered the hall of fame.
    pub generation: u64,
}

impl<G: Genome> PartialEq for HallOfFameEntry<G> {
    fn eq(&self, other: &Self) -> bool {
        self.genome == other.genome
            && self.fitness == other.fitness
            && same_metrics(&self.metrics, &other.metrics)
            && self.generation == other.generation
    }
}

impl<G: Genome> Eq for HallOfFameEntry<G> {}

/// Metrics as serialised: in a human-readable format (the JSON of checkpoints) a value that is
/// not finite is written as the string `"NaN"`, `"inf"` or `"-inf"`, since JSON has no such
/// numbers (`serde_json` would write `null` and fail to read it back); in a binary format
/// (between processes) every value is an `f64`.
mod metrics_serde {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// One metric in a human-readable format.
    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Readable {
        Number(f64),
        Named(String),
    }

    pub fn serialize<S: Serializer>(metrics: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        if !serializer.is_human_readable() {
            return metrics.serialize(serializer);
        }
        serializer.collect_seq(metrics.iter().map(|&m| match m {
            m if m.is_finite() => Readable::Number(m),
            m if m.is_nan() => Readable::Named("NaN".into()),
            m if m > 0.0 => Readable::Named("inf".into()),
            _ => Readable::Named("-inf".into()),
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        if !deserializer.is_human_readable() {
            return Vec::<f64>::deserialize(deserializer);
        }
        Vec::<Readable>::deserialize(deserializer)?
            .into_iter()
            .map(|m| match m {
                Readable::Number(m) => Ok(m),
                Readable::Named(name) => match name.as_str() {
                    "NaN" => Ok(f64::NAN),
                    "inf" => Ok(f64::INFINITY),
                    "-inf" => Ok(f64::NEG_INFINITY),
                    _ => Err(D::Error::custom(format!("`{name}` is not a metric"))),
                },
            })
            .collect()
    }
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
/// The result holds the best `capacity` distinct genomes ever merged, ordered by fitness
/// (descending), ties by genome (ascending); an entry already present keeps its original
/// generation. Distinct also means distinct behaviour: a genome of the same fitness that
/// `problem` says behaves as one in the hall ([`Problem::same_behaviour`]) does not enter, so
/// of several such genomes the hall keeps the first merged (within a generation, the first in
/// canonical order).
pub fn update_hall_of_fame<P: Problem>(
    problem: &P,
    entries: &mut Vec<HallOfFameEntry<P::Genome>>,
    sorted: &[Scored<P::Genome>],
    generation: u64,
    capacity: usize,
) {
    let before = |a: (&Fitness, &P::Genome), b: (&Fitness, &P::Genome)| b.0.cmp(a.0).then_with(|| a.1.cmp(b.1));
    entries.sort_by(|a, b| before((&a.fitness, &a.genome), (&b.fitness, &b.genome)));
    entries.truncate(capacity);
    for scored in sorted {
        let candidate = (&scored.fitness, &scored.genome);
        if entries.len() == capacity {
            // `sorted` is canonical: once one cannot enter a full hall, none after it can.
            match entries.last() {
                Some(last) if before(candidate, (&last.fitness, &last.genome)).is_lt() => {}
                _ => break,
            }
        }
        let represented = entries.iter().any(|entry| {
            entry.genome == scored.genome
                || (entry.fitness == scored.fitness
                    && problem.same_behaviour(&entry.genome, &entry.metrics, &scored.genome, &scored.metrics))
        });
        if represented {
            continue;
        }
        let at = entries.partition_point(|e| before((&e.fitness, &e.genome), candidate).is_lt());
        entries.insert(
            at,
            HallOfFameEntry {
                genome: scored.genome.clone(),
                fitness: scored.fitness,
                metrics: scored.metrics.clone(),
                generation,
            },
        );
        entries.truncate(capacity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Genomes are numbers; two genomes behave alike when their (non-empty) metrics are equal.
    struct Numbers;

    impl Problem for Numbers {
        type Genome = u32;
        fn random_genome(&self, rng: &mut Rng) -> u32 {
            rng.next_u64() as u32
        }
        fn mutate(&self, g: &u32, _: &mut Rng) -> u32 {
            *g
        }
        fn crossover(&self, a: &u32, _: &u32, _: &mut Rng) -> u32 {
            *a
        }
        fn evaluate(&self, g: &u32) -> Fitness {
            Fitness::new(f64::from(*g))
        }
        fn same_behaviour(&self, _: &u32, a: &[f64], _: &u32, b: &[f64]) -> bool {
            !a.is_empty() && same_metrics(a, b)
        }
    }

    fn scored(genome: u32, fitness: f64) -> Scored<u32> {
        Scored::new(genome, Fitness::new(fitness))
    }

    fn behaving(genome: u32, fitness: f64, behaviour: f64) -> Scored<u32> {
        Scored {
            metrics: vec![behaviour],
            ..scored(genome, fitness)
        }
    }

    fn genomes(hof: &[HallOfFameEntry<u32>]) -> Vec<(u32, u64)> {
        hof.iter().map(|e| (e.genome, e.generation)).collect()
    }

    #[test]
    fn keeps_best_distinct_and_first_generation() {
        let mut hof = Vec::new();
        let merge = |hof: &mut Vec<_>, sorted: &[Scored<u32>], generation, capacity| {
            update_hall_of_fame(&Numbers, hof, sorted, generation, capacity);
        };
        merge(
            &mut hof,
            &[scored(1, 5.0), scored(1, 5.0), scored(2, 4.0), scored(3, 1.0)],
            0,
            2,
        );
        assert_eq!(genomes(&hof), vec![(1, 0), (2, 0)]);
        merge(&mut hof, &[scored(4, 4.5), scored(1, 5.0)], 1, 2);
        assert_eq!(genomes(&hof), vec![(1, 0), (4, 1)]);
        // Ties on fitness break by genome order.
        merge(&mut hof, &[scored(0, 4.5)], 2, 3);
        assert_eq!(hof.iter().map(|e| e.genome).collect::<Vec<_>>(), vec![1, 0, 4]);
        merge(&mut hof, &[scored(9, 9.0)], 3, 0);
        assert!(hof.is_empty());
    }

    #[test]
    fn keeps_one_genome_per_behaviour() {
        let mut hof = Vec::new();
        // 1, 2 and 3 behave alike (same fitness, same metrics): only the first enters; 5 has
        // the same metrics but another fitness, 6 the same fitness but other metrics, 7 and 8
        // no metrics (never alike).
        let generation = [
            behaving(1, 5.0, 0.5),
            behaving(2, 5.0, 0.5),
            behaving(3, 5.0, 0.5),
            behaving(6, 5.0, 0.25),
            behaving(5, 4.0, 0.5),
            scored(7, 3.0),
            scored(8, 3.0),
        ];
        update_hall_of_fame(&Numbers, &mut hof, &generation, 1, 10);
        assert_eq!(genomes(&hof), vec![(1, 1), (6, 1), (5, 1), (7, 1), (8, 1)]);
        assert_eq!(hof[0].metrics, vec![0.5]);
        // A later genome behaving as an entry does not replace it, even one ordered before it.
        update_hall_of_fame(&Numbers, &mut hof, &[behaving(0, 5.0, 0.5)], 2, 10);
        assert_eq!(genomes(&hof)[0], (1, 1));
        assert_eq!(hof.len(), 5);
        // With room for three, the duplicates do not take the places of distinct behaviours.
        let mut small = Vec::new();
        update_hall_of_fame(&Numbers, &mut small, &generation, 1, 3);
        assert_eq!(genomes(&small), vec![(1, 1), (6, 1), (5, 1)]);
    }

    #[test]
    fn metrics_survive_json_and_binary_round_trips() {
        let computed_nan = f64::from_bits(0xfff8_0000_0000_0001);
        let entry = HallOfFameEntry {
            genome: 3u32,
            fitness: Fitness::new(1.5),
            metrics: vec![computed_nan, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.1, 1e300],
            generation: 2,
        };
        let json = serde_json::to_string(&entry).unwrap();
        assert!(json.contains(r#"["NaN","inf","-inf",-0.0,0.1,1e+300]"#), "{json}");
        let back: HallOfFameEntry<u32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, entry);
        assert_eq!(back.metrics[3].to_bits(), (-0.0f64).to_bits());
        let binary = bincode::serialize(&entry).unwrap();
        let back: HallOfFameEntry<u32> = bincode::deserialize(&binary).unwrap();
        assert_eq!(back.metrics[0].to_bits(), computed_nan.to_bits());
        // Entries of checkpoints written before the metrics were kept.
        let old: HallOfFameEntry<u32> = serde_json::from_str(r#"{"genome":3,"fitness":1.5,"generation":2}"#).unwrap();
        assert!(old.metrics.is_empty());
        let wrong = serde_json::from_str::<HallOfFameEntry<u32>>(
            r#"{"genome":3,"fitness":1.5,"metrics":["x"],"generation":2}"#,
        );
        assert!(wrong.unwrap_err().to_string().contains("`x` is not a metric"));
    }

    #[test]
    fn a_behaviour_pushed_out_may_come_back_in_another_genome() {
        let mut hof = Vec::new();
        update_hall_of_fame(&Numbers, &mut hof, &[behaving(4, 1.0, 0.5)], 0, 1);
        update_hall_of_fame(&Numbers, &mut hof, &[behaving(9, 2.0, 0.75)], 1, 1);
        assert_eq!(genomes(&hof), vec![(9, 1)]);
        // 3 behaves as 4 did; 4 is no longer in the hall, so 3 enters.
        update_hall_of_fame(&Numbers, &mut hof, &[behaving(3, 1.0, 0.5)], 2, 2);
        assert_eq!(genomes(&hof), vec![(9, 1), (3, 2)]);
    }
}
