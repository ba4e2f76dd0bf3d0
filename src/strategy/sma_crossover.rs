//! `sma_crossover`: the reference strategy; long while SMA(fast) last crossed above SMA(slow), flat after the reverse cross.

use super::{GeneSpec, Strategy, StrategyError, StrategyType};
use crate::backtest::TargetChange;
use crate::indicators::sma;
use crate::market::MarketData;

/// The SMA crossover strategy (see [`SmaCrossover::doc`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SmaCrossover;

/// The registered instance.
pub static SMA_CROSSOVER: SmaCrossover = SmaCrossover;

const GENES: [GeneSpec; 2] = [
    GeneSpec::int("fast", 2.0, 200.0, 10.0),
    GeneSpec::int("slow", 3.0, 500.0, 20.0),
];

impl SmaCrossover {
    /// The (fast, slow) periods of a genome, checked: fast < slow.
    pub fn periods(genome: &[f64]) -> Result<(usize, usize), StrategyError> {
        let invalid = |message: String| StrategyError::InvalidParams {
            strategy: "sma_crossover".into(),
            message,
        };
        let [fast, slow] = genome else {
            return Err(invalid(format!("expected 2 genes (fast, slow), got {}", genome.len())));
        };
        if !(fast.is_finite() && slow.is_finite() && *fast >= 1.0 && *slow >= 1.0) {
            return Err(invalid(format!(
                "periods must be >= 1, got fast = {fast}, slow = {slow}"
            )));
        }
        if fast >= slow {
            return Err(invalid(format!("fast ({fast}) must be shorter than slow ({slow})")));
        }
        Ok((fast.round() as usize, slow.round() as usize))
    }
}

impl Strategy for SmaCrossover {
    fn name(&self) -> &'static str {
        "sma_crossover"
    }

    fn kind(&self) -> StrategyType {
        StrategyType::TrendFollowing
    }

    fn doc(&self) -> &'static str {
        "Long-only SMA crossover (TA-Lib SMA of the close): go fully long when SMA(fast) crosses above \
         SMA(slow) (fast < slow on the previous bar and fast > slow on this one, both strict), go flat \
         on the mirror crossing, otherwise keep the position."
    }

    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }

    /// SMA(fast) and SMA(slow) are defined from bar `max(fast, slow) - 1` (TA-Lib's
    /// look-back `period - 1`); 0 for a genome `signal` rejects.
    fn warmup(&self, _data: &MarketData, genome: &[f64]) -> usize {
        Self::periods(genome).map_or(0, |(fast, slow)| fast.max(slow) - 1)
    }

    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let (fast, slow) = Self::periods(genome)?;
        let close = &data.bars.close;
        let failed = |e: crate::indicators::IndicatorError| StrategyError::Failed {
            strategy: "sma_crossover".into(),
            message: e.to_string(),
        };
        let f = sma(close, fast).map_err(failed)?;
        let s = sma(close, slow).map_err(failed)?;
        let mut targets = vec![0.0; close.len()];
        let mut changes = Vec::new();
        crossover_changes(&f, &s, &mut changes);
        let mut from = 0;
        let mut level = 0.0;
        for ch in &changes {
            targets[from..ch.bar].fill(level);
            from = ch.bar;
            level = ch.target;
        }
        targets[from..].fill(level);
        Ok(targets)
    }
}

