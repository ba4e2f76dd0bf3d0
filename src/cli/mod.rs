//! Subcommand implementations of the `evoflow` binary, one file per subcommand.

pub mod backtest;
pub mod data;
pub mod data_fetch;
pub mod evolve;
pub mod evolve_table;
pub mod health;
pub mod health_cluster;
pub mod indicator;
pub mod market_args;
pub mod metrics_args;
pub mod report;
pub mod runs;
pub mod seeds;
pub mod storage_args;
pub mod sweep;

use evoflow::indicators::IndicatorError;
use evoflow::market::MarketError;
use evoflow::storage::StorageError;
use evoflow::strategy::StrategyError;

/// A flag or argument the user got wrong (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Exit status for an error: 2 for bad input (data, flags, parameters), 1 otherwise.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    let bad_input = err.chain().any(|e| {
        e.downcast_ref::<MarketError>().is_some()
            || e.downcast_ref::<StrategyError>().is_some()
            || e.downcast_ref::<UsageError>().is_some()
            || e.downcast_ref::<IndicatorError>().is_some()
            || e.downcast_ref::<evoflow::evolution::EvolveError>().is_some()
            || e.downcast_ref::<evoflow_dataflows::DataflowError>()
                .is_some_and(|d| d.is_usage_error())
            || e.downcast_ref::<StorageError>().is_some_and(StorageError::is_bad_input)
            || e.downcast_ref::<evoflow::run::RunError>()
                .is_some_and(evoflow::run::RunError::is_bad_input)
            || e.downcast_ref::<evoflow::fetch::FetchError>()
                .is_some_and(evoflow::fetch::FetchError::is_bad_input)
            || e.downcast_ref::<evoflow::report::ReportError>()
                .is_some_and(evoflow::report::ReportError::is_bad_input)
    });
    if bad_input {
        2
    } else {
        1
    }
}
