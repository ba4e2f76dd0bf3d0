//! Bollinger bands (TA-Lib `BBANDS` with an SMA middle band, `matype = 0`).

use super::{check_period, sma, talib_is_zero_or_neg, IndicatorError};

/// Upper, middle and lower band, one value per bar each.
#[derive(Debug, Clone, PartialEq)]
pub struct Bands {
    pub upper: Vec<f64>,
    pub middle: Vec<f64>,
    pub lower: Vec<f64>,
}

/// `middle = SMA(close, period)`, `sd = sqrt(mean(close^2) - middle^2)` (population standard
/// deviation over the same window, TA-Lib's `TA_INT_stddev_using_precalc_ma`, 0 below TA-Lib's
/// 1e-14 variance threshold), `upper = middle + nbdevup * sd`, `lower = middle - nbdevdn * sd`.
/// TA-Lib look-back: `period - 1`. `period` must be at least 2; the deviations must be finite.
pub fn bbands(close: &[f64], period: usize, nbdevup: f64, nbdevdn: f64) -> Result<Bands, IndicatorError> {
    check_period("bbands", "timeperiod", period, 2)?;
    for (name, v) in [("nbdevup", nbdevup), ("nbdevdn", nbdevdn)] {
        if !v.is_finite() {
            return Err(IndicatorError::InvalidParam {
                indicator: "bbands",
                message: format!("{name} must be finite"),
            });
        }
    }
    let (middle, sd) = middle_and_sd(close, period)?;
    let upper = middle.iter().zip(&sd).map(|(m, s)| m + s * nbdevup).collect();
    let lower = middle.iter().zip(&sd).map(|(m, s)| m - s * nbdevdn).collect();
    Ok(Bands { upper, middle, lower })
}

/// The middle band and the standard deviation of [`bbands`] (NaN during the look-back): the
/// bands are `middle + sd * nbdevup` and `middle - sd * nbdevdn`, so callers that try many
/// deviations compute these once per period.
pub fn middle_and_sd(close: &[f64], period: usize) -> Result<(Vec<f64>, Vec<f64>), IndicatorError> {
    check_period("bbands", "timeperiod", period, 2)?;
    let n = close.len();
    let middle = sma(close, period)?;
    let mut sd_out = vec![f64::NAN; n];
    if n < period {
        return Ok((middle, sd_out));
    }
    let p = period as f64;
    let mut total2: f64 = close[..period - 1].iter().map(|v| v * v).sum();
    for i in (period - 1)..n {
        let v = close[i];
        total2 += v * v;
        let mean2 = total2 / p;
        let old = close[i + 1 - period];
        total2 -= old * old;
        let m = middle[i];
        let var = mean2 - m * m;
        sd_out[i] = if talib_is_zero_or_neg(var) { 0.0 } else { var.sqrt() };
    }
    Ok((middle, sd_out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let b = bbands(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 8, 2.0, 1.0).unwrap();
        assert!(b.upper[6].is_nan() && b.middle[6].is_nan() && b.lower[6].is_nan());
        assert!((b.middle[7] - 5.0).abs() < 1e-12);
        assert!((b.upper[7] - 9.0).abs() < 1e-12);
        assert!((b.lower[7] - 3.0).abs() < 1e-12);
        assert!(bbands(&[1.0; 3], 1, 2.0, 2.0).is_err());
        assert!(bbands(&[1.0; 3], 2, f64::NAN, 2.0).is_err());
    }
}
