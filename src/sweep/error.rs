//! Errors from sweep grids, constraints, fields, and the backtests they run.

use crate::backtest::BacktestError;
use crate::strategy::StrategyError;

/// A sweep error.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("--grid `{spec}`: {message}")]
    BadGrid { spec: String, message: String },
    #[error("--constraint `{spec}`: {message}")]
    BadConstraint { spec: String, message: String },
    #[error("--maximize `{field}` is not a statistic; choose one of: {known}")]
    UnknownField { field: String, known: String },
    #[error("the grid has {points} points; the limit is {limit}")]
    TooLarge { points: u128, limit: u128 },
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    #[error(transparent)]
    Backtest(#[from] BacktestError),
}

impl SweepError {
    /// True for errors in the user's sweep specification (grid, constraint, field, size).
    pub fn is_bad_spec(&self) -> bool {
        !matches!(self, SweepError::Strategy(_) | SweepError::Backtest(_))
    }
}
