//! Rate of change (TA-Lib `ROC`): percentage change over `period` bars.

use super::{check_period, IndicatorError};

/// `ROC[i] = (v[i] / v[i - period] - 1) * 100`, 0 when `v[i - period] == 0` (as TA-Lib).
/// TA-Lib look-back: `period`. `period` must be at least 1.
pub fn roc(values: &[f64], period: usize) -> Result<Vec<f64>, IndicatorError> {
    check_period("roc", "timeperiod", period, 1)?;
    let n = values.len();
    let mut out = vec![f64::NAN; n];
    for i in period..n {
        let old = values[i - period];
        out[i] = if old != 0.0 {
            ((values[i] / old) - 1.0) * 100.0
        } else {
            0.0
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let out = roc(&[100.0, 110.0, 121.0, 0.0, 5.0], 1).unwrap();
        assert!(out[0].is_nan());
        assert!((out[1] - 10.0).abs() < 1e-9 && (out[2] - 10.0).abs() < 1e-9);
        assert_eq!(out[3], -100.0);
        assert_eq!(out[4], 0.0);
        assert!(roc(&[1.0], 0).is_err());
    }
}
