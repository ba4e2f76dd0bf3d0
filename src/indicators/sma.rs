//! Simple moving average (TA-Lib `SMA`): the mean of the last `period` values.

use super::{check_period, IndicatorError};

/// Simple moving average over `period` values, TA-Lib's running-sum formulation.
/// Look-back: `period - 1` (the first value is at index `period - 1`).
///
/// ```
/// let out = evoflow::indicators::sma(&[1.0, 2.0, 3.0, 4.0], 2).unwrap();
/// assert!(out[0].is_nan());
/// assert_eq!(&out[1..], &[1.5, 2.5, 3.5]);
/// ```
pub fn sma(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("sma", "timeperiod", period, 1)?;
    let mut out = vec![f64::NAN; values.len()];
    if values.len() < period {
        return Ok(out);
    }
    let mut total: f64 = values[..period - 1].iter().sum();
    let inv = period as f64;
    for i in (period - 1)..values.len() {
        total += values[i];
        out[i] = total / inv;
        total -= values[i + 1 - period];
    }
    Ok(out)
}
