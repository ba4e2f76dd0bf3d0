//! Small causal helpers shared by the seeds (gene access, rolling extremes, divergence, time scale).

use crate::strategy::{GeneSpec, StrategyError};

/// Gene values normalised against `specs`: missing genes take their defaults, integer genes
/// are rounded and every gene is clamped (the caller is expected to have reported clamps
/// already via `clamp_genome`; this keeps `signal` total on any input).
pub fn genes(specs: &[GeneSpec], genome: &[f64]) -> Vec<f64> {
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| s.normalise(genome.get(i).copied().unwrap_or(s.default)))
        .collect()
}

/// An integer gene as `usize` (already rounded and clamped to a positive range).
pub fn int(v: f64) -> usize {
    v.round().max(1.0) as usize
}

/// Maps an indicator error to a strategy error naming `strategy`.
pub fn failed(strategy: &'static str) -> impl Fn(crate::indicators::IndicatorError) -> StrategyError {
    move |e| StrategyError::Failed {
        strategy: strategy.to_string(),
        message: e.to_string(),
    }
}

/// Makes a signal safe: non-finite values become 0 (flat), others are clipped to [-1, 1].
pub fn finish(mut s: Vec<f64>) -> Vec<f64> {
    for v in &mut s {
        *v = if v.is_finite() { v.clamp(-1.0, 1.0) } else { 0.0 };
    }
    s
}

/// True when every value is finite.
pub fn all_finite(vals: &[f64]) -> bool {
    vals.iter().all(|v| v.is_finite())
}

/// Rolling maximum over the window of `period` bars ending at (and including) bar i; NaN
/// until the window is full or when it holds a NaN. O(n) with a monotonic deque.
pub fn rolling_max(values: &[f64], period: usize) -> Vec<f64> {
    rolling_extreme(values, period, |a, b| a >= b)
}

/// Rolling minimum over the window of `period` bars ending at (and including) bar i.
pub fn rolling_min(values: &[f64], period: usize) -> Vec<f64> {
    rolling_extreme(values, period, |a, b| a <= b)
}

fn rolling_extreme(values: &[f64], period: usize, keeps: impl Fn(f64, f64) -> bool) -> Vec<f64> {
    let period = period.max(1);
    let n = values.len();
    let mut out = vec![f64::NAN; n];
    // The deque: a ring of indices in slots head..tail (counters used modulo its size), whose
    // values get less extreme from front to back; it holds at most period + 1 indices.
    let mask = (period + 1).next_power_of_two() - 1;
    let mut ring = vec![0usize; mask + 1];
    let (mut head, mut tail) = (0usize, 0usize);
    // Bars before `clean_from` have a NaN within a window that reaches bar i.
    let mut clean_from = 0;
    for (i, &v) in values.iter().enumerate() {
        if v.is_nan() {
            clean_from = i + period;
            head = tail;
            continue;
        }
        while tail != head && keeps(v, values[ring[(tail - 1) & mask]]) {
            tail -= 1;
        }
        ring[tail & mask] = i;
        tail += 1;
        if ring[head & mask] + period <= i {
            head += 1;
        }
        if i + 1 >= period && i >= clean_from {
            out[i] = values[ring[head & mask]];
        }
    }
    out
}

/// The series delayed by one bar (value at i is `values[i-1]`, NaN at 0): turns a window that
/// includes the current bar into the prior window that excludes it.
pub fn prior(values: &[f64]) -> Vec<f64> {
    let mut out = vec![f64::NAN; values.len()];
    if values.len() > 1 {
        out[1..].copy_from_slice(&values[..values.len() - 1]);
    }
    out
}

/// Price/oscillator divergence at each bar over the prior `lookback` bars: +1 (bullish) when
/// the close makes a new low below the prior window's lowest close while the oscillator stays
/// above the prior window's lowest oscillator value; -1 (bearish) for the mirror image at a new
/// high; 0 otherwise or while any input is NaN.
pub fn divergence(close: &[f64], osc: &[f64], lookback: usize) -> Vec<f64> {
    let c_lo = prior(&rolling_min(close, lookback));
    let c_hi = prior(&rolling_max(close, lookback));
    let o_lo = prior(&rolling_min(osc, lookback));
    let o_hi = prior(&rolling_max(osc, lookback));
    (0..close.len())
        .map(|i| {
            let (c, o) = (close[i], osc[i]);
            if !all_finite(&[c, o, c_lo[i], c_hi[i], o_lo[i], o_hi[i]]) {
                0.0
            } else if c < c_lo[i] && o > o_lo[i] {
                1.0
            } else if c > c_hi[i] && o < o_hi[i] {
                -1.0
            } else {
                0.0
            }
        })
        .collect()
}

