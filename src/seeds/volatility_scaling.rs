//! Seed `volatility_scaling` (volatility): momentum sized to a target volatility, cut in persistent high-vol regimes.

use super::features::{bars_per_year, failed, finish, genes, int, log_returns, realign, sign};
use crate::indicators::stddev;
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};

/// Long-window volatility uses this many times `volatility_window`.
const LONG_WINDOW_FACTOR: usize = 4;

/// Direction: the sign of the close's change over `volatility_window` bars. Volatility: the
/// population standard deviation of log returns over `volatility_window` (short) and 4× that
/// (long) bars, blended `(1 - m) * short + m * long` with m = `multi_timeframe_weight`,
/// annualised with the bars per year implied by the bar interval. Size `min(1,
/// target_volatility / annualised vol)`, multiplied by `scaling_factor` while short/long vol has
/// exceeded `regime_threshold` for at least `regime_persistence` consecutive bars. The held
/// target moves only when the new one differs by more than `position_base` (a rebalancing band)
/// or changes side.
pub struct VolatilityScaling;

static GENES: [GeneSpec; 7] = [
    GeneSpec::int("volatility_window", 10.0, 40.0, 20.0),
    GeneSpec::real("regime_threshold", 0.8, 2.0, 1.5),
    GeneSpec::real("scaling_factor", 0.2, 0.8, 0.5),
    GeneSpec::int("regime_persistence", 2.0, 10.0, 5.0),
    GeneSpec::real("multi_timeframe_weight", 0.0, 1.0, 0.3),
    GeneSpec::real("target_volatility", 0.10, 0.20, 0.15),
    GeneSpec::real("position_base", 0.005, 0.05, 0.02),
];

impl Strategy for VolatilityScaling {
    fn name(&self) -> &'static str {
        "volatility_scaling"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::Volatility
    }
    fn doc(&self) -> &'static str {
        "Momentum (sign of the change over volatility_window bars) sized min(1, target_volatility / annualised vol), \
         vol a blend of volatility_window and 4 x volatility_window return sd weighted by multi_timeframe_weight; \
         multiplied by scaling_factor once short/long vol has exceeded regime_threshold for regime_persistence bars; \
         the target moves only by more than position_base (rebalancing band) or on a change of side."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// The long volatility: the sd of `4 * window` log returns, defined from bar `4 * window`.
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let g = genes(&GENES, genome);
        let _ = data;
        LONG_WINDOW_FACTOR * int(g[0])
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let (window, regime_thr, scaling, persistence) = (int(g[0]), g[1], g[2], int(g[3]));
        let (mtf_w, target_vol, band) = (g[4], g[5], g[6]);
        let b = &data.bars;
        let n = b.len();
        let mut out = vec![0.0; n];
        if n < 2 {
            return Ok(out);
        }
        let r = log_returns(&b.close);
        let short = realign(stddev(&r[1..], window).map_err(failed(self.name()))?);
        let long = realign(stddev(&r[1..], LONG_WINDOW_FACTOR * window).map_err(failed(self.name()))?);
        let bpy = bars_per_year(&b.timestamp_ms);
        let mut held = 0.0f64;
        let mut high_run = 0usize;
        for i in window..n {
            let (s, l) = (short[i], long[i]);
            if !(s.is_finite() && l.is_finite()) || l <= 0.0 {
                continue;
            }
            high_run = if s / l > regime_thr { high_run + 1 } else { 0 };
            let vol = ((1.0 - mtf_w) * s + mtf_w * l) * bpy[i].sqrt();
            let dir = sign(b.close[i] - b.close[i - window]);
            let mut size = if vol > 0.0 { (target_vol / vol).min(1.0) } else { 0.0 };
            if high_run >= persistence {
                size *= scaling;
            }
            let target = dir * size;
            if sign(target) != sign(held) || (target - held).abs() > band {
                held = target;
            }
            out[i] = held;
        }
        Ok(finish(out))
    }
}
