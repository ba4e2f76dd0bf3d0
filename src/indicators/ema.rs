//! Exponential moving average (TA-Lib `EMA`): seeded with the SMA of the first `period` values.

use super::{check_period, IndicatorError};

/// EMA with smoothing `k = 2 / (period + 1)`, seeded (TA-Lib's default, "classic" mode) with
/// the simple mean of the first `period` values. Look-back: `period - 1`.
pub fn ema(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("ema", "timeperiod", period, 1)?;
    Ok(ema_with_k(values, period, 2.0 / (period as f64 + 1.0)))
}

/// EMA with an explicit smoothing factor `k`, seeded with the mean of the first `period`
/// values (TA-Lib's `TA_INT_EMA`, shared by MACD). Look-back: `period - 1`.
pub(crate) fn ema_with_k(values: &[f64], period: usize, k: f64) -> Vec<f64> {
    let mut out = vec![f64::NAN; values.len()];
    if period == 0 || values.len() < period {
        return out;
    }
    let mut prev = values[..period].iter().sum::<f64>() / period as f64;
    out[period - 1] = prev;
    for i in period..values.len() {
        prev = (values[i] - prev) * k + prev;
        out[i] = prev;
    }
    out
}
