//! evoflow: evolves trading strategies with a genetic algorithm written as an iterative timely dataflow.

/// This build of evoflow: the package version and a hash of the sources that decide results
/// (see `build.rs`), e.g. `0.1.0+src.3f2a…`. Runs record it, a resume warns when it differs, and
/// the processes of a cluster refuse to run together unless they share it.
pub const BUILD: &str = concat!(env!("CARGO_PKG_VERSION"), "+src.", env!("EVOFLOW_SOURCE_HASH"));

pub mod backtest;
pub mod evolution;
pub mod fetch;
pub mod indicators;
pub mod market;
pub mod ml;
pub mod report;
pub mod run;
pub mod seeds;
pub mod storage;
pub mod strategy;
pub mod sweep;
pub mod telemetry;
pub mod validation;
