//! Seed `vwap_reversion` (mean_reversion): fade deviations from a rolling VWAP, sized in band units.

use super::features::{efficiency_ratio, failed, finish, genes, horizon_scale, int, prior, sign};
use crate::indicators::{rolling_vwap, sma};
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};

/// Bars in the volume mean used for confirmation.
const VOLUME_MEAN_BARS: usize = 20;

/// Rolling VWAP of the typical price over `vwap_period` bars, with a volume-weighted standard
/// deviation `sd` of the typical price around it. When flat, a close more than
/// `reversion_threshold` (relative, for daily bars, scaled by `sqrt(bar duration / 1 day)`)
/// above the VWAP opens a short, below it a long, if the bar's volume is at least
/// `volume_confirmation` times its prior 20-bar mean (skipped without volume data). Size, fixed
/// at entry: `min(1, |close - vwap| / (deviation_multiplier * sd)) * (1 -
/// regime_detection_weight * ER)`, ER the efficiency ratio over `vwap_period` bars (damped in trending regimes). The
/// position is held until the close crosses back through the VWAP.
pub struct VwapReversion;

static GENES: [GeneSpec; 5] = [
    GeneSpec::int("vwap_period", 10.0, 200.0, 50.0),
    GeneSpec::real("reversion_threshold", 0.008, 0.015, 0.012),
    GeneSpec::real("volume_confirmation", 0.5, 2.5, 1.2),
    GeneSpec::real("deviation_multiplier", 1.0, 4.0, 2.0),
    GeneSpec::real("regime_detection_weight", 0.0, 1.0, 0.6),
];

impl Strategy for VwapReversion {
    fn name(&self) -> &'static str {
        "vwap_reversion"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::MeanReversion
    }
    fn doc(&self) -> &'static str {
        "Fade a close more than reversion_threshold (daily-bar units, scaled by sqrt(bar duration / 1 day)) away from \
         the rolling VWAP (vwap_period bars) on volume at least volume_confirmation x its prior 20-bar mean; size \
         min(1, deviation / (deviation_multiplier x volume-weighted sd)) x (1 - regime_detection_weight x efficiency \
         ratio); hold until the close crosses back through the VWAP."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// The rolling VWAP, its deviation (both from bar `vwap_period - 1`) and the efficiency ratio (from bar `vwap_period`); the volume mean is optional.
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let g = genes(&GENES, genome);
        let _ = data;
        int(g[0])
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let (period, threshold, vol_conf, dev_m, regime_w) = (int(g[0]), g[1], g[2], g[3], g[4]);
        let b = &data.bars;
        let n = b.len();
        let vwap = rolling_vwap(&b.high, &b.low, &b.close, &b.volume, period).map_err(failed(self.name()))?;
        let sd = weighted_sd(data, &vwap, period);
        let vol_mean = prior(&sma(&b.volume, VOLUME_MEAN_BARS).map_err(failed(self.name()))?);
        let er = efficiency_ratio(&b.close, period);
        let scale = horizon_scale(&b.timestamp_ms);
        let mut out = vec![0.0; n];
        let mut pos = 0.0f64;
        for i in 0..n {
            let (c, vw, s, e) = (b.close[i], vwap[i], sd[i], er[i]);
            if !(c.is_finite() && vw.is_finite() && s.is_finite() && e.is_finite()) || vw <= 0.0 {
                continue;
            }
            let dev = (c - vw) / vw;
            if pos != 0.0 && sign(dev) != -sign(pos) {
                pos = 0.0;
            }
            if pos == 0.0 && dev.abs() > threshold * scale[i] {
                let vm = vol_mean[i];
                let vol_ok = !(vm.is_finite() && vm > 0.0) || b.volume[i] >= vol_conf * vm;
                if vol_ok {
                    let band = if s > 0.0 {
                        ((c - vw).abs() / (dev_m * s)).min(1.0)
                    } else {
                        1.0
                    };
                    pos = -sign(dev) * band * (1.0 - regime_w * e);
                }
            }
            out[i] = pos;
        }
        Ok(finish(out))
    }
}

/// Volume-weighted standard deviation of the typical price over the `period` bars ending at i,
/// around `vwap[i]` (equal weights when the window has no volume); NaN where `vwap` is NaN.
///
/// O(n) with running sums of w, w·x and w·x², x = typical price minus bar 0's (so the sums do
/// not cancel catastrophically), re-summed from scratch every `period` bars to bound drift; the
/// re-sum points depend only on the bar index, so the value at bar i never depends on later bars.
fn weighted_sd(data: &MarketData, vwap: &[f64], period: usize) -> Vec<f64> {
    let b = &data.bars;
    let n = b.len();
    let mut out = vec![f64::NAN; n];
    if n == 0 {
        return out;
    }
    let tp = |i: usize| (b.high[i] + b.low[i] + b.close[i]) / 3.0;
    let origin = tp(0);
    let x = |i: usize| tp(i) - origin;
    // Sums for volume weights and for equal weights (used when the window has no volume).
    let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
    let (mut e1, mut e2) = (0.0, 0.0);
    for i in 0..n {
        if i >= period && (i - period).is_multiple_of(period) {
            let w = i + 1 - period..i;
            s0 = w.clone().map(|j| b.volume[j]).sum();
            s1 = w.clone().map(|j| b.volume[j] * x(j)).sum();
            s2 = w.clone().map(|j| b.volume[j] * x(j) * x(j)).sum();
            e1 = w.clone().map(x).sum();
            e2 = w.map(|j| x(j) * x(j)).sum();
        } else if i >= period {
            let j = i - period;
            let (v, xj) = (b.volume[j], x(j));
            s0 -= v;
            s1 -= v * xj;
            s2 -= v * xj * xj;
            e1 -= xj;
            e2 -= xj * xj;
        }
        let (v, xi) = (b.volume[i], x(i));
        s0 += v;
        s1 += v * xi;
        s2 += v * xi * xi;
        e1 += xi;
        e2 += xi * xi;
        if i + 1 < period || !vwap[i].is_finite() {
            continue;
        }
        let m = vwap[i] - origin;
        let (w, wx, wxx) = if s0 > 0.0 {
            (s0, s1, s2)
        } else {
            (period as f64, e1, e2)
        };
        let var = (wxx - 2.0 * m * wx + m * m * w) / w;
        out[i] = var.max(0.0).sqrt();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::sample::load_sample;

    #[test]
    fn running_weighted_sd_matches_direct_sum() {
        for name in ["eurusd-1h", "goog-1d"] {
            let d = load_sample(name).unwrap();
            let b = &d.bars;
            for period in [10, 50, 200] {
                let vwap = rolling_vwap(&b.high, &b.low, &b.close, &b.volume, period).unwrap();
                let fast = weighted_sd(&d, &vwap, period);
                for i in (period - 1)..b.len() {
                    let w = i + 1 - period..=i;
                    let tp = |j: usize| (b.high[j] + b.low[j] + b.close[j]) / 3.0;
                    let vol: f64 = b.volume[w.clone()].iter().sum();
                    let num: f64 = w.map(|j| b.volume[j] * (tp(j) - vwap[i]).powi(2)).sum();
                    let direct = (num / vol).sqrt();
                    assert!(
                        (fast[i] - direct).abs() <= 1e-6 * direct.max(1e-9),
                        "{name} p={period} bar {i}"
                    );
                }
            }
        }
    }
}
