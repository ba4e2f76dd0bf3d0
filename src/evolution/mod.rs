//! Trading evolution: genomes of seed families, objectives and constraints, and runs of the evolution dataflow on market data.
//!
//! The generic machinery (the timely loop, selection, variation, checkpoints) lives in the
//! `evoflow-dataflows` package; this module supplies the trading [`TradingProblem`], chooses
//! the families, splits the data into a training part (fitness) and a held-out test part,
//! and turns the hall of fame into reports with statistics for both parts.

mod families;
mod hall;
mod objective;
mod problem;
mod settings;
mod validated;

pub use families::{select_families, FamilySelection};
pub use hall::{hall_of_fame_report, BestStrategy};
pub use objective::{
    composite, consistency, fitness, objective_value, shortfall, Constraints, Objective, CONSISTENCY_SLICES,
    FEASIBLE_FLOOR, PENALTY_BASE,
};
pub use problem::{EvaluationError, KeyStats, TradingProblem, FAMILY_SWITCH_RATE, MUTATION_SCALE};
pub use settings::{
    split_point, validation_folds, EvolveError, EvolveSettings, DEFAULT_COMMISSION, DEFAULT_SLIPPAGE_BPS,
    MIN_TRAIN_BARS,
};
pub use validated::{population_pbo, validated_hall_of_fame, FullRun, FullRuns, ValidatedHall};
