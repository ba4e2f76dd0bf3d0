//! evoflow: evolves trading strategies with a genetic algorithm written as an iterative timely dataflow.

pub mod indicators;
pub mod market;
pub mod storage;
pub mod strategy;