/// Number of bar intervals used to estimate the bar duration.
const SCALE_INTERVALS: usize = 64;
const DAY_MS: f64 = 86_400_000.0;

/// Per bar, `sqrt(bar duration / 1 day)`, clamped to [0.01, 3]: the random-walk factor that
/// turns a threshold stated for daily bars into the same threshold for this timeframe (an
/// hourly bar moves about `sqrt(1/24)` as much as a daily one). The bar duration at bar i is
/// the median of the intervals between the first `min(i, 64)` + 1 bars (causal); bar 0 uses 1.
pub fn horizon_scale(timestamp_ms: &[i64]) -> Vec<f64> {
    let n = timestamp_ms.len();
    let mut out = vec![1.0; n];
    let mut intervals: Vec<f64> = Vec::with_capacity(SCALE_INTERVALS);
    let mut current = 1.0;
    for i in 1..n {
        if intervals.len() < SCALE_INTERVALS {
            intervals.push((timestamp_ms[i] - timestamp_ms[i - 1]) as f64);
            let mut sorted = intervals.clone();
            sorted.sort_by(f64::total_cmp);
            let m = sorted.len();
            let median = if m % 2 == 1 {
                sorted[m / 2]
            } else {
                0.5 * (sorted[m / 2 - 1] + sorted[m / 2])
            };
            current = if median > 0.0 {
                (median / DAY_MS).sqrt().clamp(0.01, 3.0)
            } else {
                1.0
            };
        }
        out[i] = current;
    }
    out
}

/// [`horizon_scale`] of the data's timestamps, memoised like an indicator column (see
/// [`super::columns`]).
pub fn horizon_scale_column(data: &crate::market::MarketData) -> std::rc::Rc<Vec<f64>> {
    let key = super::columns::ColumnKey::new("horizon_scale(timestamp)", &[]);
    super::columns::column(data, key, || {
        Ok::<_, std::convert::Infallible>(horizon_scale(&data.bars.timestamp_ms))
    })
    .unwrap_or_else(|e| match e {})
}

/// Bars per year implied by the median bar interval (causal as in [`horizon_scale`]).
pub fn bars_per_year(timestamp_ms: &[i64]) -> Vec<f64> {
    horizon_scale(timestamp_ms).iter().map(|s| 365.25 / (s * s)).collect()
}

/// Log return of each bar's close (NaN at bar 0 or for non-positive prices).
pub fn log_returns(close: &[f64]) -> Vec<f64> {
    let mut out = vec![f64::NAN; close.len()];
    for i in 1..close.len() {
        if close[i] > 0.0 && close[i - 1] > 0.0 {
            out[i] = (close[i] / close[i - 1]).ln();
        }
    }
    out
}

/// An indicator computed on `returns[1..]` (the returns from bar 1 on) re-aligned to bar
/// indices, with NaN at bar 0.
pub fn realign(v: Vec<f64>) -> Vec<f64> {
    let mut out = Vec::with_capacity(v.len() + 1);
    out.push(f64::NAN);
    out.extend(v);
    out
}

/// Applies an indicator to the part of `values` from its first finite value on (indicators
/// built on running sums would otherwise carry a leading NaN forever), re-aligned to `values`'
/// indices with NaN before that point.
pub fn on_finite_tail<E>(values: &[f64], indicator: impl FnOnce(&[f64]) -> Result<Vec<f64>, E>) -> Result<Vec<f64>, E> {
    let start = values.iter().position(|v| v.is_finite()).unwrap_or(values.len());
    let mut out = vec![f64::NAN; start];
    out.extend(indicator(&values[start..])?);
    Ok(out)
}

/// Kaufman's efficiency ratio over `period` bars: |net change| / sum of |bar changes|, in
/// [0, 1] (1 = a straight line); NaN during warm-up, 0 for a flat window.
pub fn efficiency_ratio(close: &[f64], period: usize) -> Vec<f64> {
    let n = close.len();
    let mut out = vec![f64::NAN; n];
    let mut path = 0.0;
    let abs_diff = |i: usize| (close[i] - close[i - 1]).abs();
    for i in 1..n {
        path += abs_diff(i);
        if i > period {
            path -= abs_diff(i - period);
        }
        if i >= period {
            let net = (close[i] - close[i - period]).abs();
            out[i] = if path > 0.0 { (net / path).min(1.0) } else { 0.0 };
        }
    }
    out
}

/// Windows up to this length are counted directly (see [`percentile_rank`]).
const DIRECT_RANK_WINDOW: usize = 256;

