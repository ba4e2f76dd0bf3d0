//! Average directional movement index (TA-Lib `ADX`): Wilder-smoothed DX.

use super::{check_lengths, check_period, talib_is_zero, talib_true_range, IndicatorError};

/// `+DM = h - h[-1]` when it is positive and larger than `-DM = l[-1] - l` (and vice versa,
/// else 0); `+DM`, `-DM` and `TR` are Wilder sums (`s = s - s / period + x`) seeded with the
/// plain sums of their first `period - 1` values (bars 1..period); `+DI = 100 * +DM / TR`,
/// `-DI = 100 * -DM / TR`, `DX = 100 * |+DI - -DI| / (+DI + -DI)`; the first ADX (bar
/// `2 * period - 1`) is the mean of the DX of bars `period..2 * period`, then
/// `ADX = (ADX[-1] * (period - 1) + DX) / period`. Bars whose TR or DI sum is TA-Lib zero
/// (< 1e-14) contribute no DX (the ADX is carried). This is TA-Lib's code path with unstable
/// period 0. TA-Lib look-back: `2 * period - 1`. `period` must be at least 2.
pub fn adx(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("adx", "timeperiod", period, 2)?;
    check_lengths(
        "adx",
        &[("high", high.len()), ("low", low.len()), ("close", close.len())],
    )?;
    let n = close.len();
    let mut out = vec![f64::NAN; n];
    let lookback = period.saturating_mul(2) - 1;
    if n <= lookback {
        return Ok(out);
    }
    let p = period as f64;
    let p1 = (period - 1) as f64;
    let (mut plus_dm, mut minus_dm, mut tr) = (0.0, 0.0, 0.0);
    // Directional movement of bar i: (+DM, -DM).
    let movement = |i: usize| -> (f64, f64) {
        let diff_p = high[i] - high[i - 1];
        let diff_m = low[i - 1] - low[i];
        if diff_m > 0.0 && diff_p < diff_m {
            (0.0, diff_m)
        } else if diff_p > 0.0 && diff_p > diff_m {
            (diff_p, 0.0)
        } else {
            (0.0, 0.0)
        }
    };
    for i in 1..period {
        let (dp, dm) = movement(i);
        plus_dm += dp;
        minus_dm += dm;
        tr += talib_true_range(high[i], low[i], close[i - 1]);
    }
    // One Wilder step at bar i; returns the DX if defined.
    let mut step = |i: usize| -> Option<f64> {
        let (dp, dm) = movement(i);
        minus_dm -= minus_dm / p;
        plus_dm -= plus_dm / p;
        minus_dm += dm;
        plus_dm += dp;
        tr = tr - tr / p + talib_true_range(high[i], low[i], close[i - 1]);
        if talib_is_zero(tr) {
            return None;
        }
        let minus_di = 100.0 * (minus_dm / tr);
        let plus_di = 100.0 * (plus_dm / tr);
        let sum = minus_di + plus_di;
        if talib_is_zero(sum) {
            return None;
        }
        Some(100.0 * ((minus_di - plus_di).abs() / sum))
    };
    let mut sum_dx = 0.0;
    for i in period..=lookback {
        if let Some(dx) = step(i) {
            sum_dx += dx;
        }
    }
    let mut prev = sum_dx / p;
    out[lookback] = prev;
    for (i, slot) in out.iter_mut().enumerate().skip(lookback + 1) {
        if let Some(dx) = step(i) {
            prev = ((prev * p1) + dx) / p;
        }
        *slot = prev;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_uptrend_is_100() {
        let high: Vec<f64> = (0..20).map(|i| 10.0 + i as f64).collect();
        let low: Vec<f64> = high.iter().map(|h| h - 1.0).collect();
        let close: Vec<f64> = high.iter().map(|h| h - 0.5).collect();
        let out = adx(&high, &low, &close, 3).unwrap();
        assert!(out[..5].iter().all(|v| v.is_nan()));
        assert!(out[5..].iter().all(|v| (v - 100.0).abs() < 1e-9));
        assert!(adx(&high, &low, &close, 1).is_err());
    }
}
