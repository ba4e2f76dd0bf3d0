//! `EvolveSettings`: the validated configuration of a trading evolution run, and the train/test split.

use serde::{Deserialize, Serialize};

use evoflow_dataflows::{ConfigError, GaConfig};

use super::objective::{Constraints, Objective};
use crate::backtest::BacktestConfig;
use crate::validation::{Fold, ValidationMode, ValidationSettings};

/// Default commission per fill: 0.045 % of notional, Hyperliquid's base-tier perp taker fee.
pub const DEFAULT_COMMISSION: f64 = 0.00045;
/// Default slippage: 1 basis point against the trader on every fill (a liquid perp's
/// half-spread plus impact for a small order).
pub const DEFAULT_SLIPPAGE_BPS: f64 = 1.0;
/// The training part must have at least this many bars.
pub const MIN_TRAIN_BARS: usize = 100;

/// Errors in evolution settings and runs.
#[derive(Debug, thiserror::Error)]
pub enum EvolveError {
    #[error("{0}")]
    Invalid(String),
    #[error("unknown seed `{name}`; known seeds: {known}")]
    UnknownSeed { name: String, known: String },
    #[error("{0}")]
    NoFamilies(String),
    #[error(transparent)]
    Backtest(#[from] crate::backtest::BacktestError),
}

/// A GA setting's error, told with the `evolve` flag it comes from (the niche share, crossover
/// and mutation rates have no flag: they are evoflow's constants).
fn told_with_flag(error: ConfigError) -> EvolveError {
    EvolveError::Invalid(match error {
        ConfigError::PopulationTooSmall(population) => {
            format!("--population must be at least 2, got {population}")
        }
        ConfigError::NoGenerations => "--generations must be at least 1, got 0".to_string(),
        ConfigError::ElitismTooLarge { elitism, population } => {
            format!("--elitism ({elitism}) must be smaller than --population ({population})")
        }
        ConfigError::TournamentTooSmall => "--tournament-size must be at least 1, got 0".to_string(),
        ConfigError::ZeroPatience => "--patience must be at least 1 generation, got 0".to_string(),
        other => other.to_string(),
    })
}

/// Everything that decides a run's result (so it is stored with the run and reused on resume).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvolveSettings {
    pub ga: GaConfig,
    pub objective: Objective,
    pub constraints: Constraints,
    /// Share of the bars held out at the end for out-of-sample statistics, in [0, 0.9].
    pub test_fraction: f64,
    pub backtest: BacktestConfig,
    /// Seed families to evolve; empty means all usable ones.
    pub seeds: Vec<String>,
    /// Where the bars came from (`sample:NAME`, a path, or `storage:SYMBOL/TIMEFRAME`).
    pub data: String,
    /// Holdout or walk-forward, PBO blocks, minimum held-out trades (absent in runs stored
    /// before they existed: the defaults).
    #[serde(default)]
    pub validation: ValidationSettings,
}

impl EvolveSettings {
    /// Checks every field; the first problem is returned with the flag it came from.
    pub fn validate(&self) -> Result<(), EvolveError> {
        self.ga.validate().map_err(told_with_flag)?;
        self.backtest.validate()?;
        if !(0.0..=0.9).contains(&self.test_fraction) || !self.test_fraction.is_finite() {
            return Err(EvolveError::Invalid(format!(
                "--test-fraction must be in [0, 0.9], got {}",
                self.test_fraction
            )));
        }
        self.validation
            .validate()
            .map_err(|e| EvolveError::Invalid(e.to_string()))?;
        if let Some(dd) = self.constraints.max_drawdown_pct {
            if !(dd > 0.0 && dd <= 100.0) {
                return Err(EvolveError::Invalid(format!(
                    "--max-drawdown must be in (0, 100] percent, got {dd}"
                )));
            }
        }
        Ok(())
    }
}

/// The first bar of the test part: the last `round(bars × test_fraction)` bars are held out.
/// Errors when the training part would have fewer than [`MIN_TRAIN_BARS`] bars.
pub fn split_point(bars: usize, test_fraction: f64) -> Result<usize, EvolveError> {
    let test = (bars as f64 * test_fraction).round() as usize;
    let train = bars.saturating_sub(test);
    if train < MIN_TRAIN_BARS {
        return Err(EvolveError::Invalid(format!(
            "the training part has {train} bars (of {bars}, test fraction {test_fraction}); at least {MIN_TRAIN_BARS} are needed"
        )));
    }
    Ok(train)
}

/// The folds of `mode` over `bars` bars: holdout is [`split_point`]'s split, walk-forward
/// K folds each holding out its last `test_fraction` (see [`crate::validation::folds`]).
pub fn validation_folds(bars: usize, mode: ValidationMode, test_fraction: f64) -> Result<Vec<Fold>, EvolveError> {
    match mode {
        ValidationMode::Holdout => {
            let split = split_point(bars, test_fraction)?;
            Ok(vec![Fold {
                train: 0..split,
                test: split..bars,
            }])
        }
        walk_forward => crate::validation::folds(bars, walk_forward, test_fraction, MIN_TRAIN_BARS)
            .map_err(|e| EvolveError::Invalid(e.to_string())),
    }
}
