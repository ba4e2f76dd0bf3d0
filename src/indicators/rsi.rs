//! Relative strength index (TA-Lib `RSI`): Wilder-smoothed average gain over gain plus loss.

use super::{check_period, talib_is_zero, IndicatorError};

/// `RSI = 100 * avg_gain / (avg_gain + avg_loss)`, 0 when both averages are TA-Lib zero (< 1e-14).
///
/// Seeding (TA-Lib, unstable period 0): the first averages are the plain means of the gains
/// and losses of the first `period` changes (bars 1..=period), giving the first value at bar
/// `period`; afterwards Wilder smoothing `avg = (avg * (period - 1) + x) / period`.
/// TA-Lib look-back: `period`. `period` must be at least 2.
pub fn rsi(close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("rsi", "timeperiod", period, 2)?;
    let n = close.len();
    let mut out = vec![f64::NAN; n];
    if n <= period {
        return Ok(out);
    }
    let p = period as f64;
    let p1 = (period - 1) as f64;
    let mut gain = 0.0;
    let mut loss = 0.0;
    for i in 1..=period {
        let diff = close[i] - close[i - 1];
        if diff < 0.0 {
            loss -= diff;
        } else {
            gain += diff;
        }
    }
    gain /= p;
    loss /= p;
    out[period] = ratio(gain, loss);
    for i in (period + 1)..n {
        let diff = close[i] - close[i - 1];
        loss *= p1;
        gain *= p1;
        if diff < 0.0 {
            loss -= diff;
        } else {
            gain += diff;
        }
        loss /= p;
        gain /= p;
        out[i] = ratio(gain, loss);
    }
    Ok(out)
}

#[inline]
fn ratio(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    if talib_is_zero(total) {
        0.0
    } else {
        100.0 * (gain / total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_seed_and_smoothing() {
        // changes: +1, -1, +2, then +1
        let out = rsi(&[10.0, 11.0, 10.0, 12.0, 13.0], 3).unwrap();
        assert!(out[..3].iter().all(|v| v.is_nan()));
        assert!((out[3] - 100.0 * 1.0 / (1.0 + 1.0 / 3.0)).abs() < 1e-12);
        let (g, l) = ((1.0 * 2.0 + 1.0) / 3.0, (1.0 / 3.0 * 2.0) / 3.0);
        assert!((out[4] - 100.0 * g / (g + l)).abs() < 1e-12);
        assert!(rsi(&[1.0; 5], 1).is_err());
    }
}
