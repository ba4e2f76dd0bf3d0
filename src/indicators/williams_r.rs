//! Williams %R (TA-Lib `WILLR`): where the close sits in the recent high-low range, 0 to -100.

use super::rolling_extremes::rolling_extremes;
use super::{check_lengths, check_period, IndicatorError};

/// `%R = -100 * (HH - close) / (HH - LL)` over the last `period` bars (current bar included),
/// 0 when `HH == LL` (as TA-Lib). TA-Lib look-back: `period - 1`. `period` must be at least 2.
pub fn willr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("willr", "timeperiod", period, 2)?;
    check_lengths(
        "willr",
        &[("high", high.len()), ("low", low.len()), ("close", close.len())],
    )?;
    let mut out = vec![f64::NAN; close.len()];
    rolling_extremes(high, low, period, |i, hh, ll| {
        let diff = (hh - ll) / -100.0;
        out[i] = if diff != 0.0 { (hh - close[i]) / diff } else { 0.0 };
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let out = willr(&[10.0, 12.0, 11.0], &[8.0, 9.0, 10.0], &[9.0, 10.0, 11.0], 2).unwrap();
        assert!(out[0].is_nan());
        assert!((out[1] - -50.0).abs() < 1e-12); // HH 12, LL 8, close 10
        assert!((out[2] - -100.0 / 3.0).abs() < 1e-12); // HH 12, LL 9, close 11
        assert!(willr(&[1.0], &[1.0], &[1.0], 1).is_err());
    }
}
