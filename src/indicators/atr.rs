//! Average true range (TA-Lib `ATR`): Wilder-smoothed true range.

use super::{check_lengths, check_period, talib_true_range, true_range, IndicatorError};

/// `ATR[i] = (ATR[i-1] * (period - 1) + TR[i]) / period`, seeded (TA-Lib, unstable period 0)
/// with the plain mean of the first `period` true ranges (bars 1..=period), so the first value
/// is at bar `period`. TA-Lib look-back: `period`; `period == 1` returns `TRANGE`.
/// `period` must be at least 1.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("atr", "timeperiod", period, 1)?;
    check_lengths(
        "atr",
        &[("high", high.len()), ("low", low.len()), ("close", close.len())],
    )?;
    if period == 1 {
        return true_range(high, low, close);
    }
    let n = close.len();
    let mut out = vec![f64::NAN; n];
    if n <= period {
        return Ok(out);
    }
    let tr = |i: usize| talib_true_range(high[i], low[i], close[i - 1]);
    let mut total = 0.0;
    for i in 1..=period {
        total += tr(i);
    }
    let p = period as f64;
    let p1 = (period - 1) as f64;
    let mut prev = total / p;
    out[period] = prev;
    for (i, slot) in out.iter_mut().enumerate().skip(period + 1) {
        prev *= p1;
        prev += tr(i);
        prev /= p;
        *slot = prev;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let high = [10.0, 12.0, 9.0, 10.0];
        let low = [8.0, 11.0, 7.0, 9.0];
        let close = [9.0, 11.5, 8.0, 9.5];
        // TR: NaN, 3, 4.5, 2
        let out = atr(&high, &low, &close, 2).unwrap();
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(out[2], 3.75);
        assert_eq!(out[3], (3.75 + 2.0) / 2.0);
        assert!(atr(&high, &low, &close, 0).is_err());
    }
}
