//! The Bollinger bandwidth's percentile rank for any band multiplier from one ordering per period, exactly.
//!
//! The bandwidth with multiplier m is `w_i(m) = ((mid_i + sd_i m) - (mid_i - sd_i m)) / mid_i`,
//! within a few ulps of `2 m g_i` with `g_i = sd_i / mid_i`. Precisely, for m >= 1, the
//! computed `w_i(m) / (2m)` lies in `[g_i - e(g_i), g_i + e(g_i)]` with
//! `e(g) = 10 u |g| + 2 u` (u = 2^-53: each of the six roundings involved moves the value by
//! at most u relative, and the two roundings of `mid ± sd m` by at most u |mid| absolute,
//! i.e. u / m after dividing by `2 m mid`). [`BandwidthOrder`] widens that to
//! `[g - 1e-12 |g| - 1e-13, g + 1e-12 |g| + 1e-13]` (a margin of ~1000x) and sorts every
//! pair of bars of a window into "j certainly below i", "certainly not below" and
//! "ambiguous" once per period; [`BandwidthOrder::below_counts`] then only compares the
//! ambiguous pairs (near-ties such as flat windows, rare on real prices) with the actual
//! bandwidths. The counts equal [`super::features::below_counts`] of the bandwidths bit for
//! bit; where the premises fail (m < 1, a bandwidth whose finiteness differs from its `g`)
//! the bandwidths are counted directly.

use super::columns::Kept;
use super::features::{below_counts, NO_RANK};

/// Relative and absolute widening of the interval around `g` (see the module docs).
const RELATIVE: f64 = 1e-12;
const ABSOLUTE: f64 = 1e-13;

/// The ordering of `g = sd / mid` within each trailing window, for one period.
#[derive(Debug, Clone, PartialEq)]
pub struct BandwidthOrder {
    window: usize,
    /// Per bar: previous bars of the window certainly below it ([`NO_RANK`]: not a full finite window).
    certain: Vec<u16>,
    /// Ambiguous pairs `(i, j)`, j in bar i's window, by increasing i.
    ambiguous: Vec<(u32, u32)>,
    /// Whether each `g` is finite.
    finite: Vec<bool>,
}

impl Kept for BandwidthOrder {
    fn bytes(&self) -> usize {
        self.certain.len() * 3 + self.ambiguous.len() * 8
    }
}

impl BandwidthOrder {
    /// The ordering for the bands' `middle` and `sd` over windows of `window` bars (>= 2).
    pub fn new(middle: &[f64], sd: &[f64], window: usize) -> Self {
        let window = window.clamp(2, usize::from(NO_RANK));
        let n = middle.len().min(sd.len());
        let g: Vec<f64> = (0..n).map(|i| sd[i] / middle[i]).collect();
        let finite: Vec<bool> = g.iter().map(|v| v.is_finite()).collect();
        // Bounds of each w(m) / 2m; non-finite g give NaN bounds (never used: such a window
        // has no rank).
        let upper: Vec<f64> = g.iter().map(|&v| v + RELATIVE * v.abs() + ABSOLUTE).collect();
        let lower: Vec<f64> = g.iter().map(|&v| v - RELATIVE * v.abs() - ABSOLUTE).collect();
        let mut certain = vec![NO_RANK; n];
        let mut ambiguous = Vec::new();
        let mut bad = 0usize;
        for i in 0..n {
            bad += usize::from(!finite[i]);
            if i >= window && !finite[i - window] {
                bad -= 1;
            }
            if i + 1 >= window && bad == 0 {
                let from = i + 1 - window;
                let (lo_i, hi_i) = (lower[i], upper[i]);
                let (below, unsure) = counts(&upper[from..i], &lower[from..i], lo_i, hi_i);
                certain[i] = below as u16;
                if unsure > 0 {
                    for j in from..i {
                        // Finite bounds (the window is finite): neither certainly below nor above.
                        if upper[j] >= lo_i && lower[j] <= hi_i {
                            ambiguous.push((i as u32, j as u32));
                        }
                    }
                }
            }
        }
        BandwidthOrder {
            window,
            certain,
            ambiguous,
            finite,
        }
    }

    /// [`below_counts`] of the bandwidths `((mid + sd m) - (mid - sd m)) / mid` over this
    /// ordering's windows, for multiplier `m`.
    pub fn below_counts(&self, middle: &[f64], sd: &[f64], m: f64) -> Vec<u16> {
        let n = self.certain.len();
        let width: Vec<f64> = (0..n)
            .map(|i| ((middle[i] + sd[i] * m) - (middle[i] - sd[i] * m)) / middle[i])
            .collect();
        let premises = m >= 1.0 && width.iter().zip(&self.finite).all(|(w, &f)| w.is_finite() == f);
        if !premises {
            return below_counts(&width, self.window);
        }
        let mut out = self.certain.clone();
        for &(i, j) in &self.ambiguous {
            let (i, j) = (i as usize, j as usize);
            out[i] += u16::from(width[j] < width[i]);
        }
        out
    }
}

/// Over a window's bounds: how many are certainly below (upper < lo_i), and how many are
/// ambiguous (neither certainly below nor certainly above, lower > hi_i).
#[inline]
fn counts(upper: &[f64], lower: &[f64], lo_i: f64, hi_i: f64) -> (u64, u64) {
    let mut below = 0u64;
    let mut unsure = 0u64;
    for (&u, &l) in upper.iter().zip(lower) {
        let b = u < lo_i;
        let a = l > hi_i;
        below += u64::from(b);
        unsure += u64::from(!b & !a);
    }
    (below, unsure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::middle_and_sd;
    use crate::market::sample::load_sample;

    fn direct(middle: &[f64], sd: &[f64], m: f64, window: usize) -> Vec<u16> {
        let width: Vec<f64> = (0..middle.len())
            .map(|i| ((middle[i] + sd[i] * m) - (middle[i] - sd[i] * m)) / middle[i])
            .collect();
        below_counts(&width, window)
    }

    #[test]
    fn equals_direct_counting_on_real_and_tied_prices() {
        let mut closes: Vec<Vec<f64>> = ["goog-1d", "eurusd-1h"]
            .iter()
            .map(|s| load_sample(s).unwrap().bars.close)
            .collect();
        // Flat stretches (sd = 0, bandwidths tied at 0), repeated patterns (tied g) and a
        // price level where sd is tiny next to the middle band.
        let mut tied = Vec::new();
        for k in 0..600 {
            tied.push(match (k / 50) % 4 {
                0 => 100.0,
                1 => 100.0 + (k % 3) as f64,
                2 => 1e6 + (k % 2) as f64 * 1e-4,
                _ => 100.0 + ((k * 7) % 5) as f64,
            });
        }
        closes.push(tied);
        let mut ambiguous = 0;
        for close in &closes {
            for period in [2, 10, 17, 25, 40] {
                let (middle, sd) = middle_and_sd(close, period).unwrap();
                let window = 5 * period;
                let order = BandwidthOrder::new(&middle, &sd, window);
                ambiguous += order.ambiguous.len();
                for m in [1.0, 1.5, 1.5702790090118706, 2.0, 5f64.sqrt(), 2.5, 0.5] {
                    assert_eq!(
                        order.below_counts(&middle, &sd, m),
                        direct(&middle, &sd, m, window),
                        "period {period} m {m}"
                    );
                }
            }
        }
        assert!(ambiguous > 0, "the tied series exercises the ambiguous pairs");
    }
}
