//! Seed `atr_stop_loss` (risk_management): volatility-breakout entries with ATR stop and trailing stop.

use super::features::{failed, finish, genes, int, on_finite_tail, sign};
use crate::indicators::{atr, sma};
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};

/// Entry: a close-to-close move larger than the previous bar's ATR(`atr_period`) enters in its
/// direction (an opposite such move reverses). Exit: the close crosses the tighter of the
/// initial stop (entry close ∓ `stop_loss_multiplier` × ATR at entry) and the trailing stop
/// (best close since entry ∓ `trailing_stop_multiplier` × current ATR). Size, fixed at entry:
/// `min(1, position_size_atr_factor / r) * (1 - volatility_adjustment * clamp(r - 1, 0, 1))`,
/// r = ATR / its mean over `5 * atr_period` bars (size inverse to volatility, cut further in a
/// high-volatility regime).
pub struct AtrStopLoss;

static GENES: [GeneSpec; 5] = [
    GeneSpec::int("atr_period", 10.0, 20.0, 14.0),
    GeneSpec::real("stop_loss_multiplier", 1.2, 2.5, 2.0),
    GeneSpec::real("trailing_stop_multiplier", 0.3, 3.0, 1.5),
    GeneSpec::real("position_size_atr_factor", 0.1, 2.0, 0.5),
    GeneSpec::real("volatility_adjustment", 0.0, 1.0, 0.7),
];

impl Strategy for AtrStopLoss {
    fn name(&self) -> &'static str {
        "atr_stop_loss"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::RiskManagement
    }
    fn doc(&self) -> &'static str {
        "Enter in the direction of a close-to-close move larger than the prior bar's ATR(atr_period); exit on the \
         tighter of an initial stop (stop_loss_multiplier x entry ATR) and a trailing stop (trailing_stop_multiplier \
         x ATR from the best close); size min(1, position_size_atr_factor / r) x (1 - volatility_adjustment x \
         clamp(r - 1, 0, 1)), r = ATR over its 5 x atr_period mean."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// The ATR (look-back `atr_period`) and its mean over `5 * atr_period` ATR values.
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let g = genes(&GENES, genome);
        let _ = data;
        let p = int(g[0]);
        p + 5 * p - 1
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let (period, stop_m, trail_m, size_f, vol_adj) = (int(g[0]), g[1], g[2], g[3], g[4]);
        let b = &data.bars;
        let a = atr(&b.high, &b.low, &b.close, period).map_err(failed(self.name()))?;
        let a_mean = on_finite_tail(&a, |t| sma(t, 5 * period)).map_err(failed(self.name()))?;
        let mut out = vec![0.0; b.len()];
        let mut pos = 0.0f64;
        let (mut stop, mut best) = (0.0f64, 0.0f64);
        for i in 1..b.len() {
            let (c, a_now, a_prev, m) = (b.close[i], a[i], a[i - 1], a_mean[i]);
            if !(a_now.is_finite() && a_prev.is_finite() && m.is_finite()) || m <= 0.0 {
                continue;
            }
            let mv = c - b.close[i - 1];
            let breakout = if mv.abs() > a_prev { sign(mv) } else { 0.0 };
            if pos != 0.0 {
                let dir = sign(pos);
                best = if dir > 0.0 { best.max(c) } else { best.min(c) };
                let trail = best - dir * trail_m * a_now;
                let level = if dir > 0.0 { stop.max(trail) } else { stop.min(trail) };
                if (c - level) * dir < 0.0 {
                    pos = 0.0;
                }
            }
            if breakout != 0.0 && breakout != sign(pos) {
                let r = a_now / m;
                let size = (size_f / r).min(1.0) * (1.0 - vol_adj * (r - 1.0).clamp(0.0, 1.0));
                pos = breakout * size;
                stop = c - breakout * stop_m * a_now;
                best = c;
            }
            out[i] = pos;
        }
        Ok(finish(out))
    }
}
