//! Seed `nadaraya_watson` (trend_following): one-sided kernel regression of the close, traded on its slope.

use super::features::{failed, finish, genes, horizon_scale, int, log_returns, quantise, realign, sign};
use crate::indicators::stddev;
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};

/// Long-window volatility for the bandwidth adaptation uses this many times the bandwidth.
const LONG_VOL_FACTOR: usize = 5;
/// The Gaussian kernel is cut at this many bandwidths.
const GAUSSIAN_SUPPORT: f64 = 3.0;

/// Causal Nadaraya–Watson estimate of the close: at bar i, a weighted mean of closes i, i-1, …
/// with weight K(j / h) for the close j bars ago (Gaussian `exp(-x²/2)` cut at 3h when
/// `kernel_type` < 0.5, else Epanechnikov `1 - x²` for x < 1). The bandwidth h adapts to
/// volatility: `h = round(bandwidth * clamp(vs / vl, 0.5, 2) ^ volatility_adaptation)`, vs and
/// vl the return sd over `bandwidth` and `5 * bandwidth` bars (wider in turbulent markets). The
/// slope is the estimate's relative change over `bandwidth` bars, smoothed by an EMA with weight
/// `smoothing_factor` on the new value. Position: `sign(slope) * min(1, |slope| / (2 * thr))`
/// when |slope| > thr, else 0, thr = `trend_threshold` (for daily bars, scaled by `sqrt(bar
/// duration / 1 day)`); rounded to 0.05.
pub struct NadarayaWatson;

static GENES: [GeneSpec; 5] = [
    GeneSpec::real("bandwidth", 5.0, 40.0, 20.0),
    GeneSpec::real("kernel_type", 0.0, 1.0, 0.0),
    GeneSpec::real("trend_threshold", 0.002, 0.08, 0.01),
    GeneSpec::real("smoothing_factor", 0.1, 0.9, 0.3),
    GeneSpec::real("volatility_adaptation", 0.0, 1.0, 0.5),
];

impl Strategy for NadarayaWatson {
    fn name(&self) -> &'static str {
        "nadaraya_watson"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::TrendFollowing
    }
    fn doc(&self) -> &'static str {
        "One-sided kernel regression of the close (Gaussian if kernel_type < 0.5, else Epanechnikov) with bandwidth \
         scaled by (short/long volatility)^volatility_adaptation; trade the estimate's change over bandwidth bars, \
         EMA-smoothed by smoothing_factor, when beyond trend_threshold (daily-bar units, scaled by sqrt(bar \
         duration / 1 day)), size growing to 1 at twice the threshold."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// The long volatility that adapts the bandwidth: the sd of `5 * bandwidth` log returns, defined from bar `5 * bandwidth`.
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let g = genes(&GENES, genome);
        let _ = data;
        LONG_VOL_FACTOR * int(g[0])
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let (bandwidth, gaussian, threshold, smoothing, adapt) = (g[0], g[1] < 0.5, g[2], g[3], g[4]);
        let close = &data.bars.close;
        let n = close.len();
        let mut out = vec![0.0; n];
        if n < 2 {
            return Ok(out);
        }
        let base_h = int(bandwidth);
        let r = log_returns(close);
        let vs = realign(stddev(&r[1..], base_h).map_err(failed(self.name()))?);
        let vl = realign(stddev(&r[1..], LONG_VOL_FACTOR * base_h).map_err(failed(self.name()))?);
        let scale = horizon_scale(&data.bars.timestamp_ms);
        let mut kernels = KernelCache::new(gaussian);

        // The bandwidth of each bar (0: no estimate there: no volatility yet, or too few bars).
        let bandwidths: Vec<usize> = (0..n)
            .map(|i| {
                if !(vs[i].is_finite() && vl[i].is_finite()) || vl[i] <= 0.0 {
                    return 0;
                }
                let ratio = (vs[i] / vl[i]).clamp(0.5, 2.0);
                let h = (bandwidth * ratio.powf(adapt)).round().max(2.0) as usize;
                if kernels.weights(h).len() > i + 1 {
                    0
                } else {
                    h
                }
            })
            .collect();
        let estimate = estimates(close, &bandwidths, &mut kernels);

        let mut smooth = f64::NAN;
        for i in base_h..n {
            let (now, then) = (estimate[i], estimate[i - base_h]);
            if !(now.is_finite() && then.is_finite()) || then <= 0.0 {
                continue;
            }
            let slope = now / then - 1.0;
            smooth = if smooth.is_finite() {
                smoothing * slope + (1.0 - smoothing) * smooth
            } else {
                slope
            };
            let thr = threshold * scale[i];
            if smooth.abs() > thr {
                out[i] = quantise(sign(smooth) * (smooth.abs() / (2.0 * thr)).min(1.0), 0.05);
            }
        }
        Ok(finish(out))
    }
}

