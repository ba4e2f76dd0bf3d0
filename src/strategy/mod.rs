//! The `Strategy` abstraction shared by the reference strategies and the 14 genetic seeds.

mod gene;
mod genome;
mod params;
pub mod sma_crossover;

pub use gene::{clamp_genome, Clamp, GeneSpec};
pub use genome::Genome;
pub use params::{parse_param_assignments, resolve_params, ResolvedParams};

use serde::{Deserialize, Serialize};

use crate::market::MarketData;

/// A strategy family's type tag (reports and diversity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyType {
    Momentum,
    MeanReversion,
    Breakout,
    RiskManagement,
    Carry,
    MlClassifier,
    Volatility,
    TrendFollowing,
}

impl StrategyType {
    /// The snake_case tag.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyType::Momentum => "momentum",
            StrategyType::MeanReversion => "mean_reversion",
            StrategyType::Breakout => "breakout",
            StrategyType::RiskManagement => "risk_management",
            StrategyType::Carry => "carry",
            StrategyType::MlClassifier => "ml_classifier",
            StrategyType::Volatility => "volatility",
            StrategyType::TrendFollowing => "trend_following",
        }
    }
}

/// Errors from strategies and their parameters.
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    #[error("unknown strategy `{name}`; known: {known}")]
    UnknownStrategy { name: String, known: String },
    #[error("strategy `{strategy}` has no parameter `{param}`; its parameters: {known}")]
    UnknownParam {
        strategy: String,
        param: String,
        known: String,
    },
    #[error("parameter `{param}`: `{value}` is not a number")]
    BadValue { param: String, value: String },
    #[error("`{0}` is not KEY=VALUE")]
    BadAssignment(String),
    #[error("strategy `{strategy}`: {message}")]
    InvalidParams { strategy: String, message: String },
    #[error("strategy `{strategy}` needs perp funding data, and none was given (pass --funding FILE)")]
    MissingFunding { strategy: String },
    #[error("strategy `{strategy}`: {message}")]
    Failed { strategy: String, message: String },
}

/// A strategy family: a named genome of bounded genes and a rule turning market data into a
/// target position in [-1, 1] per bar, decided at the bar's close (filled at the next open).
///
/// Contract for `signal`: returns one value per bar, each finite and in [-1, 1]; warm-up bars
/// are 0; the value at bar i depends only on bars 0..=i (and funding events up to bar i's
/// close); `genome` has one value per gene, already clamped and rounded (see
/// [`clamp_genome`]); the result is deterministic.
pub trait Strategy: Send + Sync {
    /// The strategy's name, as used by `--strategy`.
    fn name(&self) -> &'static str;
    /// Its type tag.
    fn kind(&self) -> StrategyType;
    /// The rule in plain words.
    fn doc(&self) -> &'static str;
    /// Its genes, in genome order.
    fn genes(&self) -> &'static [GeneSpec];
    /// True when the strategy cannot run without funding data.
    fn needs_funding(&self) -> bool {
        false
    }
    /// Target positions, one per bar.
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError>;

    /// backtesting.py's indicator warm-up for this rule written with `Strategy.I`
    /// (`_indicator_warmup_nbars`): the first bar at which every indicator the rule needs is
    /// defined (TA-Lib look-backs), for `data` and `genome` (normalised like `signal` does).
    /// The signal is 0 on every bar before it. Backtest statistics measure Buy & Hold (and
    /// so Alpha) from this bar's close; backtesting.py makes its first decision at the close
    /// of the bar after it. Optional inputs (a volume confirmation that is skipped while
    /// undefined, a divergence term that is 0 until defined) do not count.
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let _ = (data, genome);
        0
    }

    /// Estimated cost of `signal` plus a backtest with `genome`, relative to a typical
    /// indicator seed (1). Evolution spreads new genomes over its workers by it; it never
    /// changes a result. Seeds whose cost varies widely with their genes override it.
    fn relative_cost(&self, genome: &[f64]) -> f64 {
        let _ = genome;
        1.0
    }

    /// The default genome.
    fn default_genome(&self) -> Vec<f64> {
        self.genes().iter().map(|g| g.default).collect()
    }
}
