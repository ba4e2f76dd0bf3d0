//! Overfitting guard rails: statistics that say whether a selected strategy's Sharpe is likely real.

pub mod error;
pub mod guard;
pub mod normal;
pub mod pbo;
pub mod settings;
pub mod sharpe_stats;
pub mod trials;
pub mod walk_forward;

pub use error::ValidationError;
pub use guard::{
    distinct_behaviours, keep_distinct, period_returns, EntryValidation, DEFAULT_MIN_TEST_TRADES, DSR_THRESHOLD,
    OVERLAP_THRESHOLD,
};
pub use pbo::{pbo, validate_blocks, PboSummary, DEFAULT_PBO_BLOCKS};
pub use settings::ValidationSettings;
pub use sharpe_stats::{
    deflated_sharpe, deflated_sharpe_of_returns, expected_max_sharpe, probabilistic_sharpe, return_moments,
    ReturnMoments, SharpeStats,
};
pub use trials::TrialLedger;
pub use walk_forward::{folds, Fold, ValidationMode};
