//! Overfitting guard rails: statistics that say whether a selected strategy's Sharpe is likely real.

pub mod error;
pub mod normal;
pub mod sharpe_stats;

pub use error::ValidationError;
pub use sharpe_stats::{
    deflated_sharpe, deflated_sharpe_of_returns, expected_max_sharpe, probabilistic_sharpe, return_moments,
    ReturnMoments, SharpeStats,
};
