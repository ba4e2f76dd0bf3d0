//! The honest hall of fame: per-entry PSR/DSR on held-out returns, one entry per behaviour (shared entry bars), and the warnings shown with an entry.

use serde::{Deserialize, Serialize};

use super::sharpe_stats::{deflated_sharpe_of_returns, SharpeStats};
use super::trials::TrialLedger;
use crate::backtest::Calendar;

/// Entries below this DSR get a warning: their held-out Sharpe is not significant at 95 %
/// once the number of strategies tried is accounted for.
pub const DSR_THRESHOLD: f64 = 0.95;
/// Default `--min-test-trades`: entries with fewer closed held-out trades get a warning.
pub const DEFAULT_MIN_TEST_TRADES: u64 = 10;
/// Two entries whose entry bars overlap at least this much (shared entry bars over the
/// larger entry count) are one behaviour; the hall of fame keeps the better one.
pub const OVERLAP_THRESHOLD: f64 = 0.95;

/// The PSR and DSR of an entry's held-out returns with every input, as printed and stored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EntryValidation {
    /// PSR(0): the probability that the true held-out Sharpe is above 0.
    pub psr: f64,
    /// DSR: the PSR against the expected best Sharpe of `n_trials` strategies with no skill.
    pub dsr: f64,
    /// Held-out Sharpe per period (mean / sd of the period returns, not annualised).
    pub sr_per_period: f64,
    /// N: distinct genomes the run evaluated.
    pub n_trials: u64,
    /// V: variance across those genomes of their training Sharpe per period.
    pub sr_variance: f64,
    /// The DSR's benchmark E[max SR] over N trials (per period).
    pub expected_max_sr: f64,
    /// Skewness of the held-out period returns.
    pub skew: f64,
    /// Kurtosis (non-excess) of the held-out period returns.
    pub kurtosis: f64,
    /// T: number of held-out period returns.
    pub n_obs: usize,
}

impl From<SharpeStats> for EntryValidation {
    fn from(s: SharpeStats) -> Self {
        EntryValidation {
            psr: s.psr,
            dsr: s.dsr,
            sr_per_period: s.moments.sr_per_period,
            n_trials: s.n_trials,
            sr_variance: s.sr_variance,
            expected_max_sr: s.expected_max_sr,
            skew: s.moments.skew,
            kurtosis: s.moments.kurtosis,
            n_obs: s.moments.n_obs,
        }
    }
}

/// The period returns backtesting.py computes its Sharpe from: equity at the last bar of each
/// calendar period (day; week, month or year for such bars), percentage change.
pub fn period_returns(equity: &[f64], timestamps_ms: &[i64]) -> Vec<f64> {
    if equity.is_empty() || equity.len() != timestamps_ms.len() {
        return Vec::new();
    }
    let calendar = Calendar::new(timestamps_ms);
    let ends: Vec<f64> = equity
        .iter()
        .zip(&calendar.group_end)
        .filter(|(_, end)| **end)
        .map(|(e, _)| *e)
        .collect();
    ends.windows(2).map(|w| w[1] / w[0] - 1.0).collect()
}

/// The PSR and DSR of `returns` against the run's trials, or why they are undefined.
pub fn validate_entry(returns: &[f64], trials: &TrialLedger) -> Result<EntryValidation, String> {
    deflated_sharpe_of_returns(returns, trials.n_trials().max(1), trials.sr_variance())
        .map(EntryValidation::from)
        .map_err(|e| e.to_string())
}

/// The warnings shown with an entry: too few held-out trades, a DSR below
/// [`DSR_THRESHOLD`], or no DSR at all.
pub fn warnings(
    test_trades: Option<u64>,
    validation: Result<&EntryValidation, &str>,
    min_test_trades: u64,
) -> Vec<String> {
    let mut out = Vec::new();
    match test_trades {
        None => out.push("no held-out bars: nothing was validated".to_string()),
        Some(t) if t < min_test_trades => out.push(format!(
            "{t} held-out trades, fewer than --min-test-trades {min_test_trades}"
        )),
        Some(_) => {}
    }
    match validation {
        Ok(v) if v.dsr < DSR_THRESHOLD => out.push(format!(
            "dsr {:.3} < {DSR_THRESHOLD}: the held-out Sharpe is not significant after {} trials",
            v.dsr, v.n_trials
        )),
        Ok(_) => {}
        Err(why) if test_trades.is_some() => out.push(format!("dsr undefined: {why}")),
        Err(_) => {}
    }
    out
}

/// Whether two sorted, distinct entry-bar lists are one behaviour: they share at least
/// [`OVERLAP_THRESHOLD`] of the larger list (two strategies that never enter are alike).
pub fn same_behaviour(a: &[usize], b: &[usize]) -> bool {
    let larger = a.len().max(b.len());
    if larger == 0 {
        return true;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared as f64 >= OVERLAP_THRESHOLD * larger as f64
}

/// The indices of the entries to keep, best first: an entry is dropped when it is one
/// behaviour ([`same_behaviour`]) with a better (earlier) entry that is kept.
pub fn distinct_behaviours(entry_bars: &[Vec<usize>]) -> Vec<usize> {
    let mut kept: Vec<usize> = Vec::new();
    keep_distinct(&mut kept, entry_bars, 0);
    kept
}

/// [`distinct_behaviours`] continued: `kept` holds the kept indices of `entry_bars[..from]`;
/// adds those of `entry_bars[from..]`.
pub fn keep_distinct(kept: &mut Vec<usize>, entry_bars: &[Vec<usize>], from: usize) {
    for (i, bars) in entry_bars.iter().enumerate().skip(from) {
        if !kept.iter().any(|&k| same_behaviour(&entry_bars[k], bars)) {
            kept.push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_sharing_95_percent_of_entry_bars_are_one_behaviour() {
        let a: Vec<usize> = (0..100).map(|i| i * 3).collect();
        let mut b = a.clone();
        b[0] = 1; // 99 of 100 shared
        let mut c = a.clone();
        for x in c.iter_mut().take(10) {
            *x += 1; // 90 of 100 shared
        }
        assert!(same_behaviour(&a, &b));
        assert!(!same_behaviour(&a, &c));
        assert!(same_behaviour(&[], &[]));
        assert!(!same_behaviour(&[], &[4]));
        assert_eq!(distinct_behaviours(&[a, b, c.clone(), c]), vec![0, 2]);
    }

    #[test]
    fn period_returns_are_per_day_and_warnings_name_their_reason() {
        let day = 86_400_000;
        let ts: Vec<i64> = (0..4).map(|i| 1_704_067_200_000 + i * day).collect();
        let r = period_returns(&[100.0, 110.0, 99.0, 99.0], &ts);
        assert_eq!(r.len(), 3);
        assert!((r[0] - 0.1).abs() < 1e-12 && (r[1] + 0.1).abs() < 1e-12 && r[2] == 0.0);
        let v = EntryValidation {
            psr: 0.9,
            dsr: 0.2,
            sr_per_period: 0.1,
            n_trials: 500,
            sr_variance: 0.01,
            expected_max_sr: 0.3,
            skew: 0.0,
            kurtosis: 3.0,
            n_obs: 100,
        };
        let w = warnings(Some(4), Ok(&v), 10);
        assert!(
            w[0].contains("4 held-out trades") && w[1].contains("dsr 0.200"),
            "{w:?}"
        );
        assert!(warnings(Some(12), Ok(&EntryValidation { dsr: 0.99, ..v }), 10).is_empty());
        assert!(warnings(Some(12), Err("zero variance"), 10)[0].contains("dsr undefined"));
    }
}
