//! Seed `bollinger_bands` (volatility): squeeze breakouts, otherwise mean reversion at the bands.

use super::bandwidth_rank::BandwidthOrder;
use super::columns::{column, ColumnKey};
use super::features::{failed, finish, genes, int, NO_RANK};
use crate::indicators::middle_and_sd;
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};

/// The bandwidth's percentile rank is taken over this many times `lookback_period` bars.
const SQUEEZE_HISTORY_FACTOR: usize = 5;

/// Bollinger bands (SMA `lookback_period` ± `volatility_multiplier` population sd); %B =
/// (close - lower) / (upper - lower); bandwidth = (upper - lower) / middle. A squeeze is a bar
/// whose bandwidth ranks in the lowest `squeeze_threshold` fraction of the last `5 *
/// lookback_period` bandwidths (scale-free, so it means the same on FX hours and stock days).
/// Within `lookback_period` bars after a squeeze, %B above `1 + breakout_strength` opens a long
/// breakout (below `-breakout_strength` a short), held until the close crosses the middle band
/// against it; otherwise %B < 0 opens a mean-reversion long (%B > 1 a short), held until the close
/// reaches the middle band. Sizes, fixed at entry: breakout `min(1, 0.75 * s)`, reversion
/// `min(1, 0.5 * s * (1 + distance beyond the band in band widths))`, s =
/// `position_scaling_factor`.
pub struct BollingerBands;

static GENES: [GeneSpec; 5] = [
    GeneSpec::int("lookback_period", 10.0, 40.0, 20.0),
    GeneSpec::real("volatility_multiplier", 1.5, 2.5, 2.0),
    GeneSpec::real("squeeze_threshold", 0.05, 0.25, 0.15),
    GeneSpec::real("breakout_strength", 0.01, 0.05, 0.02),
    GeneSpec::real("position_scaling_factor", 0.5, 1.5, 1.0),
];

impl Strategy for BollingerBands {
    fn name(&self) -> &'static str {
        "bollinger_bands"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::Volatility
    }
    fn doc(&self) -> &'static str {
        "Bollinger bands (lookback_period, volatility_multiplier): within lookback_period bars of a squeeze \
         (bandwidth in the lowest squeeze_threshold fraction of its last 5 x lookback_period values) trade a \
         breakout of %B beyond 1 + breakout_strength (or -breakout_strength) until the close crosses the middle \
         band; otherwise fade closes outside the bands until the middle band; sizes scaled by \
         position_scaling_factor, clipped to 1."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// The bandwidth's percentile rank: the bands from bar `lookback_period - 1`, the rank once `5 * lookback_period` bandwidths exist.
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let g = genes(&GENES, genome);
        let _ = data;
        let p = int(g[0]);
        (p - 1) + (SQUEEZE_HISTORY_FACTOR * p - 1)
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let (period, mult, squeeze_q, strength, scaling) = (int(g[0]), g[1], g[2], g[3], g[4]);
        let close = &data.bars.close;
        if !mult.is_finite() {
            return Err(failed(self.name())(crate::indicators::IndicatorError::InvalidParam {
                indicator: "bbands",
                message: "nbdevup must be finite".into(),
            }));
        }
        // TA-Lib BBANDS: upper = middle + sd * mult, lower = middle - sd * mult, with the
        // middle band and sd kept per period and the bandwidth rank per (period, mult).
        let msd = column(
            data,
            ColumnKey::new("bbands middle, sd (close)", &[period as u64]),
            || middle_and_sd(close, period).map(|(m, s)| [m, s]),
        )
        .map_err(failed(self.name()))?;
        let [middle, sd] = &*msd;
        // The bandwidth's percentile rank, kept as counts of lower values (exactly
        // `percentile_rank`: count / (window - 1)), from one ordering per period.
        let history = SQUEEZE_HISTORY_FACTOR * period;
        let order = column(
            data,
            ColumnKey::new("bollinger_bands/bandwidth order", &[period as u64]),
            || Ok::<_, std::convert::Infallible>(BandwidthOrder::new(middle, sd, history)),
        )
        .unwrap_or_else(|e| match e {});
        let below = column(
            data,
            ColumnKey::new(
                "bollinger_bands/bandwidth below counts",
                &[period as u64, mult.to_bits()],
            ),
            || Ok::<_, std::convert::Infallible>(order.below_counts(middle, sd, mult)),
        )
        .unwrap_or_else(|e| match e {});
        let denominator = (history.max(2) - 1) as f64;
        // A squeeze is `count / denominator <= squeeze_threshold`; that quotient grows with the
        // count, so it holds exactly for the counts below `squeeze_counts` (no division per bar).
        let squeeze_counts = (0..history.max(2))
            .take_while(|&k| k as f64 / denominator <= squeeze_q)
            .count();
        let n = close.len();
        let (middle, sd, below, close) = (&middle[..n], &sd[..n], &below[..n], &close[..n]);
        let mut out = vec![0.0; n];
        let mut pos = 0.0f64;
        let mut breakout = false;
        let mut last_squeeze: Option<usize> = None;
        for i in 0..n {
            let (mid, c, count) = (middle[i], close[i], below[i]);
            let (up, lo) = (mid + sd[i] * mult, mid - sd[i] * mult);
            if !(up.is_finite() && mid.is_finite() && lo.is_finite()) || up <= lo || count == NO_RANK {
                continue;
            }
            if usize::from(count) < squeeze_counts {
                last_squeeze = Some(i);
            }
            let pct_b = (c - lo) / (up - lo);
            // Exits.
            let long_exit = pos > 0.0 && ((breakout && c < mid) || (!breakout && c >= mid));
            let short_exit = pos < 0.0 && ((breakout && c > mid) || (!breakout && c <= mid));
            if long_exit || short_exit {
                pos = 0.0;
            }
            // Entries (also reversals of an open position).
            let after_squeeze = last_squeeze.is_some_and(|s| i - s <= period);
            let breakout_size = (0.75 * scaling).min(1.0);
            if after_squeeze {
                if pct_b > 1.0 + strength && !(pos > 0.0 && breakout) {
                    (pos, breakout) = (breakout_size, true);
                } else if pct_b < -strength && !(pos < 0.0 && breakout) {
                    (pos, breakout) = (-breakout_size, true);
                }
            } else if pos == 0.0 || !breakout {
                if pct_b < 0.0 && pos <= 0.0 {
                    (pos, breakout) = ((0.5 * scaling * (1.0 - pct_b)).min(1.0), false);
                } else if pct_b > 1.0 && pos >= 0.0 {
                    (pos, breakout) = (-(0.5 * scaling * pct_b).min(1.0), false);
                }
            }
            out[i] = pos;
        }
        Ok(finish(out))
    }
}
