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
pub use bbands::{bbands, Bands};
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
