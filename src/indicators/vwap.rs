//! Rolling volume-weighted average price of the typical price over the last `period` bars.

use super::{check_lengths, check_period, IndicatorError};

/// `VWAP[i] = sum(tp * volume) / sum(volume)` over bars `i+1-period..=i`, `tp = (h + l + c) / 3`;
/// NaN when every volume in the window is 0. Look-back: `period - 1` (not a TA-Lib function).
///
/// Running sums, re-summed from scratch once every `period` bars so that rounding drift from
/// the subtractions stays bounded by one window (still O(n) overall). `period` must be at least 1.
pub fn rolling_vwap(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    period: usize,
) -> Result<Vec<f64>, IndicatorError> {
    check_period("vwap", "timeperiod", period, 1)?;
    check_lengths(
        "vwap",
        &[
            ("high", high.len()),
            ("low", low.len()),
            ("close", close.len()),
            ("volume", volume.len()),
        ],
    )?;
    let n = close.len();
    let mut out = vec![f64::NAN; n];
    let tp = |i: usize| (high[i] + low[i] + close[i]) / 3.0;
    let (mut pv, mut v, mut nonzero) = (0.0, 0.0, 0usize);
    for i in 0..n {
        if i >= period && (i - period).is_multiple_of(period) {
            // Re-sum the window i+1-period..i (the bars kept) exactly, then add bar i below.
            pv = ((i + 1 - period)..i).map(|j| tp(j) * volume[j]).sum();
            v = volume[(i + 1 - period)..i].iter().sum();
        } else if i >= period {
            let old = i - period;
            pv -= tp(old) * volume[old];
            v -= volume[old];
        }
        if i >= period && volume[i - period] != 0.0 {
            nonzero -= 1;
        }
        pv += tp(i) * volume[i];
        v += volume[i];
        if volume[i] != 0.0 {
            nonzero += 1;
        }
        if i + 1 >= period && nonzero > 0 {
            out[i] = pv / v;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let high = [3.0, 6.0, 9.0, 12.0];
        let low = [3.0, 6.0, 9.0, 12.0];
        let close = [3.0, 6.0, 9.0, 12.0];
        let volume = [1.0, 3.0, 0.0, 0.0];
        let out = rolling_vwap(&high, &low, &close, &volume, 2).unwrap();
        assert!(out[0].is_nan());
        assert_eq!(out[1], (3.0 + 18.0) / 4.0);
        assert_eq!(out[2], 6.0);
        assert!(out[3].is_nan(), "zero volume in the window gives NaN");
        assert!(rolling_vwap(&high, &low, &close, &volume, 0).is_err());
        assert!(rolling_vwap(&high, &low, &close, &volume[..3], 2).is_err());
    }

    #[test]
    fn matches_direct_sums_and_truncation() {
        let n = 500;
        let close: Vec<f64> = (0..n).map(|i| 100.0 + ((i * 17 % 31) as f64) * 0.7).collect();
        let high: Vec<f64> = close.iter().map(|c| c + 1.3).collect();
        let low: Vec<f64> = close.iter().map(|c| c - 0.9).collect();
        let volume: Vec<f64> = (0..n).map(|i| ((i * 7919 % 1000) as f64) * 1e3).collect();
        for period in [1, 2, 7, 50] {
            let full = rolling_vwap(&high, &low, &close, &volume, period).unwrap();
            for (i, &got) in full.iter().enumerate().skip(period - 1) {
                let w = i + 1 - period..=i;
                let pv: f64 = w.clone().map(|j| (high[j] + low[j] + close[j]) / 3.0 * volume[j]).sum();
                let v: f64 = w.map(|j| volume[j]).sum();
                let want = if v == 0.0 { f64::NAN } else { pv / v };
                assert!(
                    (got - want).abs() <= 1e-9 * want.abs() || (got.is_nan() && want.is_nan()),
                    "period {period} bar {i}: {got} vs {want}"
                );
            }
            for cut in [period, n / 2, n - 1] {
                let part = rolling_vwap(&high[..cut], &low[..cut], &close[..cut], &volume[..cut], period).unwrap();
                assert!(part.iter().zip(&full).all(|(a, b)| a.to_bits() == b.to_bits()));
            }
        }
    }
}
