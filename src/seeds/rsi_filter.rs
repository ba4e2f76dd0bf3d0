//! Seed `rsi_filter` (mean_reversion): Wilder RSI zones, optionally trend-filtered, blended with divergence.

use super::columns::{column, ColumnKey};
use super::features::{divergence, failed, finish, genes, int, quantise};
use crate::indicators::{ema, rsi};
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};

/// RSI points beyond a threshold at which the reversal strength reaches 1.
const FULL_STRENGTH_POINTS: f64 = 10.0;

/// Wilder RSI mean reversion. Reversal: long when RSI < `oversold_threshold`, short when RSI >
/// `overbought_threshold`, with strength `0.5 + 0.5 * min(1, points beyond / 10)`. Trend filter:
/// a long counts only while the close is above its EMA of `4 * rsi_period` bars (short: below);
/// `operation_mode` m blends them: `base = reversal * ((1 - m) + m * trend_ok)`. Divergence
/// (close at a new `2 * rsi_period`-bar low while RSI is not: +1; mirror: -1) is blended in by
/// `divergence_weight` w: `signal = (1 - w) * base + w * divergence`, rounded to 0.05.
pub struct RsiFilter;

static GENES: [GeneSpec; 5] = [
    GeneSpec::int("rsi_period", 10.0, 20.0, 14.0),
    GeneSpec::real("oversold_threshold", 25.0, 40.0, 25.0),
    GeneSpec::real("overbought_threshold", 60.0, 80.0, 75.0),
    GeneSpec::real("operation_mode", 0.0, 1.0, 0.7),
    GeneSpec::real("divergence_weight", 0.0, 1.0, 0.3),
];

impl Strategy for RsiFilter {
    fn name(&self) -> &'static str {
        "rsi_filter"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::MeanReversion
    }
    fn doc(&self) -> &'static str {
        "Wilder RSI mean reversion: long below oversold_threshold, short above overbought_threshold, strength \
         0.5..1 growing with the distance (full at 10 points); operation_mode blends this with a trend-filtered \
         version (long only above the EMA of 4 x rsi_period bars, short only below); divergence_weight blends in \
         price/RSI divergence over 2 x rsi_period bars."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// RSI (look-back `rsi_period`) and the trend EMA of `4 * rsi_period` bars; the divergence term is optional.
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let g = genes(&GENES, genome);
        let _ = data;
        let p = int(g[0]);
        p.max(4 * p - 1)
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let (period, oversold, overbought, mode, div_w) = (int(g[0]), g[1], g[2], g[3], g[4]);
        let close = &data.bars.close;
        let r = column(data, ColumnKey::new("rsi(close)", &[period as u64]), || {
            rsi(close, period)
        })
        .map_err(failed(self.name()))?;
        let trend = column(data, ColumnKey::new("ema(close)", &[4 * period as u64]), || {
            ema(close, 4 * period)
        })
        .map_err(failed(self.name()))?;
        let div = column(
            data,
            ColumnKey::new("divergence(close, rsi(close))", &[period as u64, 2 * period as u64]),
            || Ok::<_, std::convert::Infallible>(divergence(close, &r, 2 * period)),
        )
        .unwrap_or_else(|e| match e {});
        let mut out = vec![0.0; close.len()];
        for i in 0..close.len() {
            let (v, t, c) = (r[i], trend[i], close[i]);
            if !(v.is_finite() && t.is_finite()) {
                continue;
            }
            let strength = |points: f64| 0.5 + 0.5 * (points / FULL_STRENGTH_POINTS).min(1.0);
            let (reversal, trend_ok) = if v < oversold {
                (strength(oversold - v), c > t)
            } else if v > overbought {
                (-strength(v - overbought), c < t)
            } else {
                (0.0, false)
            };
            let base = reversal * ((1.0 - mode) + mode * f64::from(u8::from(trend_ok)));
            out[i] = quantise((1.0 - div_w) * base + div_w * div[i], 0.05);
        }
        Ok(finish(out))
    }
}
