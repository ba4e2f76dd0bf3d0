//! Objectives (sharpe, sortino, calmar, return, composite) and constraints that turn backtest statistics into fitness.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::backtest::Stats;

/// What evolution maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// backtesting.py's Sharpe ratio (annualised geometric return / annualised volatility).
    Sharpe,
    /// backtesting.py's Sortino ratio.
    Sortino,
    /// backtesting.py's Calmar ratio (annualised return / |max drawdown|).
    Calmar,
    /// Total return in %.
    Return,
    /// The replaced system's composite score, in [0, 1]:
    /// `0.5·clip(sharpe/5, 0, 1) + 0.3·max(0, 1 − |max drawdown|) + 0.15·win rate + 0.05·consistency`,
    /// drawdown and win rate as fractions; consistency = the share of ten equal consecutive
    /// slices of the equity curve that end at or above where they start. See [`composite`].
    Composite,
}

impl Objective {
    /// Every objective's flag name.
    pub const NAMES: [&'static str; 5] = ["sharpe", "sortino", "calmar", "return", "composite"];

    /// The flag name.
    pub fn as_str(self) -> &'static str {
        match self {
            Objective::Sharpe => "sharpe",
            Objective::Sortino => "sortino",
            Objective::Calmar => "calmar",
            Objective::Return => "return",
            Objective::Composite => "composite",
        }
    }
}

impl FromStr for Objective {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sharpe" => Ok(Objective::Sharpe),
            "sortino" => Ok(Objective::Sortino),
            "calmar" => Ok(Objective::Calmar),
            "return" => Ok(Objective::Return),
            "composite" => Ok(Objective::Composite),
            other => Err(format!(
                "unknown objective `{other}`; expected one of {}",
                Objective::NAMES.join(", ")
            )),
        }
    }
}

/// Constraints a strategy must meet on the training data; a violation is penalised.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Constraints {
    /// At least this many closed trades.
    pub min_trades: u64,
    /// Max drawdown no deeper than this, in % (e.g. 30 means −30 % is the limit); `None` = no limit.
    pub max_drawdown_pct: Option<f64>,
}

impl Default for Constraints {
    fn default() -> Self {
        Constraints {
            min_trades: 10,
            max_drawdown_pct: None,
        }
    }
}

/// Feasible fitness never goes below this, so every penalised strategy ranks below every
/// feasible one.
pub const FEASIBLE_FLOOR: f64 = -999.0;
/// Penalised fitness is `PENALTY_BASE − shortfall`, shortfall ≥ 0 measuring how far the
/// strategy is from meeting the constraints (so the search can still climb towards them).
pub const PENALTY_BASE: f64 = -1000.0;

/// The value of the objective for these statistics (undefined ratios count as 0: a strategy
/// with zero volatility has no risk-adjusted return to speak of). Always finite.
pub fn objective_value(objective: Objective, stats: &Stats) -> f64 {
    let v = match objective {
        Objective::Sharpe => stats.sharpe_ratio.unwrap_or(0.0),
        Objective::Sortino => stats.sortino_ratio.unwrap_or(0.0),
        Objective::Calmar => stats.calmar_ratio.unwrap_or(0.0),
        Objective::Return => stats.return_pct,
        Objective::Composite => composite(stats, 0.0),
    };
    if v.is_finite() {
        v.max(FEASIBLE_FLOOR)
    } else if v == f64::INFINITY {
        // e.g. a Sortino ratio with no losing day: cap instead of letting infinity win outright.
        1e6
    } else {
        FEASIBLE_FLOOR
    }
}