/// The kernel estimate at every bar with a bandwidth (`bandwidths[i]` > 0, its weights no
/// longer than i + 1 lags): the weighted mean of closes i, i-1, …; NaN elsewhere.
fn estimates(close: &[f64], bandwidths: &[usize], kernels: &mut KernelCache) -> Vec<f64> {
    let n = close.len();
    let mut estimate = vec![f64::NAN; n];
    let mut i = 0;
    while i < n {
        let h = bandwidths[i];
        if h == 0 {
            i += 1;
            continue;
        }
        let (w, den) = kernels.weights_and_sum(h);
        // Four bars of the same bandwidth are summed side by side (each in its own order,
        // lag 0 first, as one bar alone), so their additions overlap.
        if i + 4 <= n && bandwidths[i + 1..i + 4].iter().all(|&b| b == h) {
            let mut num = [0.0; 4];
            for (j, &wj) in w.iter().enumerate() {
                for (lane, sum) in num.iter_mut().enumerate() {
                    *sum += wj * close[i + lane - j];
                }
            }
            for (lane, sum) in num.into_iter().enumerate() {
                estimate[i + lane] = sum / den;
            }
            i += 4;
        } else {
            let mut num = 0.0;
            for (j, &wj) in w.iter().enumerate() {
                num += wj * close[i - j];
            }
            estimate[i] = num / den;
            i += 1;
        }
    }
    estimate
}

/// Kernel weight tables by integer bandwidth, with their sums, built on first use.
struct KernelCache {
    gaussian: bool,
    tables: Vec<Option<(Vec<f64>, f64)>>,
}

impl KernelCache {
    fn new(gaussian: bool) -> Self {
        KernelCache {
            gaussian,
            tables: Vec::new(),
        }
    }

    /// Weights for lags 0, 1, … at bandwidth `h`.
    fn weights(&mut self, h: usize) -> &[f64] {
        self.weights_and_sum(h).0
    }

    /// Weights for lags 0, 1, … at bandwidth `h`, and their sum (added lag 0 first).
    fn weights_and_sum(&mut self, h: usize) -> (&[f64], f64) {
        if self.tables.len() <= h {
            self.tables.resize(h + 1, None);
        }
        let gaussian = self.gaussian;
        let (weights, sum) = self.tables[h].get_or_insert_with(|| {
            let hf = h as f64;
            let weights: Vec<f64> = if gaussian {
                let len = (GAUSSIAN_SUPPORT * hf).ceil() as usize + 1;
                (0..len).map(|j| (-0.5 * (j as f64 / hf).powi(2)).exp()).collect()
            } else {
                (0..h).map(|j| 1.0 - (j as f64 / hf).powi(2)).collect()
            };
            let sum = weights.iter().fold(0.0, |sum, w| sum + w);
            (weights, sum)
        });
        (weights, *sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evoflow_dataflows::Rng;

    /// Summing four bars side by side gives every bar exactly (bit for bit) what summing it
    /// alone gives: runs of one bandwidth, changes, gaps, both kernels.
    #[test]
    fn estimates_are_the_plain_weighted_means() {
        let mut rng = Rng::from_seed(4);
        for case in 0..40 {
            let n = 50 + rng.index(300);
            let close: Vec<f64> = (0..n).map(|_| 100.0 + 10.0 * rng.next_f64()).collect();
            let gaussian = case % 2 == 0;
            let mut kernels = KernelCache::new(gaussian);
            let mut h = 2 + rng.index(10);
            let bandwidths: Vec<usize> = (0..n)
                .map(|i| {
                    if rng.index(8) == 0 {
                        h = 2 + rng.index(10);
                    }
                    let usable = rng.index(20) != 0 && kernels.weights(h).len() <= i + 1;
                    if usable {
                        h
                    } else {
                        0
                    }
                })
                .collect();
            let got = estimates(&close, &bandwidths, &mut kernels);
            for (i, &h) in bandwidths.iter().enumerate() {
                let expected = if h == 0 {
                    f64::NAN
                } else {
                    let w = kernels.weights(h).to_vec();
                    let (mut num, mut den) = (0.0, 0.0);
                    for (j, wj) in w.iter().enumerate() {
                        num += wj * close[i - j];
                        den += wj;
                    }
                    num / den
                };
                assert_eq!(got[i].to_bits(), expected.to_bits(), "case {case} bar {i} h {h}");
            }
        }
    }
}
