//! A run's validation at its end: the trial ledger (from the reports, and from storage on resume), the validated hall of fame, the PBO, and their stored form.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::evolution::{
    population_pbo, validated_hall_of_fame, validation_folds, BestStrategy, EvaluationError, EvolveError,
    EvolveSettings, FullRuns, KeyStats, TradingProblem, FEASIBLE_FLOOR,
};
use crate::market::MarketData;
use crate::storage::IndividualRecord;
use crate::strategy::Genome;
use crate::validation::{EntryValidation, Fold, PboSummary, TrialLedger, ValidationMode};
use evoflow_dataflows::Scored;

/// The training problem of a plan on `data` and its folds: holdout trains on the bars before
/// the split, walk-forward on every fold's training window.
pub fn problem_and_folds(
    settings: &EvolveSettings,
    families: Vec<&'static dyn crate::strategy::Strategy>,
    data: &MarketData,
) -> Result<(TradingProblem, Vec<Fold>), EvolveError> {
    let folds = validation_folds(data.bars.len(), settings.validation.mode, settings.test_fraction)?;
    let last_train = folds.last().map_or(0, |f| f.train.end);
    let prefix = Arc::new(data.slice(0..last_train));
    let windows = folds.iter().map(|f| f.train.clone()).collect();
    let problem = match settings.validation.mode {
        ValidationMode::Holdout => TradingProblem::new(
            families,
            prefix,
            settings.objective,
            settings.constraints,
            settings.backtest,
        ),
        ValidationMode::WalkForward { .. } => TradingProblem::with_windows(
            families,
            prefix,
            windows,
            settings.objective,
            settings.constraints,
            settings.backtest,
        ),
    }
    .map_err(|e| EvolveError::Invalid(e.to_string()))?;
    Ok((problem, folds))
}

/// A trial's Sharpe per period for the ledger: its training Sharpe when it met the
/// constraints, else undefined (it counts in N, not in V: a strategy with one trade or none
/// has a degenerate Sharpe that says nothing about the spread of real candidates).
fn trial_sharpe(problem: &TradingProblem, fitness: f64, sharpe: f64) -> f64 {
    if fitness >= FEASIBLE_FLOOR {
        problem.per_period_sharpe(sharpe)
    } else {
        f64::NAN
    }
}

/// Adds a reported generation's population to `ledger`.
pub fn add_population(ledger: &mut TrialLedger, problem: &TradingProblem, population: &[Scored<Genome>]) {
    for s in population {
        let sharpe = KeyStats::from_metrics(&s.metrics).sharpe;
        ledger.add(s.genome.stable_hash(), trial_sharpe(problem, s.fitness.value(), sharpe));
    }
}

/// The ledger of the stored individuals of generations before `before` (what a resumed run
/// evaluated before its checkpoint). A hash that does not parse is an error naming it.
pub fn ledger_from_individuals(
    individuals: &[IndividualRecord],
    before: u64,
    problem: &TradingProblem,
) -> Result<TrialLedger, String> {
    let mut ledger = TrialLedger::default();
    for i in individuals.iter().filter(|i| u64::from(i.generation) < before) {
        let hash = u64::from_str_radix(&i.genome_hash, 16).map_err(|_| {
            format!(
                "stored individual of generation {} has a bad genome hash `{}`",
                i.generation, i.genome_hash
            )
        })?;
        ledger.add(hash, trial_sharpe(problem, i.fitness, i.sharpe));
    }
    Ok(ledger)
}

/// Everything the end of a run reports about validation.
#[derive(Debug, Clone)]
pub struct RunValidation {
    pub mode: ValidationMode,
    /// `--min-test-trades` of the run's plan.
    pub min_test_trades: u64,
    pub n_trials: u64,
    pub sr_variance: f64,
    pub best: Vec<BestStrategy>,
    /// Hall-of-fame entries merged into a better one that trades the same bars.
    pub same_behaviour: usize,
    /// The final population's PBO, or why it is undefined.
    pub pbo: Result<PboSummary, String>,
}

/// The candidates for the reported hall of fame, best first: the run's hall of fame, then
/// the other genomes of its final population by fitness (descending; ties by genome).
pub fn candidates(entries: &[(Genome, f64)], final_population: &[(Genome, f64)]) -> Vec<(Genome, f64)> {
    let mut rest: Vec<(Genome, f64)> = final_population
        .iter()
        .filter(|(g, _)| !entries.iter().any(|(e, _)| e == g))
        .cloned()
        .collect();
    rest.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rest.dedup_by(|a, b| a.0 == b.0);
    entries.iter().cloned().chain(rest).collect()
}

/// Validates the hall of fame `entries` and the `final_population` (with fitness) of a run
/// of `settings`: at most `--hall-of-fame` distinct behaviours are reported.
pub fn validate_run(
    settings: &EvolveSettings,
    problem: &TradingProblem,
    folds: &[Fold],
    data: &MarketData,
    entries: &[(Genome, f64)],
    final_population: &[(Genome, f64)],
    trials: &TrialLedger,
) -> Result<RunValidation, EvaluationError> {
    // Every distinct genome of the final population is backtested on all of the data once,
    // for the behaviour check of the hall of fame and for the PBO.
    let genomes: Vec<Genome> = final_population.iter().map(|(g, _)| g.clone()).collect();
    let runs = FullRuns::new(problem, &genomes, data)?;
    let hall = validated_hall_of_fame(
        problem,
        &candidates(entries, final_population),
        settings.ga.hall_of_fame,
        data,
        folds,
        trials,
        settings.validation.min_test_trades,
        &runs,
    )?;
    Ok(RunValidation {
        mode: settings.validation.mode,
        min_test_trades: settings.validation.min_test_trades,
        n_trials: trials.n_trials(),
        sr_variance: trials.sr_variance(),
        best: hall.best,
        same_behaviour: hall.same_behaviour,
        pbo: population_pbo(&runs, settings.validation.pbo_blocks),
    })
}

/// The `validation_json` of a stored hall-of-fame row: the entry's PSR/DSR and inputs (top
/// level, absent when undefined), its warnings, and the run's PBO with its logit summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredValidation {
    pub mode: ValidationMode,
    #[serde(flatten)]
    pub validation: Option<EntryValidation>,
    pub warnings: Vec<String>,
    pub pbo: Option<f64>,
    pub pbo_summary: Option<PboSummary>,
}

impl RunValidation {
    /// The stored form of entry `i`.
    pub fn stored(&self, i: usize) -> StoredValidation {
        StoredValidation {
            mode: self.mode,
            validation: self.best[i].validation,
            warnings: self.best[i].warnings.clone(),
            pbo: self.pbo.as_ref().ok().map(|p| p.pbo),
            pbo_summary: self.pbo.as_ref().ok().cloned(),
        }
    }
}