/// The composite score (see [`Objective::Composite`]) given the equity curve's consistency
/// (see [`consistency`]).
pub fn composite(stats: &Stats, consistency: f64) -> f64 {
    let sharpe = stats.sharpe_ratio.unwrap_or(0.0);
    let sharpe_term = (sharpe / 5.0).clamp(0.0, 1.0);
    let drawdown = (stats.max_drawdown_pct.abs() / 100.0).min(1.0);
    let win_rate = stats.win_rate_pct.unwrap_or(0.0) / 100.0;
    let consistency = if consistency.is_finite() {
        consistency.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let v = 0.5 * sharpe_term + 0.3 * (1.0 - drawdown).max(0.0) + 0.15 * win_rate + 0.05 * consistency;
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// Number of equal slices [`consistency`] cuts the equity curve into.
pub const CONSISTENCY_SLICES: usize = 10;

/// The share of [`CONSISTENCY_SLICES`] equal consecutive slices of `equity` that end at or
/// above where they start (0 for fewer bars than slices).
pub fn consistency(equity: &[f64]) -> f64 {
    let n = equity.len();
    if n < CONSISTENCY_SLICES + 1 {
        return 0.0;
    }
    let mut up = 0;
    for k in 0..CONSISTENCY_SLICES {
        let start = k * (n - 1) / CONSISTENCY_SLICES;
        let end = (k + 1) * (n - 1) / CONSISTENCY_SLICES;
        if equity[end] >= equity[start] {
            up += 1;
        }
    }
    up as f64 / CONSISTENCY_SLICES as f64
}

/// How far the statistics are from meeting the constraints: 0 when they are met.
pub fn shortfall(constraints: &Constraints, stats: &Stats) -> f64 {
    let mut short = 0.0;
    if stats.num_trades < constraints.min_trades {
        short += (constraints.min_trades - stats.num_trades) as f64 / constraints.min_trades.max(1) as f64;
    }
    if let Some(limit) = constraints.max_drawdown_pct {
        let depth = stats.max_drawdown_pct.abs();
        if depth > limit {
            short += (depth - limit) / 100.0;
        }
    }
    short
}

/// Fitness: the objective's value when the constraints hold, else an explicit penalty below
/// every feasible value (`PENALTY_BASE − shortfall`). `equity` is needed by the composite
/// objective only (its consistency term). Always finite.
pub fn fitness(objective: Objective, constraints: &Constraints, stats: &Stats, equity: Option<&[f64]>) -> f64 {
    let short = shortfall(constraints, stats);
    if short > 0.0 {
        return PENALTY_BASE - short.min(1e6);
    }
    match objective {
        Objective::Composite => composite(stats, equity.map(consistency).unwrap_or(0.0)),
        other => objective_value(other, stats),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(sharpe: Option<f64>, trades: u64, max_dd: f64, win: Option<f64>) -> Stats {
        let data = crate::market::sample::load_sample("goog-1d").unwrap();
        let mut s =
            crate::backtest::run_backtest_stats(&data, &vec![0.0; data.bars.len()], &Default::default()).unwrap();
        s.sharpe_ratio = sharpe;
        s.num_trades = trades;
        s.max_drawdown_pct = max_dd;
        s.win_rate_pct = win;
        s
    }

    #[test]
    fn violations_rank_below_every_feasible_strategy_and_by_shortfall() {
        let c = Constraints {
            min_trades: 10,
            max_drawdown_pct: Some(20.0),
        };
        let bad = fitness(Objective::Sharpe, &c, &stats(Some(9.0), 2, -5.0, None), None);
        let worse = fitness(Objective::Sharpe, &c, &stats(Some(9.0), 1, -5.0, None), None);
        let deep = fitness(Objective::Sharpe, &c, &stats(Some(9.0), 12, -45.0, None), None);
        let poor = fitness(Objective::Sharpe, &c, &stats(Some(-50.0), 12, -5.0, None), None);
        assert!(bad < poor && worse < bad && deep < poor, "{bad} {worse} {deep} {poor}");
        assert!(bad <= PENALTY_BASE && poor >= FEASIBLE_FLOOR);
        assert_eq!(poor, -50.0);
    }

    #[test]
    fn undefined_ratios_are_finite_and_composite_matches_its_formula() {
        let c = Constraints {
            min_trades: 0,
            max_drawdown_pct: None,
        };
        assert_eq!(fitness(Objective::Sharpe, &c, &stats(None, 0, 0.0, None), None), 0.0);
        let s = stats(Some(2.5), 20, -10.0, Some(60.0));
        let equity: Vec<f64> = (0..101).map(|i| 100.0 + i as f64).collect();
        let want = 0.5 * 0.5 + 0.3 * 0.9 + 0.15 * 0.6 + 0.05 * 1.0;
        assert!((fitness(Objective::Composite, &c, &s, Some(&equity)) - want).abs() < 1e-12);
        assert_eq!(consistency(&equity), 1.0);
        assert!("luck".parse::<Objective>().is_err());
    }
}
