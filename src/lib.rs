//! evoflow: evolves trading strategies with a genetic algorithm written as an iterative timely dataflow.

pub mod backtest;
pub mod evolution;
pub mod indicators;
pub mod market;
pub mod ml;
pub mod seeds;
pub mod storage;
pub mod strategy;
pub mod sweep;
