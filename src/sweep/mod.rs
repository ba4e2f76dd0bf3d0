//! Parameter sweeps: every point of a grid backtested on all cores, ranked by one statistic.
//!
//! Each grid key is a gene of the strategy (the other genes keep their defaults); points that
//! fail a constraint are not run, and points the strategy rejects as invalid parameters (e.g.
//! `fast >= slow` for `sma_crossover`) are counted as skipped. Points are ranked by the chosen
//! statistic, highest first (the default is [`DEFAULT_MAXIMIZE`]); undefined values (null)
//! rank last, and ties keep grid order, so the result is deterministic. For `sma_crossover`
//! every SMA period is computed once and shared by all points; other strategies call
//! `Strategy::signal` per point.

mod constraint;
mod error;
mod grid;
mod heatmap;
mod run;

pub use constraint::{CmpOp, Constraint, Operand};
pub use error::SweepError;
pub use grid::{grid_point, grid_size, GridAxis};
pub use heatmap::heatmap_csv;
pub use run::{run_sweep, SweepPoint, SweepResult, SweepSpec, DEFAULT_MAXIMIZE, MAX_POINTS};
