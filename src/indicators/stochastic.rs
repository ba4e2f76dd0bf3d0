//! Slow stochastic oscillator (TA-Lib `STOCH` with SMA smoothing, `slowk_matype = slowd_matype = 0`).

use super::rolling_extremes::rolling_extremes;
use super::{check_lengths, check_period, IndicatorError};

/// Slow %K and slow %D, one value per bar each.
#[derive(Debug, Clone, PartialEq)]
pub struct Stochastic {
    pub slowk: Vec<f64>,
    pub slowd: Vec<f64>,
}

/// Fast %K `= 100 * (close - LL) / (HH - LL)` over the last `fastk_period` bars (current bar
/// included; 0 when `HH == LL`, as TA-Lib), slow %K `= SMA(fast %K, slowk_period)`, slow %D
/// `= SMA(slow %K, slowd_period)`. Both outputs start at TA-Lib's look-back
/// `(fastk_period - 1) + (slowk_period - 1) + (slowd_period - 1)` (slow %K is NaN before
/// that too, as in TA-Lib). Every period must be at least 1.
pub fn stoch(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    fastk_period: usize,
    slowk_period: usize,
    slowd_period: usize,
) -> Result<Stochastic, IndicatorError> {
    check_period("stoch", "fastk_period", fastk_period, 1)?;
    check_period("stoch", "slowk_period", slowk_period, 1)?;
    check_period("stoch", "slowd_period", slowd_period, 1)?;
    check_lengths(
        "stoch",
        &[("high", high.len()), ("low", low.len()), ("close", close.len())],
    )?;
    let n = close.len();
    let mut slowk = vec![f64::NAN; n];
    let mut slowd = vec![f64::NAN; n];
    let lookback = (fastk_period - 1)
        .saturating_add(slowk_period - 1)
        .saturating_add(slowd_period - 1);
    if n <= lookback {
        return Ok(Stochastic { slowk, slowd });
    }
    // Fast %K goes into `slowd` for now (it is overwritten by slow %D below, never read ahead).
    rolling_extremes(high, low, fastk_period, |i, hh, ll| {
        let diff = (hh - ll) / 100.0;
        slowd[i] = if diff != 0.0 { (close[i] - ll) / diff } else { 0.0 };
    });
    let fast = fastk_period - 1;
    running_sma(&slowd, fast, slowk_period, &mut slowk);
    // Slow %D from slow %K, then blank slow %K before the common start.
    for v in slowd.iter_mut() {
        *v = f64::NAN;
    }
    running_sma(&slowk, fast + slowk_period - 1, slowd_period, &mut slowd);
    for v in slowk[..lookback].iter_mut() {
        *v = f64::NAN;
    }
    Ok(Stochastic { slowk, slowd })
}

/// TA-Lib's running-sum SMA of `src[start..]` into `dst` (first value at `start + period - 1`).
fn running_sma(src: &[f64], start: usize, period: usize, dst: &mut [f64]) {
    let n = src.len();
    if n < start + period {
        return;
    }
    let p = period as f64;
    let mut total: f64 = src[start..start + period - 1].iter().sum();
    for i in (start + period - 1)..n {
        total += src[i];
        dst[i] = total / p;
        total -= src[i + 1 - period];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let high = [10.0, 11.0, 12.0, 11.0, 10.0];
        let low = [8.0, 9.0, 10.0, 9.0, 8.0];
        let close = [9.0, 10.0, 11.0, 10.0, 9.0];
        // fast %K (2-bar window) from bar 1: (10-8)/(11-8)=66.67, (11-9)/3=66.67, (10-9)/3=33.33, (9-8)/3=33.33
        let s = stoch(&high, &low, &close, 2, 2, 2).unwrap();
        assert!(s.slowk[..3].iter().all(|v| v.is_nan()) && s.slowd[..3].iter().all(|v| v.is_nan()));
        assert!((s.slowk[3] - 50.0).abs() < 1e-12);
        assert!((s.slowk[4] - 100.0 / 3.0).abs() < 1e-12);
        assert!((s.slowd[3] - (200.0 / 3.0 + 50.0) / 2.0).abs() < 1e-12);
        assert!((s.slowd[4] - (50.0 + 100.0 / 3.0) / 2.0).abs() < 1e-12);
        assert!(stoch(&high, &low, &close, 0, 2, 2).is_err());
    }
}
