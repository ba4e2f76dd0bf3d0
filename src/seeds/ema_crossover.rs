//! Seed `ema_crossover` (momentum): fast/slow EMA gap with a slope filter on the slow EMA.

use super::columns::{column, ColumnKey};
use super::features::{failed, finish, genes, horizon_scale_column, int};
use crate::indicators::ema;
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};

/// Long `signal_strength` when the fast EMA is above the slow EMA by more than
/// `momentum_threshold` (relative gap `(fast - slow) / slow`) and the slow EMA has risen by
/// more than `trend_filter` over the last `slow_ema_period` bars; short in the mirror case;
/// flat otherwise. Both thresholds are for daily bars, scaled by `sqrt(bar duration / 1 day)`.
pub struct EmaCrossover;

static GENES: [GeneSpec; 5] = [
    GeneSpec::int("fast_ema_period", 5.0, 15.0, 12.0),
    GeneSpec::int("slow_ema_period", 18.0, 34.0, 26.0),
    GeneSpec::real("momentum_threshold", 0.001, 0.05, 0.01),
    GeneSpec::real("signal_strength", 0.1, 1.0, 0.5),
    GeneSpec::real("trend_filter", 0.0, 0.02, 0.005),
];

impl Strategy for EmaCrossover {
    fn name(&self) -> &'static str {
        "ema_crossover"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::Momentum
    }
    fn doc(&self) -> &'static str {
        "Long (short) signal_strength while the fast EMA is above (below) the slow EMA by more than \
         momentum_threshold and the slow EMA rose (fell) more than trend_filter over slow_ema_period bars; \
         flat otherwise. Thresholds are for daily bars, scaled by sqrt(bar duration / 1 day)."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// The fast and slow EMAs (TA-Lib look-back `period - 1`).
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let g = genes(&GENES, genome);
        let _ = data;
        int(g[0]).max(int(g[1])) - 1
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let (fast_p, slow_p, mom, strength, trend) = (int(g[0]), int(g[1]), g[2], g[3], g[4]);
        let close = &data.bars.close;
        let ema_of = |p: usize| column(data, ColumnKey::new("ema(close)", &[p as u64]), || ema(close, p));
        let fast = ema_of(fast_p).map_err(failed(self.name()))?;
        let slow = ema_of(slow_p).map_err(failed(self.name()))?;
        let scale = horizon_scale_column(data);
        let mut out = vec![0.0; close.len()];
        for i in slow_p..close.len() {
            let (f, s, s_then) = (fast[i], slow[i], slow[i - slow_p]);
            if !(f.is_finite() && s.is_finite() && s_then.is_finite()) || s <= 0.0 || s_then <= 0.0 {
                continue;
            }
            let gap = (f - s) / s;
            let slope = s / s_then - 1.0;
            let (m, t) = (mom * scale[i], trend * scale[i]);
            out[i] = if gap > m && slope > t {
                strength
            } else if gap < -m && slope < -t {
                -strength
            } else {
                0.0
            };
        }
        Ok(finish(out))
    }
}
