//! `TrialLedger`: every distinct genome a run evaluated, with its Sharpe estimate: the N and V of the Deflated Sharpe Ratio.
//!
//! The coordinator adds each generation's whole population as it is reported (the reports
//! are the same at every number of workers and processes), and a resumed run first adds
//! the individuals stored for the generations before its checkpoint, so N and V are the same
//! on every topology and after a resume. Genomes are told apart by their stable hash; a
//! genome seen again (an elite, a re-created child) is not a new trial.

use std::collections::BTreeMap;

/// Distinct genomes (by stable hash) and their Sharpe estimate per period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrialLedger {
    sharpe: BTreeMap<u64, f64>,
}

impl TrialLedger {
    /// Records genome `hash` with its per-period Sharpe estimate (NaN when undefined); a
    /// genome already recorded keeps its first value (evaluation is deterministic).
    pub fn add(&mut self, hash: u64, sharpe_per_period: f64) {
        self.sharpe.entry(hash).or_insert(sharpe_per_period);
    }

    /// N: the number of distinct genomes evaluated (also those with an undefined Sharpe).
    pub fn n_trials(&self) -> u64 {
        self.sharpe.len() as u64
    }

    /// V: the sample variance (ddof = 1) of the defined Sharpe estimates, summed in hash
    /// order; 0 with fewer than two.
    pub fn sr_variance(&self) -> f64 {
        let values: Vec<f64> = self.sharpe.values().copied().filter(|v| v.is_finite()).collect();
        if values.len() < 2 {
            return 0.0;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_genomes_count_once_and_undefined_sharpes_only_count() {
        let mut l = TrialLedger::default();
        for (h, s) in [(3, 0.1), (1, 0.3), (3, 0.1), (2, f64::NAN)] {
            l.add(h, s);
        }
        assert_eq!(l.n_trials(), 3);
        assert!((l.sr_variance() - 0.02).abs() < 1e-15);
        let mut other = TrialLedger::default();
        for (h, s) in [(2, f64::NAN), (1, 0.3), (3, 0.1)] {
            other.add(h, s);
        }
        assert_eq!(other.n_trials(), l.n_trials());
        assert_eq!(
            other.sr_variance().to_bits(),
            l.sr_variance().to_bits(),
            "the order of arrival does not matter"
        );
    }
}
