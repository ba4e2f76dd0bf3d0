//! Lookup of every strategy by name: the reference strategies of `strategy/` and the genetic seeds (so `strategy` never imports `seeds`).

use crate::strategy::{sma_crossover, Strategy, StrategyError};

/// Every strategy `backtest` and `sweep` accept, reference strategies first.
pub fn all_strategies() -> Vec<&'static dyn Strategy> {
    let mut all: Vec<&'static dyn Strategy> = vec![&sma_crossover::SMA_CROSSOVER];
    all.extend(super::all_seeds());
    all
}

/// The strategy called `name`.
pub fn lookup(name: &str) -> Result<&'static dyn Strategy, StrategyError> {
    let all = all_strategies();
    all.iter()
        .copied()
        .find(|s| s.name() == name)
        .ok_or_else(|| StrategyError::UnknownStrategy {
            name: name.to_string(),
            known: all.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "),
        })
}
