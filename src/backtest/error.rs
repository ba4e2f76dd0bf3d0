//! Errors from backtest configuration and inputs.

/// A backtest error: a bad configuration value or bad target positions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    #[error("backtest config: {field} = {value} is invalid: {reason}")]
    InvalidConfig {
        field: &'static str,
        value: f64,
        reason: &'static str,
    },
    #[error("backtest: {got} target positions for {bars} bars (need one per bar)")]
    TargetLength { got: usize, bars: usize },
    #[error("backtest: target position at bar {bar} is {value}; targets must be finite and within [-1, 1]")]
    InvalidTarget { bar: usize, value: f64 },
    #[error("backtest: target change at bar {bar} is not after the previous change")]
    UnorderedChanges { bar: usize },
    #[error("backtest: no bars to run on")]
    NoBars,
    #[error("backtest: bar {bar} has a non-positive or non-finite {field} price {value}")]
    BadPrice {
        bar: usize,
        field: &'static str,
        value: f64,
    },
}
