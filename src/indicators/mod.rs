//! Technical indicators with TA-Lib's definitions, look-backs and seeding; one indicator per file.
//!
//! Every function returns one value per input bar, `f64::NAN` where the indicator has no value
//! yet (TA-Lib's look-back), and never reads a bar after the one it computes.

mod error;
mod ema;
mod sma;

pub use ema::ema;
pub use error::IndicatorError;
pub use sma::sma;

/// Checks that a period is at least `min`.
pub(crate) fn check_period(indicator: &'static str, name: &'static str, period: usize, min: usize) -> Result<(), IndicatorError> {
    if period < min {
        return Err(IndicatorError::InvalidParam { indicator, message: format!("{name} must be at least {min}, got {period}") });
    }
    Ok(())
}
