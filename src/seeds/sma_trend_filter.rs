//! Seed `sma_trend_filter` (trend_following): SMA trend direction sized by trend strength and momentum.

use super::columns::{column, ColumnKey};
use super::features::{efficiency_ratio, failed, finish, genes, int, quantise};
use crate::indicators::sma;
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};

/// Direction `sign(fast SMA - slow SMA)`. Trend strength: Kaufman's efficiency ratio ER over
/// `trend_strength_period` bars (|net move| / path length); size `(1 - f) + f * min(1, 2 * ER)`
/// with f = `filter_sensitivity` (a choppy market shrinks the position). Momentum confirmation:
/// when the close's change over `trend_strength_period` bars disagrees with the direction the
/// size is multiplied by `1 - momentum_confirmation`. Rounded to 0.05.
pub struct SmaTrendFilter;

static GENES: [GeneSpec; 5] = [
    GeneSpec::int("fast_sma_period", 30.0, 80.0, 50.0),
    GeneSpec::int("slow_sma_period", 150.0, 300.0, 200.0),
    GeneSpec::int("trend_strength_period", 10.0, 100.0, 30.0),
    GeneSpec::real("filter_sensitivity", 0.0, 1.0, 0.7),
    GeneSpec::real("momentum_confirmation", 0.0, 1.0, 0.5),
];

impl Strategy for SmaTrendFilter {
    fn name(&self) -> &'static str {
        "sma_trend_filter"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::TrendFollowing
    }
    fn doc(&self) -> &'static str {
        "Direction from fast vs slow SMA; size (1 - filter_sensitivity) + filter_sensitivity x min(1, 2 ER), ER the \
         efficiency ratio over trend_strength_period bars; cut by momentum_confirmation when the close's change over \
         trend_strength_period bars disagrees with the direction."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// Both SMAs (look-back `period - 1`) and the efficiency ratio (defined from bar `trend_strength_period`).
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let g = genes(&GENES, genome);
        let _ = data;
        (int(g[0]).max(int(g[1])) - 1).max(int(g[2]))
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let (fast_p, slow_p, ts_p, filt, mom_c) = (int(g[0]), int(g[1]), int(g[2]), g[3], g[4]);
        let close = &data.bars.close;
        let sma_of = |p: usize| column(data, ColumnKey::new("sma(close)", &[p as u64]), || sma(close, p));
        let fast = sma_of(fast_p).map_err(failed(self.name()))?;
        let slow = sma_of(slow_p).map_err(failed(self.name()))?;
        let er = column(data, ColumnKey::new("efficiency_ratio(close)", &[ts_p as u64]), || {
            Ok::<_, std::convert::Infallible>(efficiency_ratio(close, ts_p))
        })
        .unwrap_or_else(|e| match e {});
        let mut out = vec![0.0; close.len()];
        for i in ts_p..close.len() {
            let (f, s, e) = (fast[i], slow[i], er[i]);
            if !(f.is_finite() && s.is_finite() && e.is_finite()) || f == s {
                continue;
            }
            let dir = (f - s).signum();
            let size = (1.0 - filt) + filt * (2.0 * e).min(1.0);
            let momentum = close[i] - close[i - ts_p];
            let confirm = if momentum * dir > 0.0 { 1.0 } else { 1.0 - mom_c };
            out[i] = quantise(dir * size * confirm, 0.05);
        }
        Ok(finish(out))
    }
}
