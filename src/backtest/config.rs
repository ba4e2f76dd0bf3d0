//! `BacktestConfig`: starting cash, commission, slippage and end-of-run handling, validated in one place.

use serde::{Deserialize, Serialize};

use super::BacktestError;

/// How a backtest fills and charges trades.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BacktestConfig {
    /// Starting cash (> 0).
    pub cash: f64,
    /// Commission as a fraction of the traded notional, charged on every fill (e.g. 0.001 =
    /// 0.1 %), like backtesting.py's relative `commission`. Must be in [0, 0.1).
    pub commission: f64,
    /// Slippage in basis points against the trader on every fill: buys fill at
    /// `open * (1 + bps / 1e4)`, sells at `open * (1 - bps / 1e4)`. Must be in [0, 1000).
    pub slippage_bps: f64,
    /// Close a position still open after the last bar at that bar's open (what
    /// backtesting.py's `finalize_trades=True` does) so it counts in the trade statistics.
    /// When false an open trade stays out of the trade statistics (backtesting.py's default).
    pub finalize_trades: bool,
}

impl Default for BacktestConfig {
    fn default() -> Self {
        BacktestConfig {
            cash: 10_000.0,
            commission: 0.0,
            slippage_bps: 0.0,
            finalize_trades: false,
        }
    }
}

impl BacktestConfig {
    /// Checks every field; the error names the field and the value.
    pub fn validate(&self) -> Result<(), BacktestError> {
        if !(self.cash.is_finite() && self.cash > 0.0) {
            return Err(BacktestError::InvalidConfig {
                field: "cash",
                value: self.cash,
                reason: "must be a finite number > 0",
            });
        }
        if !(self.commission.is_finite() && (0.0..0.1).contains(&self.commission)) {
            return Err(BacktestError::InvalidConfig {
                field: "commission",
                value: self.commission,
                reason: "must be a fraction in [0, 0.1)",
            });
        }
        if !(self.slippage_bps.is_finite() && (0.0..1000.0).contains(&self.slippage_bps)) {
            return Err(BacktestError::InvalidConfig {
                field: "slippage_bps",
                value: self.slippage_bps,
                reason: "must be basis points in [0, 1000)",
            });
        }
        Ok(())
    }

    /// Slippage as a fraction of the price.
    pub(crate) fn slippage(&self) -> f64 {
        self.slippage_bps / 1e4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_bad_values_name_the_field() {
        assert!(BacktestConfig::default().validate().is_ok());
        let bad = BacktestConfig {
            cash: 0.0,
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("cash"));
        let bad = BacktestConfig {
            commission: f64::NAN,
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("commission"));
        let bad = BacktestConfig {
            slippage_bps: -1.0,
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("slippage_bps"));
    }
}