/// Fraction of the previous `window - 1` values strictly below the value at i (its percentile
/// rank within the trailing window, in [0, 1]); NaN until the window holds `window` finite values.
///
/// Windows up to 256 bars (the Bollinger squeeze uses at most 200): the previous values are
/// counted directly, a branch-free vectorised pass (AVX2 where the CPU has it) that beats any
/// ordered structure at these lengths. Longer windows (the ML seeds use up to 500): O(n log n),
/// the trailing values are counted in a Fenwick tree over the ranks of the finite values. Both
/// count exactly, so they give the same values bit for bit.
pub fn percentile_rank(values: &[f64], window: usize) -> Vec<f64> {
    let window = window.max(2);
    if window <= DIRECT_RANK_WINDOW {
        return percentile_rank_direct(values, window);
    }
    percentile_rank_tree(values, window)
}

/// [`percentile_rank`] by direct counting (any window >= 2).
pub fn percentile_rank_direct(values: &[f64], window: usize) -> Vec<f64> {
    let window = window.max(2);
    let denominator = (window - 1) as f64;
    below_counts(values, window)
        .into_iter()
        .map(|c| {
            if c == NO_RANK {
                f64::NAN
            } else {
                f64::from(c) / denominator
            }
        })
        .collect()
}

/// Marks a bar without a rank in [`below_counts`].
pub const NO_RANK: u16 = u16::MAX;

/// For windows of 2 to 65,535 bars: per bar, how many of the previous `window - 1` values are
/// strictly below the value at i ([`NO_RANK`] until the window holds `window` finite values);
/// the percentile rank is that count / (window - 1). Counted directly, vectorised.
pub fn below_counts(values: &[f64], window: usize) -> Vec<u16> {
    let window = window.clamp(2, usize::from(NO_RANK));
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { below_counts_avx2(values, window) };
    }
    below_counts_plain(values, window)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn below_counts_avx2(values: &[f64], window: usize) -> Vec<u16> {
    below_counts_plain(values, window)
}

#[inline(always)]
fn below_counts_plain(values: &[f64], window: usize) -> Vec<u16> {
    let n = values.len();
    let mut out = vec![NO_RANK; n];
    // Non-finite values within values[i + 1 - window ..= i].
    let mut bad = 0usize;
    for i in 0..n {
        bad += usize::from(!values[i].is_finite());
        if i >= window && !values[i - window].is_finite() {
            bad -= 1;
        }
        if i + 1 >= window && bad == 0 {
            let v = values[i];
            let below: u64 = values[i + 1 - window..i].iter().map(|&x| u64::from(x < v)).sum();
            out[i] = below as u16;
        }
    }
    out
}

/// [`percentile_rank`] with a Fenwick tree over the ranks of the finite values (any window >= 2).
pub fn percentile_rank_tree(values: &[f64], window: usize) -> Vec<f64> {
    let window = window.max(2);
    let n = values.len();
    let mut out = vec![f64::NAN; n];
    // 1-based rank of every finite value among the distinct finite values (0: not finite),
    // from one sort of the finite values' positions.
    let mut order: Vec<u32> = (0..n as u32).filter(|&i| values[i as usize].is_finite()).collect();
    order.sort_unstable_by(|&a, &b| values[a as usize].total_cmp(&values[b as usize]));
    let mut rank = vec![0u32; n];
    let mut distinct = 0u32;
    let mut previous = f64::NAN;
    for &i in &order {
        let v = values[i as usize];
        // -0.0 and 0.0 are one value, as `<` sees them.
        if distinct == 0 || v != previous {
            distinct += 1;
            previous = v;
        }
        rank[i as usize] = distinct;
    }
    let mut tree = vec![0u32; distinct as usize + 1];
    let add = |tree: &mut Vec<u32>, mut at: usize, delta: i32| {
        while at < tree.len() {
            tree[at] = tree[at].wrapping_add_signed(delta);
            at += at & at.wrapping_neg();
        }
    };
    let count_upto = |tree: &Vec<u32>, mut at: usize| {
        let mut total = 0;
        while at > 0 {
            total += tree[at];
            at &= at - 1;
        }
        total
    };
    // Non-finite values within values[i + 1 - window ..= i].
    let mut bad = 0usize;
    for i in 0..n {
        // The tree holds the finite values among values[i + 1 - window .. i].
        if i >= 1 && rank[i - 1] > 0 {
            add(&mut tree, rank[i - 1] as usize, 1);
        }
        if i >= window && rank[i - window] > 0 {
            add(&mut tree, rank[i - window] as usize, -1);
        }
        bad += usize::from(rank[i] == 0);
        if i >= window && rank[i - window] == 0 {
            bad -= 1;
        }
        if i + 1 >= window && bad == 0 {
            let below = count_upto(&tree, rank[i] as usize - 1);
            out[i] = f64::from(below) / (window - 1) as f64;
        }
    }
    out
}

