//! Weighted moving average (TA-Lib `WMA`): linear weights 1..=period, the newest bar weighted most.

use super::{check_period, IndicatorError};

/// `WMA[i] = sum_{j=0}^{n-1} (n - j) * v[i - j] / (n (n + 1) / 2)` with `n = period`.
///
/// TA-Lib look-back: `period - 1`. Computed with TA-Lib's running sums (`periodSum`, the
/// weighted total, and `periodSub`, the plain total), so values match TA-Lib to rounding.
/// `period` must be at least 1 (1 returns the input, as TA-Lib does).
pub fn wma(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("wma", "timeperiod", period, 1)?;
    let n = values.len();
    let mut out = vec![f64::NAN; n];
    if n < period {
        return Ok(out);
    }
    if period == 1 {
        out.copy_from_slice(values);
        return Ok(out);
    }
    let divider = (period * (period + 1) / 2) as f64;
    let weight = period as f64;
    let mut period_sub = 0.0;
    let mut period_sum = 0.0;
    for (i, &v) in values[..period - 1].iter().enumerate() {
        period_sub += v;
        period_sum += v * (i + 1) as f64;
    }
    for i in (period - 1)..n {
        let v = values[i];
        period_sub += v;
        period_sum += v * weight;
        out[i] = period_sum / divider;
        period_sum -= period_sub;
        period_sub -= values[i + 1 - period];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let out = wma(&[1.0, 2.0, 3.0, 4.0], 3).unwrap();
        assert!(out[0].is_nan() && out[1].is_nan());
        assert!((out[2] - (1.0 + 4.0 + 9.0) / 6.0).abs() < 1e-12);
        assert!((out[3] - (2.0 + 6.0 + 12.0) / 6.0).abs() < 1e-12);
        assert!(wma(&[1.0], 0).is_err());
    }
}
