//! `Fitness`: a totally ordered score where higher is better and NaN/infinity never reach selection.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A totally ordered fitness score; **higher is better**.
///
/// A `Fitness` is always a finite `f64`: [`Fitness::new`] maps NaN, `+inf` and `-inf` to
/// [`Fitness::PENALTY`] (the lowest finite `f64`), so a broken evaluation can never win a
/// tournament, and `-0.0` to `0.0`, so equality agrees with the order. Problems that want an
/// explicit penalty for a degenerate candidate (e.g. a strategy with too few trades) should
/// return a finite, documented value of their own; `PENALTY` is the floor for invalid numbers.
///
/// ```
/// use evoflow_dataflows::Fitness;
/// assert_eq!(Fitness::new(f64::NAN), Fitness::PENALTY);
/// assert_eq!(Fitness::new(f64::INFINITY), Fitness::PENALTY);
/// assert!(Fitness::new(1.0) > Fitness::new(-3.0));
/// assert_eq!(Fitness::new(-0.0), Fitness::new(0.0));
/// ```
#[derive(Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "f64", into = "f64")]
pub struct Fitness(f64);

impl Fitness {
    /// The score given to NaN and infinite values: the lowest finite `f64`.
    pub const PENALTY: Fitness = Fitness(f64::MIN);

    /// Wraps a raw score, mapping non-finite values to [`Fitness::PENALTY`] and `-0.0` to `0.0`.
    pub fn new(value: f64) -> Fitness {
        if !value.is_finite() {
            Fitness::PENALTY
        } else if value == 0.0 {
            Fitness(0.0)
        } else {
            Fitness(value)
        }
    }

    /// The finite score.
    pub fn value(self) -> f64 {
        self.0
    }

    /// Whether this is the penalty given to non-finite scores (or a score equal to it).
    pub fn is_penalty(self) -> bool {
        self == Fitness::PENALTY
    }
}

impl From<f64> for Fitness {
    fn from(value: f64) -> Fitness {
        Fitness::new(value)
    }
}

impl From<Fitness> for f64 {
    fn from(fitness: Fitness) -> f64 {
        fitness.0
    }
}

impl Eq for Fitness {}

impl PartialOrd for Fitness {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Fitness {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl std::hash::Hash for Fitness {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

impl fmt::Debug for Fitness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fitness({})", self.0)
    }
}

impl fmt::Display for Fitness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_values_become_the_penalty_and_lose() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -f64::NAN] {
            let f = Fitness::new(bad);
            assert!(f.is_penalty());
            assert!(f < Fitness::new(-1e300));
        }
    }

    #[test]
    fn order_is_total_and_higher_is_better() {
        let mut v: Vec<Fitness> = [3.0, -1.0, f64::NAN, 0.0, -0.0, 2.5]
            .into_iter()
            .map(Fitness::new)
            .collect();
        v.sort();
        let raw: Vec<f64> = v.iter().map(|f| f.value()).collect();
        assert_eq!(raw, vec![f64::MIN, -1.0, 0.0, 0.0, 2.5, 3.0]);
        assert_eq!(Fitness::new(-0.0), Fitness::new(0.0));
    }

    #[test]
    fn serde_round_trip_goes_through_the_constructor() {
        let json = serde_json::to_string(&Fitness::new(1.5)).unwrap();
        assert_eq!(json, "1.5");
        let back: Fitness = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Fitness::new(1.5));
    }
}
