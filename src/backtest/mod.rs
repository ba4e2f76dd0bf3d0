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
//! * backtesting.py starts its loop after the warm-up of indicators registered with
//!   `Strategy.I` and measures Buy & Hold from there; evoflow has no indicator registry:
//!   decisions start at bar 0 (filled at bar 1) and Buy & Hold runs from the first close.
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
use engine::{changes_of, simulate, FullRecord, NoRecord};

/// The result of a backtest: equity at every close, the closed trades, and the statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    pub equity: Vec<f64>,
    pub trades: Vec<Trade>,
    pub stats: Stats,
}

/// Backtests target positions (one per bar, in [-1, 1]) on `data`.
pub fn run_backtest(
    data: &MarketData,
    targets: &[f64],
    config: &BacktestConfig,
) -> Result<BacktestReport, BacktestError> {
    BacktestContext::new(data)?.run(targets, config)
}

/// The statistics of [`run_backtest`], without building the equity curve or the trade list.
pub fn run_backtest_stats(data: &MarketData, targets: &[f64], config: &BacktestConfig) -> Result<Stats, BacktestError> {
    BacktestContext::new(data)?.run_stats(targets, config)
}

impl BacktestContext<'_> {
    /// [`run_backtest`] on this context's data.
    pub fn run(&self, targets: &[f64], config: &BacktestConfig) -> Result<BacktestReport, BacktestError> {
        let changes = changes_of(targets, self.len())?;
        let rec = FullRecord {
            equity: Vec::with_capacity(self.len()),
            trades: Vec::new(),
        };
        let (stats, rec) = simulate(self, changes, config, rec)?;
        Ok(BacktestReport {
            equity: rec.equity,
            trades: rec.trades,
            stats,
        })
    }

    /// [`run_backtest_stats`] on this context's data.
    pub fn run_stats(&self, targets: &[f64], config: &BacktestConfig) -> Result<Stats, BacktestError> {
        let changes = changes_of(targets, self.len())?;
        Ok(simulate(self, changes, config, NoRecord)?.0)
    }

    /// The statistics for a target vector given by its changes: the target is 0 until the
    /// first change and becomes `target` at the close of each change's `bar` (bars strictly
    /// increasing; changes on or after the last bar are ignored). Nothing is allocated per bar.
    pub fn run_stats_changes(
        &self,
        changes: impl IntoIterator<Item = TargetChange>,
        config: &BacktestConfig,
    ) -> Result<Stats, BacktestError> {
        Ok(simulate(self, changes, config, NoRecord)?.0)
    }

    /// [`BacktestContext::run`] for a target vector given by its changes.
    pub fn run_changes(
        &self,
        changes: impl IntoIterator<Item = TargetChange>,
        config: &BacktestConfig,
    ) -> Result<BacktestReport, BacktestError> {
        let rec = FullRecord {
            equity: Vec::with_capacity(self.len()),
            trades: Vec::new(),
        };
        let (stats, rec) = simulate(self, changes, config, rec)?;
        Ok(BacktestReport {
            equity: rec.equity,
            trades: rec.trades,
            stats,
        })
    }
}
