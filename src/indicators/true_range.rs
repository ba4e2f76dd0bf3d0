//! True range (TA-Lib `TRANGE`): the bar's range extended to the previous close.

use super::{check_lengths, talib_true_range, IndicatorError};

/// `TR[i] = max(high[i], close[i-1]) - min(low[i], close[i-1])`, computed as TA-Lib does (the
/// largest of `h - l`, `|c[i-1] - h|`, `|c[i-1] - l|`). TA-Lib look-back: 1 (the first bar is NaN).
pub fn true_range(high: &[f64], low: &[f64], close: &[f64]) -> Result<Vec<f64>, IndicatorError> {
    check_lengths(
        "trange",
        &[("high", high.len()), ("low", low.len()), ("close", close.len())],
    )?;
    let n = close.len();
    let mut out = vec![f64::NAN; n];
    for i in 1..n {
        out[i] = talib_true_range(high[i], low[i], close[i - 1]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let out = true_range(&[10.0, 12.0, 9.0], &[8.0, 11.0, 7.0], &[9.0, 11.5, 8.0]).unwrap();
        assert!(out[0].is_nan());
        assert_eq!(out[1], 3.0); // 12 - min(11, 9)
        assert_eq!(out[2], 4.5); // max(9, 11.5) - 7
        assert!(true_range(&[1.0], &[1.0, 2.0], &[1.0]).is_err());
    }
}
