//! `ReportError`: what can go wrong while gathering, drawing or writing a report.

use std::path::PathBuf;

/// Errors of the report module. `is_bad_input` tells the CLI which are the user's (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no run `{run_id}` in {location}")]
    NoSuchRun { run_id: String, location: String },
    #[error(
        "run `{run_id}` has no hall of fame (it has not finished; resume it with `evoflow evolve --resume {run_id}`)"
    )]
    NoHallOfFame { run_id: String },
    #[error("run `{run_id}`: stored configuration is unreadable: {message}")]
    BadConfig { run_id: String, message: String },
    #[error(
        "run `{run_id}` was run on market data {stored}, but the data given ({source_label}) is {given}; pass the run's \
         data with --data (and --funding)"
    )]
    DataMismatch {
        run_id: String,
        stored: String,
        given: String,
        source_label: String,
    },
    #[error("run `{run_id}`, hall of fame rank {rank}: {message}")]
    BadEntry { run_id: String, rank: u32, message: String },
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    Strategy(#[from] crate::strategy::StrategyError),
    #[error(transparent)]
    Backtest(#[from] crate::backtest::BacktestError),
    #[error(transparent)]
    Evolve(#[from] crate::evolution::EvolveError),
    #[error("rasterising chart `{chart}`: {message}")]
    Raster { chart: String, message: String },
    #[error("writing {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

impl ReportError {
    /// True for errors in what the user asked for (a run id, data, a parameter), false for
    /// failures of the machine (I/O, storage faults).
    pub fn is_bad_input(&self) -> bool {
        match self {
            ReportError::NoSuchRun { .. }
            | ReportError::NoHallOfFame { .. }
            | ReportError::DataMismatch { .. }
            | ReportError::BadEntry { .. }
            | ReportError::BadConfig { .. }
            | ReportError::Strategy(_) => true,
            ReportError::Storage(e) => e.is_bad_input(),
            _ => false,
        }
    }
}
