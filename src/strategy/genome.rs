//! `Genome`: a seed name plus gene values, plain serde data with a total order and hash by bit pattern.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

/// A strategy's name and its gene values in genome order. Plain data: it crosses process
/// boundaries as JSON/bincode and keys caches. Equality and hashing compare the exact bit
/// pattern of each gene (`f64::to_bits`), so `0.0` and `-0.0` differ and a NaN equals an
/// identical NaN; the order is `(seed, genes)` lexicographic with `f64::total_cmp`, which is
/// consistent with that equality.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Genome {
    pub seed: String,
    pub genes: Vec<f64>,
}

impl Genome {
    /// A genome for `seed` with the given gene values.
    pub fn new(seed: impl Into<String>, genes: Vec<f64>) -> Self {
        Genome {
            seed: seed.into(),
            genes,
        }
    }

    /// A 64-bit FNV-1a digest of the name and the genes' bit patterns: stable across
    /// processes, platforms and runs (unlike `std`'s randomly keyed hasher), so it can seed
    /// random generators and pick a worker.
    pub fn stable_hash(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        eat(self.seed.as_bytes());
        eat(&[0xff]);
        for g in &self.genes {
            eat(&g.to_bits().to_le_bytes());
        }
        h
    }
}

impl PartialEq for Genome {
    fn eq(&self, other: &Self) -> bool {
        self.seed == other.seed
            && self.genes.len() == other.genes.len()
            && self
                .genes
                .iter()
                .zip(&other.genes)
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl Eq for Genome {}

impl Hash for Genome {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.seed.hash(state);
        self.genes.len().hash(state);
        for g in &self.genes {
            g.to_bits().hash(state);
        }
    }
}

impl Ord for Genome {
    fn cmp(&self, other: &Self) -> Ordering {
        self.seed.cmp(&other.seed).then_with(|| {
            for (a, b) in self.genes.iter().zip(&other.genes) {
                match a.total_cmp(b) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            self.genes.len().cmp(&other.genes.len())
        })
    }
}

impl PartialOrd for Genome {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashSet};

    #[test]
    fn equality_hash_and_order_follow_bits() {
        let a = Genome::new("x", vec![1.0, 0.0]);
        let b = Genome::new("x", vec![1.0, -0.0]);
        assert_ne!(a, b);
        assert_ne!(a.stable_hash(), b.stable_hash());
        assert_eq!(a, a.clone());
        assert_eq!(a.stable_hash(), a.clone().stable_hash());
        let set: HashSet<Genome> = [a.clone(), b.clone(), a.clone()].into_iter().collect();
        assert_eq!(set.len(), 2);
        let ord: BTreeSet<Genome> = [a.clone(), b.clone()].into_iter().collect();
        assert_eq!(ord.len(), 2);
        assert!(b < a, "total_cmp orders -0.0 before 0.0");
        assert!(Genome::new("a", vec![9.0]) < Genome::new("b", vec![0.0]));
        assert!(Genome::new("a", vec![1.0]) < Genome::new("a", vec![1.0, 0.0]));
    }

    #[test]
    fn serde_round_trip_keeps_bits() {
        let g = Genome::new("ema_crossover", vec![12.0, 26.0, 0.1 + 0.2, 0.5, 0.005]);
        let text = serde_json::to_string(&g).unwrap();
        let back: Genome = serde_json::from_str(&text).unwrap();
        assert_eq!(g, back);
    }
}