/// The sign of `x` as -1, 0 or +1 (unlike `f64::signum`, 0 maps to 0).
pub fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Rounds a position to a multiple of `step` (e.g. 0.05), so noise in a continuous size does not
/// turn into a rebalance on every bar.
pub fn quantise(x: f64, step: f64) -> f64 {
    (x / step).round() * step
}

/// Counts position changes that open exposure: entries from flat and flips through zero.
pub fn count_entries(signal: &[f64]) -> usize {
    let mut prev = 0.0f64;
    let mut n = 0;
    for &s in signal {
        if s != 0.0 && (prev == 0.0 || s.signum() != prev.signum()) {
            n += 1;
        }
        prev = s;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, by brute force.
    fn percentile_rank_naive(values: &[f64], window: usize) -> Vec<f64> {
        let window = window.max(2);
        (0..values.len())
            .map(|i| {
                if i + 1 < window {
                    return f64::NAN;
                }
                let w = &values[i + 1 - window..=i];
                if !all_finite(w) {
                    return f64::NAN;
                }
                let below = w[..window - 1].iter().filter(|&&x| x < values[i]).count();
                below as f64 / (window - 1) as f64
            })
            .collect()
    }

    /// `n` pseudo-random integers in 0..`modulus` (so, many ties), with `special(i)` in the
    /// place of value i where it gives one (NaN, infinities, -0.0).
    fn tied_values(seed: u64, n: usize, modulus: u64, special: impl Fn(usize) -> Option<f64>) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                special(i).unwrap_or(((state >> 40) % modulus) as f64)
            })
            .collect()
    }

    #[test]
    fn percentile_rank_matches_its_definition() {
        // Ties (-0.0 among 0.0), gaps of NaN and infinities, and windows from 1 (read as 2) to longer than the data.
        let values = tied_values(7, 400, 23, |i| match i % 97 {
            13 => Some(f64::NAN),
            50 => Some(f64::INFINITY),
            71 => Some(-0.0),
            _ => None,
        });
        for window in [1, 2, 3, 10, 60, 200, 256, 257, 500] {
            let naive = percentile_rank_naive(&values, window);
            for fast in [
                percentile_rank(&values, window),
                percentile_rank_direct(&values, window),
                percentile_rank_tree(&values, window),
            ] {
                assert_eq!(fast.len(), naive.len());
                for (i, (a, b)) in fast.iter().zip(&naive).enumerate() {
                    assert!(
                        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                        "window {window} bar {i}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn rolling_extremes_match_naive() {
        // Ties, NaN gaps (a window holding one is NaN) and periods from 1 to beyond the data.
        let v: Vec<f64> = tied_values(11, 300, 17, |i| (i % 83 == 40 || i == 41).then_some(f64::NAN))
            .into_iter()
            .map(|x| x - 8.0)
            .collect();
        for period in [1, 2, 3, 7, 40, 120, 400] {
            let (mx, mn) = (rolling_max(&v, period), rolling_min(&v, period));
            for i in 0..v.len() {
                let window = &v[(i + 1).saturating_sub(period)..=i];
                if i + 1 < period || window.iter().any(|x| x.is_nan()) {
                    assert!(mx[i].is_nan() && mn[i].is_nan(), "period {period} bar {i}");
                } else {
                    assert_eq!(mx[i], window.iter().cloned().fold(f64::MIN, f64::max));
                    assert_eq!(mn[i], window.iter().cloned().fold(f64::MAX, f64::min));
                }
            }
        }
    }

    #[test]
    fn rolling_extremes_skip_nan_windows() {
        let v = [f64::NAN, 1.0, 2.0, 3.0];
        let mx = rolling_max(&v, 2);
        assert!(mx[1].is_nan());
        assert_eq!(mx[2], 2.0);
        assert_eq!(mx[3], 3.0);
    }

    #[test]
    fn horizon_scale_hourly_and_daily() {
        let hourly: Vec<i64> = (0..100).map(|i| i * 3_600_000).collect();
        let s = horizon_scale(&hourly);
        assert!((s[99] - (1.0f64 / 24.0).sqrt()).abs() < 1e-12);
        let daily: Vec<i64> = (0..10).map(|i| i * 86_400_000).collect();
        assert_eq!(horizon_scale(&daily)[9], 1.0);
    }

    #[test]
    fn efficiency_ratio_line_is_one() {
        let v: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let er = efficiency_ratio(&v, 5);
        assert!(er[4].is_nan());
        assert_eq!(er[10], 1.0);
    }

    #[test]
    fn entries_counted() {
        assert_eq!(count_entries(&[0.0, 0.5, 0.5, -1.0, 0.0, 0.0, 1.0]), 3);
        assert_eq!(count_entries(&[0.0; 5]), 0);
    }
}
