//! Rolling population standard deviation (TA-Lib `STDDEV` with `nbdev = 1`).

use super::{check_period, talib_is_zero_or_neg, IndicatorError};

/// `STDDEV[i] = sqrt(mean(v^2) - mean(v)^2)` over the last `period` values (population
/// variance, TA-Lib's running-sum formulation `TA_INT_VAR`); 0 where that variance is below
/// TA-Lib's zero threshold (1e-14). TA-Lib look-back: `period - 1`. `period` must be at least 2.
pub fn stddev(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("stddev", "timeperiod", period, 2)?;
    let n = values.len();
    let mut out = vec![f64::NAN; n];
    if n < period {
        return Ok(out);
    }
    let p = period as f64;
    let mut total1 = 0.0;
    let mut total2 = 0.0;
    for &v in &values[..period - 1] {
        total1 += v;
        total2 += v * v;
    }
    for i in (period - 1)..n {
        let v = values[i];
        total1 += v;
        total2 += v * v;
        let mean1 = total1 / p;
        let mean2 = total2 / p;
        let old = values[i + 1 - period];
        total1 -= old;
        total2 -= old * old;
        let var = mean2 - mean1 * mean1;
        out[i] = if talib_is_zero_or_neg(var) { 0.0 } else { var.sqrt() };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let out = stddev(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 8).unwrap();
        assert!(out[..7].iter().all(|v| v.is_nan()));
        assert!((out[7] - 2.0).abs() < 1e-12);
        let flat = stddev(&[3.0; 4], 2).unwrap();
        assert_eq!(flat[3], 0.0);
        assert!(stddev(&[1.0; 4], 1).is_err());
    }
}
