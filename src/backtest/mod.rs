//! Backtesting: the engine (next-open fills, commission, slippage, perp funding) and backtesting.py-exact statistics.
//!
//! [`run_backtest`] returns the equity curve, the trades and the [`Stats`];
//! [`run_backtest_stats`] (and [`BacktestContext::run_stats`] /
//! [`BacktestContext::run_stats_changes`] for many runs on the same data) is the fast path
//! for sweeps and evolution: the same simulation with nothing recorded, so it yields the very
//! same `Stats`.
//!
//! Agreement with backtesting.py 0.6.6 (`FractionalBacktest`, `trade_on_close=False`) is
//! checked field for field by `tests/backtest_vs_backtestingpy.rs` (largest relative
//! difference ~2e-11). Where the two can differ, by design:
//! * backtesting.py sizes in whole units (`FractionalBacktest`: whole `fractional_unit`s);
//!   evoflow's units are real numbers (the limit of an infinitely small unit).
//! * backtesting.py starts its loop after the warm-up `w` of the indicators registered with
//!   `Strategy.I` (the first bar at which all of them are defined; its first decision is at
//!   the close of bar `w + 1`) and measures Buy & Hold from the close of bar `w`. Each
//!   strategy declares that `w` ([`crate::strategy::Strategy::warmup`]) and the statistics use
//!   it for Buy & Hold and Alpha; the engine itself acts on every target it is given (the
//!   strategies are flat before `w`), so a strategy that already acts at the close of bar `w`
//!   trades one bar earlier than its backtesting.py port would.
//! * backtesting.py's `spread` moves entry fills only and sizes with the commission of the
//!   unadjusted price; evoflow's `slippage_bps` moves every fill, entries and exits.
//! * With `finalize_trades`, backtesting.py also fills orders placed on the last bar (at that
//!   bar's open); evoflow never fills the last bar's signal.
//! * Values backtesting.py reports as NaN or ±inf are `None`; "Commissions" is 0 rather than
//!   absent when there are none; in backtesting.py's degenerate case of a drawdown on the
//!   last bar only, its drawdown "durations" (not times there) are `None`.
//!
//! ```
//! use evoflow::backtest::{run_backtest, BacktestConfig};
//! let data = evoflow::market::sample::load_sample("goog-1d").unwrap();
//! let mut targets = vec![0.0; data.bars.len()];
//! targets[10] = 1.0; // buy at the open of bar 11 ...
//! targets[20] = 0.0; // ... hold until bar 21 ...
//! for t in &mut targets[11..20] {
//!     *t = 1.0;
//! }
//! let report = run_backtest(&data, &targets, &BacktestConfig::default()).unwrap();
//! assert_eq!(report.trades.len(), 1);
//! assert_eq!((report.trades[0].entry_bar, report.trades[0].exit_bar), (11, 21));
//! assert_eq!(report.stats.num_trades, 1);
//! ```

mod calendar;
pub(crate) use calendar::Calendar;
mod config;
mod context;
mod engine;
mod error;
mod stats;
mod trade;

pub use config::BacktestConfig;
pub use context::BacktestContext;
pub use engine::TargetChange;
pub use error::BacktestError;
pub use stats::{Stats, NUMERIC_FIELDS};
pub use trade::Trade;

use serde::{Deserialize, Serialize};

use crate::market::MarketData;
use engine::{changes_of, simulate, FitnessOnly, FullRecord, NoRecord};

/// The result of a backtest: equity at every close, the closed trades, and the statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    pub equity: Vec<f64>,
    pub trades: Vec<Trade>,
    pub stats: Stats,
}

/// Backtests target positions (one per bar, in [-1, 1]) on `data`, with no indicator
/// warm-up (backtesting.py without `Strategy.I` indicators: Buy & Hold from the first close).
pub fn run_backtest(
    data: &MarketData,
    targets: &[f64],
    config: &BacktestConfig,
) -> Result<BacktestReport, BacktestError> {
    BacktestContext::new(data)?.run(targets, config, 0)
}

/// The statistics of [`run_backtest`], without building the equity curve or the trade list.
pub fn run_backtest_stats(data: &MarketData, targets: &[f64], config: &BacktestConfig) -> Result<Stats, BacktestError> {
    BacktestContext::new(data)?.run_stats(targets, config, 0)
}

impl BacktestContext<'_> {
    /// [`run_backtest`] on this context's data, after an indicator warm-up of `warmup` bars
    /// (the strategy's [`crate::strategy::Strategy::warmup`]): Buy & Hold is measured from the
    /// close of bar `warmup`, and Alpha with it, as backtesting.py does; 0 is no warm-up.
    pub fn run(
        &self,
        targets: &[f64],
        config: &BacktestConfig,
        warmup: usize,
    ) -> Result<BacktestReport, BacktestError> {
        let changes = changes_of(targets, self.len())?;
        let rec = FullRecord {
            equity: Vec::with_capacity(self.len()),
            trades: Vec::new(),
        };
        let (stats, rec) = simulate(self, changes, config, warmup, rec)?;
        Ok(BacktestReport {
            equity: rec.equity,
            trades: rec.trades,
            stats,
        })
    }

    /// [`BacktestContext::run`]'s statistics only.
    pub fn run_stats(&self, targets: &[f64], config: &BacktestConfig, warmup: usize) -> Result<Stats, BacktestError> {
        let changes = changes_of(targets, self.len())?;
        Ok(simulate(self, changes, config, warmup, NoRecord)?.0)
    }

    /// [`BacktestContext::run_stats`] without beta, alpha and the average trade (all `None`):
    /// every other statistic is the same bit for bit, one division per bar and one logarithm
    /// per trade cheaper (what evolution's fitness needs).
    pub fn run_fitness_stats(
        &self,
        targets: &[f64],
        config: &BacktestConfig,
        warmup: usize,
    ) -> Result<Stats, BacktestError> {
        let changes = changes_of(targets, self.len())?;
        Ok(simulate(self, changes, config, warmup, FitnessOnly)?.0)
    }

    /// The statistics for a target vector given by its changes: the target is 0 until the
    /// first change and becomes `target` at the close of each change's `bar` (bars strictly
    /// increasing; changes on or after the last bar are ignored). Nothing is allocated per bar.
    pub fn run_stats_changes(
        &self,
        changes: impl IntoIterator<Item = TargetChange>,
        config: &BacktestConfig,
        warmup: usize,
    ) -> Result<Stats, BacktestError> {
        Ok(simulate(self, changes, config, warmup, NoRecord)?.0)
    }

    /// [`BacktestContext::run`] for a target vector given by its changes.
    pub fn run_changes(
        &self,
        changes: impl IntoIterator<Item = TargetChange>,
        config: &BacktestConfig,
        warmup: usize,
    ) -> Result<BacktestReport, BacktestError> {
        let rec = FullRecord {
            equity: Vec::with_capacity(self.len()),
            trades: Vec::new(),
        };
        let (stats, rec) = simulate(self, changes, config, warmup, rec)?;
        Ok(BacktestReport {
            equity: rec.equity,
            trades: rec.trades,
            stats,
        })
    }
}
