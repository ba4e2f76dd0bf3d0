//! The hall-of-fame report: each best strategy with its genes by name, its fitness, and train and test statistics.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::problem::{EvaluationError, TradingProblem};
use crate::backtest::Stats;
use crate::market::MarketData;
use crate::strategy::Genome;
use crate::validation::EntryValidation;

/// One strategy of the hall of fame, as printed by `evolve --json` and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestStrategy {
    pub seed: String,
    pub params: BTreeMap<String, f64>,
    pub fitness: f64,
    pub train: Stats,
    /// `None` when no bars were held out (`--test-fraction 0`).
    pub test: Option<Stats>,
    /// PSR, DSR and their inputs on the held-out returns (`None` when undefined).
    #[serde(default)]
    pub validation: Option<EntryValidation>,
    /// Why this entry should not be trusted (too few held-out trades, DSR below 0.95).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Reports the hall of fame (best first): genes named by the family's gene specs, statistics
/// recomputed on the training part and on the held-out part (`full` split at `split`). The
/// entries are backtested in parallel (rayon); the order is kept.
pub fn hall_of_fame_report(
    problem: &TradingProblem,
    entries: &[(Genome, f64)],
    full: &MarketData,
    split: usize,
) -> Result<Vec<BestStrategy>, EvaluationError> {
    entries
        .par_iter()
        .map(|(genome, fitness)| {
            let family = problem
                .families()
                .iter()
                .find(|f| f.name() == genome.seed)
                .ok_or_else(|| EvaluationError::UnknownFamily(genome.seed.clone()))?;
            let params = family
                .genes()
                .iter()
                .zip(&genome.genes)
                .map(|(g, v)| (g.name.to_string(), *v))
                .collect();
            let (train, test) = problem.split_stats(genome, full, split)?;
            Ok(BestStrategy {
                seed: genome.seed.clone(),
                params,
                fitness: *fitness,
                train,
                test,
                validation: None,
                warnings: Vec::new(),
            })
        })
        .collect()
}
