//! Technical indicators with TA-Lib's definitions, look-backs and seeding; one indicator per file.
//!
//! Every function returns one value per input bar, `f64::NAN` where the indicator has no value
//! yet (TA-Lib's look-back), and never reads a bar after the one it computes. Where TA-Lib has
//! the indicator, the values equal TA-Lib 0.6.4's (checked against fixtures in
//! `tests/fixtures/talib/`). Every function is a single O(n) pass.

mod adx;
mod atr;
mod bbands;
mod dispatch;
mod donchian;
mod ema;
mod error;
mod ichimoku;
mod macd;
mod rate_of_change;
mod rolling_extremes;
mod rsi;
mod sma;
mod standard_deviation;
mod stochastic;
mod true_range;
mod vwap;
mod williams_r;
mod wma;

pub use adx::adx;
pub use atr::atr;
pub use bbands::{bbands, middle_and_sd, Bands};
pub use dispatch::{compute, indicator_names, IndicatorOutput};
pub use donchian::{donchian, Channel};
pub use ema::ema;
pub use error::IndicatorError;
pub use ichimoku::{ichimoku, Ichimoku};
pub use macd::{macd, Macd};
pub use rate_of_change::roc;
pub use rsi::rsi;
pub use sma::sma;
pub use standard_deviation::stddev;
pub use stochastic::{stoch, Stochastic};
pub use true_range::true_range;
pub use vwap::rolling_vwap;
pub use williams_r::willr;
pub use wma::wma;

/// Checks that a period is at least `min`.
pub(crate) fn check_period(
    indicator: &'static str,
    name: &'static str,
    period: usize,
    min: usize,
) -> Result<(), IndicatorError> {
    if period < min {
        return Err(IndicatorError::InvalidParam {
            indicator,
            message: format!("{name} must be at least {min}, got {period}"),
        });
    }
    Ok(())
}

/// Checks that every input series has the length of the first one.
pub(crate) fn check_lengths(indicator: &'static str, series: &[(&'static str, usize)]) -> Result<(), IndicatorError> {
    if let Some(&(first, n)) = series.first() {
        if let Some(&(name, len)) = series.iter().find(|(_, len)| *len != n) {
            return Err(IndicatorError::InvalidParam {
                indicator,
                message: format!("input lengths differ: {first} has {n} values, {name} has {len}"),
            });
        }
    }
    Ok(())
}

/// TA-Lib 0.6's `TA_EPSILON` (0.4 used 1e-8), the threshold of its zero tests.
pub(crate) const TALIB_EPSILON: f64 = 1e-14;

/// TA-Lib's `TA_IS_ZERO`: `|v| < TA_EPSILON`.
#[inline]
pub(crate) fn talib_is_zero(v: f64) -> bool {
    -TALIB_EPSILON < v && v < TALIB_EPSILON
}

/// TA-Lib's `TA_IS_ZERO_OR_NEG`: `v < TA_EPSILON`.
#[inline]
pub(crate) fn talib_is_zero_or_neg(v: f64) -> bool {
    v < TALIB_EPSILON
}

/// TA-Lib's `TRUE_RANGE` macro: the largest of `h - l`, `|h - yc|` and `|l - yc|`.
#[inline]
pub(crate) fn talib_true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut out = high - low;
    let up = (prev_close - high).abs();
    if up > out {
        out = up;
    }
    let down = (prev_close - low).abs();
    if down > out {
        out = down;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_periods_and_empty_inputs_give_nan_never_a_panic() {
        let v: Vec<f64> = (0..50).map(|i| 100.0 + (i as f64).sin()).collect();
        let (h, l): (Vec<f64>, Vec<f64>) = v.iter().map(|x| (x + 1.0, x - 1.0)).unzip();
        for p in [51, usize::MAX / 2, usize::MAX] {
            let all_nan = |x: &[f64]| x.len() == 50 && x.iter().all(|y| y.is_nan());
            assert!(all_nan(&sma(&v, p).unwrap()) && all_nan(&ema(&v, p).unwrap()) && all_nan(&wma(&v, p).unwrap()));
            assert!(all_nan(&rsi(&v, p).unwrap()) && all_nan(&atr(&h, &l, &v, p).unwrap()));
            assert!(all_nan(&stddev(&v, p).unwrap()) && all_nan(&roc(&v, p).unwrap()));
            assert!(all_nan(&willr(&h, &l, &v, p).unwrap()) && all_nan(&adx(&h, &l, &v, p).unwrap()));
            assert!(all_nan(&bbands(&v, p, 2.0, 2.0).unwrap().upper));
            assert!(all_nan(&stoch(&h, &l, &v, p, p, p).unwrap().slowd));
            assert!(all_nan(&macd(&v, 2, p, p).unwrap().macd));
            assert!(all_nan(&donchian(&h, &l, p).unwrap().upper));
            assert!(all_nan(&rolling_vwap(&h, &l, &v, &v, p).unwrap()));
            let ic = ichimoku(&h, &l, 2, p, 3).unwrap();
            assert!(all_nan(&ic.senkou_a) && all_nan(&ic.senkou_b));
        }
        let e: [f64; 0] = [];
        assert!(adx(&e, &e, &e, 14).unwrap().is_empty() && macd(&e, 12, 26, 9).unwrap().signal.is_empty());
        assert!(
            stoch(&e, &e, &e, 5, 3, 3).unwrap().slowk.is_empty()
                && ichimoku(&e, &e, 9, 26, 52).unwrap().kijun.is_empty()
        );
    }
}
