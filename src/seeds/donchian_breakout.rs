//! Seed `donchian_breakout` (breakout): close beyond the prior channel with volume confirmation.

use super::columns::{column, ColumnKey};
use super::features::{failed, finish, genes, horizon_scale_column, int, prior, rolling_max, rolling_min};
use crate::indicators::sma;
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};
use std::convert::Infallible;

/// Bars in the volume mean used for confirmation.
const VOLUME_MEAN_BARS: usize = 20;

/// Enter long when the close exceeds the highest high of the previous `channel_period` bars
/// (current bar excluded) by more than `breakout_threshold` (relative, for daily bars, scaled by
/// `sqrt(bar duration / 1 day)`), and the bar's volume is at least `volume_confirmation` times
/// the mean volume of the previous 20 bars (skipped when the data has no volume); short in the
/// mirror case below the lowest low. A position is closed as a failed breakout when, within
/// `false_breakout_filter` bars of entry, the close falls back inside the breakout level; it is
/// reversed by an opposite breakout. Long entries have size `min(1, 2 * trend_bias)`, short
/// entries `min(1, 2 * (1 - trend_bias))`.
pub struct DonchianBreakout;

static GENES: [GeneSpec; 5] = [
    GeneSpec::int("channel_period", 10.0, 30.0, 20.0),
    GeneSpec::real("breakout_threshold", 0.001, 0.02, 0.005),
    GeneSpec::real("volume_confirmation", 1.0, 3.0, 1.5),
    GeneSpec::int("false_breakout_filter", 2.0, 10.0, 4.0),
    GeneSpec::real("trend_bias", 0.0, 1.0, 0.5),
];

impl Strategy for DonchianBreakout {
    fn name(&self) -> &'static str {
        "donchian_breakout"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::Breakout
    }
    fn doc(&self) -> &'static str {
        "Enter long (short) when the close breaks above (below) the prior channel_period-bar high (low), current \
         bar excluded, by breakout_threshold (daily-bar units, scaled by sqrt(bar duration / 1 day)), with volume \
         at least volume_confirmation x its prior 20-bar mean; exit when the close falls back inside the breakout \
         level within false_breakout_filter bars, reverse on the opposite breakout. Long size min(1, 2 trend_bias), \
         short size min(1, 2 (1 - trend_bias))."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// The prior channel (current bar excluded) from bar `channel_period`; the volume mean is optional.
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let g = genes(&GENES, genome);
        let _ = data;
        int(g[0])
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let (period, threshold, vol_conf, fail_bars, bias) = (int(g[0]), g[1], g[2], int(g[3]), g[4]);
        let b = &data.bars;
        let n = b.len();
        let p = [period as u64];
        let upper = column(data, ColumnKey::new("prior(rolling_max(high))", &p), || {
            Ok::<_, Infallible>(prior(&rolling_max(&b.high, period)))
        })
        .unwrap_or_else(|e| match e {});
        let lower = column(data, ColumnKey::new("prior(rolling_min(low))", &p), || {
            Ok::<_, Infallible>(prior(&rolling_min(&b.low, period)))
        })
        .unwrap_or_else(|e| match e {});
        let vol_mean = column(
            data,
            ColumnKey::new("prior(sma(volume))", &[VOLUME_MEAN_BARS as u64]),
            || sma(&b.volume, VOLUME_MEAN_BARS).map(|v| prior(&v)),
        )
        .map_err(failed(self.name()))?;
        let scale = horizon_scale_column(data);
        let long_size = (2.0 * bias).min(1.0);
        let short_size = (2.0 * (1.0 - bias)).min(1.0);

        let mut out = vec![0.0; n];
        let mut pos = 0.0f64;
        let mut entry = 0usize;
        let mut level = 0.0f64;
        let (upper, lower, close, volume) = (&upper[..n], &lower[..n], &b.close[..n], &b.volume[..n]);
        let (scale, vol_mean) = (&scale[..n], &vol_mean[..n]);
        for i in 0..n {
            let (up, lo, c) = (upper[i], lower[i], close[i]);
            if !(up.is_finite() && lo.is_finite() && c.is_finite()) {
                continue;
            }
            let thr = threshold * scale[i];
            let vm = vol_mean[i];
            let vol_ok = !(vm.is_finite() && vm > 0.0) || volume[i] >= vol_conf * vm;
            let long_break = vol_ok && c > up * (1.0 + thr);
            let short_break = vol_ok && c < lo * (1.0 - thr);
            if pos > 0.0 {
                if short_break {
                    (pos, entry, level) = (-short_size, i, lo);
                } else if i - entry <= fail_bars && c < level {
                    pos = 0.0;
                }
            } else if pos < 0.0 {
                if long_break {
                    (pos, entry, level) = (long_size, i, up);
                } else if i - entry <= fail_bars && c > level {
                    pos = 0.0;
                }
            } else if long_break && long_size > 0.0 {
                (pos, entry, level) = (long_size, i, up);
            } else if short_break && short_size > 0.0 {
                (pos, entry, level) = (-short_size, i, lo);
            }
            out[i] = pos;
        }
        Ok(finish(out))
    }
}