/// The target changes of the crossover rule on precomputed SMA series (`out` is cleared
/// first): +1 at an upward cross while flat, 0 at a downward cross while long. NaN (warm-up)
/// compares false, so no cross is seen before both series exist on two consecutive bars.
pub fn crossover_changes(fast: &[f64], slow: &[f64], out: &mut Vec<TargetChange>) {
    out.clear();
    let n = fast.len().min(slow.len());
    if n < 2 {
        return;
    }
    let (fast, slow) = (&fast[..n], &slow[..n]);
    // Bit masks of "fast < slow" and "fast > slow" per 64-bar block (branch-free, so the
    // compiler vectorises it); crossings are then found with bit operations and only the
    // rare crossing bars run the position logic.
    let mut long = false;
    let mut prev_below = false;
    let mut prev_above = false;
    for (block, (f, s)) in fast.chunks(64).zip(slow.chunks(64)).enumerate() {
        let mut below = 0u64;
        let mut above = 0u64;
        for (k, (&a, &b)) in f.iter().zip(s).enumerate() {
            below |= ((a < b) as u64) << k;
            above |= ((a > b) as u64) << k;
        }
        // Bar k's previous-bar state is bit k of the mask shifted up by one.
        let below_before = (below << 1) | prev_below as u64;
        let above_before = (above << 1) | prev_above as u64;
        let mut crossings = (below_before & above) | (above_before & below);
        if block == 0 {
            crossings &= !1; // bar 0 has no previous bar
        }
        while crossings != 0 {
            let k = crossings.trailing_zeros() as usize;
            crossings &= crossings - 1;
            let bar = block * 64 + k;
            let up = above >> k & 1 == 1;
            if up && !long {
                long = true;
                out.push(TargetChange { bar, target: 1.0 });
            } else if !up && long {
                long = false;
                out.push(TargetChange { bar, target: 0.0 });
            }
        }
        let last = f.len() - 1;
        prev_below = below >> last & 1 == 1;
        prev_above = above >> last & 1 == 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::sample::load_sample;

    #[test]
    fn fast_must_be_shorter_than_slow() {
        let data = load_sample("goog-1d").unwrap();
        let err = SMA_CROSSOVER.signal(&data, &[20.0, 20.0]).unwrap_err();
        assert!(matches!(err, StrategyError::InvalidParams { .. }), "{err}");
        assert!(SMA_CROSSOVER.signal(&data, &[30.0, 20.0]).is_err());
        assert!(SMA_CROSSOVER.signal(&data, &[10.0]).is_err());
    }

    #[test]
    fn enters_on_the_up_cross_and_exits_on_the_down_cross() {
        let fast = [f64::NAN, 1.0, 3.0, 3.0, 2.0, 1.0, 3.0];
        let slow = [f64::NAN, 2.0, 2.0, 3.0, 3.0, 2.0, 2.0];
        let mut out = Vec::new();
        crossover_changes(&fast, &slow, &mut out);
        // Bar 2 crosses up; bar 3 touches (no strict cross down); bar 4 is below after equal
        // (not a strict cross either); bar 6 crosses up again while still long: no change.
        assert_eq!(out, vec![TargetChange { bar: 2, target: 1.0 }]);
        let fast = [1.0, 3.0, 1.0, 3.0];
        let slow = [2.0, 2.0, 2.0, 2.0];
        crossover_changes(&fast, &slow, &mut out);
        assert_eq!(
            out,
            vec![
                TargetChange { bar: 1, target: 1.0 },
                TargetChange { bar: 2, target: 0.0 },
                TargetChange { bar: 3, target: 1.0 }
            ]
        );
    }

    /// The plain sequential rule, for comparison with the bit-mask scan.
    fn reference(fast: &[f64], slow: &[f64]) -> Vec<TargetChange> {
        let mut out = Vec::new();
        let mut long = false;
        for bar in 1..fast.len() {
            let up = fast[bar - 1] < slow[bar - 1] && fast[bar] > slow[bar];
            let down = fast[bar - 1] > slow[bar - 1] && fast[bar] < slow[bar];
            if up && !long {
                long = true;
                out.push(TargetChange { bar, target: 1.0 });
            } else if down && long {
                long = false;
                out.push(TargetChange { bar, target: 0.0 });
            }
        }
        out
    }

    #[test]
    fn bit_mask_scan_equals_the_sequential_rule() {
        let data = load_sample("eurusd-1h").unwrap();
        let close = &data.bars.close;
        let mut out = Vec::new();
        for (f, s) in [(2, 3), (3, 7), (10, 20), (10, 30), (64, 65), (50, 200)] {
            let (f, s) = (sma(close, f).unwrap(), sma(close, s).unwrap());
            for len in [0, 1, 2, 63, 64, 65, 128, 129, close.len()] {
                crossover_changes(&f[..len], &s[..len], &mut out);
                assert_eq!(out, reference(&f[..len], &s[..len]), "len {len}");
            }
        }
    }

    #[test]
    fn signal_is_flat_during_warm_up_and_only_zero_or_one() {
        let data = load_sample("eurusd-1h").unwrap();
        let t = SMA_CROSSOVER.signal(&data, &[10.0, 30.0]).unwrap();
        assert_eq!(t.len(), data.bars.len());
        assert!(t[..30].iter().all(|&x| x == 0.0));
        assert!(t.iter().all(|&x| x == 0.0 || x == 1.0));
        assert!(t.contains(&1.0));
    }
}
