//! The validated hall of fame: train and held-out statistics over the folds, PSR/DSR per entry, one entry per behaviour, and the PBO of the final population.

use std::ops::Range;

use rayon::prelude::*;

use super::hall::BestStrategy;
use super::problem::{EvaluationError, TradingProblem};
use crate::backtest::{run_backtest, BacktestContext, BacktestReport};
use crate::market::{Bars, FundingRates, MarketData};
use crate::strategy::Genome;
use crate::validation::guard::{period_returns, validate_entry, warnings};
use crate::validation::{keep_distinct, pbo, Fold, PboSummary, TrialLedger};

/// The hall of fame after validation, and how many entries were merged into a better one.
#[derive(Debug, Clone)]
pub struct ValidatedHall {
    pub best: Vec<BestStrategy>,
    /// Entries dropped because a better entry trades the same bars.
    pub same_behaviour: usize,
}

/// A genome's backtest on all of the data from bar 0, as both the behaviour check and the
/// PBO need it (warm-up 0: it moves only Buy & Hold and Alpha, never trades or equity).
#[derive(Debug, Clone, PartialEq)]
pub struct FullRun {
    /// The bars its trades entered at, ascending, each once.
    pub entry_bars: Vec<usize>,
    /// Its period returns over every bar.
    pub returns: Vec<f64>,
}

/// The [`FullRun`]s of the distinct genomes of a final population, each backtested once (in
/// parallel) for both the validated hall of fame and the PBO.
pub struct FullRuns<'a> {
    context: BacktestContext<'a>,
    full: &'a MarketData,
    /// The distinct genomes, sorted, each with its run (`None`: it cannot be backtested).
    runs: Vec<(Genome, Option<FullRun>)>,
}

impl<'a> FullRuns<'a> {
    /// Backtests every distinct genome of `population` on all of `full`.
    pub fn new(problem: &TradingProblem, population: &[Genome], full: &'a MarketData) -> Result<Self, EvaluationError> {
        let context = BacktestContext::new(full)?;
        let mut genomes: Vec<&Genome> = population.iter().collect();
        genomes.sort();
        genomes.dedup();
        let mut runs = FullRuns {
            context,
            full,
            runs: Vec::new(),
        };
        runs.runs = genomes
            .par_iter()
            .map(|g| ((*g).clone(), runs.run(problem, g).ok()))
            .collect();
        Ok(runs)
    }

    /// Backtests `genome` on all of the data.
    pub fn run(&self, problem: &TradingProblem, genome: &Genome) -> Result<FullRun, EvaluationError> {
        let targets = problem.signal(genome, self.full)?;
        let report = self.context.run(&targets, problem.backtest_config(), 0)?;
        let mut entry_bars: Vec<usize> = report.trades.iter().map(|t| t.entry_bar).collect();
        entry_bars.sort_unstable();
        entry_bars.dedup();
        Ok(FullRun {
            entry_bars,
            returns: period_returns(&report.equity, &self.full.bars.timestamp_ms),
        })
    }

    /// The entry bars of `genome`: stored when it is one of the population's, else backtested.
    fn entry_bars(&self, problem: &TradingProblem, genome: &Genome) -> Result<Vec<usize>, EvaluationError> {
        match self.runs.binary_search_by(|(g, _)| g.cmp(genome)) {
            Ok(i) => match &self.runs[i].1 {
                Some(run) => Ok(run.entry_bars.clone()),
                // It failed in the population: run it again for the error.
                None => self.run(problem, genome).map(|r| r.entry_bars),
            },
            Err(_) => self.run(problem, genome).map(|r| r.entry_bars),
        }
    }
}

/// Backtests `targets` (computed on all of `full`) on the bars of `ranges` joined, starting
/// flat. Between two windows the position is closed: the targets of the last two bars of
/// every window but the last are 0, so the fill at the last bar's open leaves it flat and
/// nothing is held across the gap. Returns the report and the joined data.
fn joined_backtest(
    full: &MarketData,
    targets: &[f64],
    ranges: &[Range<usize>],
    problem: &TradingProblem,
) -> Result<(BacktestReport, MarketData), EvaluationError> {
    let config = problem.backtest_config();
    if let [range] = ranges {
        let data = full.slice(range.clone());
        let report = run_backtest(&data, &targets[range.clone()], config)?;
        return Ok((report, data));
    }
    let total: usize = ranges.iter().map(|r| r.len()).sum();
    let mut bars = Bars::with_capacity(total);
    let mut joined_targets = Vec::with_capacity(total);
    let mut funding: Option<FundingRates> = None;
    for (k, range) in ranges.iter().enumerate() {
        let part = full.slice(range.clone());
        let b = &part.bars;
        for i in 0..b.len() {
            bars.push(
                b.timestamp_ms[i],
                b.open[i],
                b.high[i],
                b.low[i],
                b.close[i],
                b.volume[i],
            );
        }
        let mut t = targets[range.clone()].to_vec();
        if k + 1 < ranges.len() {
            let n = t.len();
            t[n.saturating_sub(2)..].iter_mut().for_each(|x| *x = 0.0);
        }
        joined_targets.extend(t);
        if let Some(f) = part.funding {
            let acc = funding.get_or_insert_with(FundingRates::default);
            acc.time_ms.extend(f.time_ms);
            acc.rate.extend(f.rate);
        }
    }
    let data = MarketData {
        source: full.source.clone(),
        bars,
        funding,
    };
    let report = run_backtest(&data, &joined_targets, config)?;
    Ok((report, data))
}

/// Reports the hall of fame (best first) validated over `folds` of `full`, `want` entries
/// at most, taken from `candidates` (best first: the run's hall of fame, then the rest of its
/// final population): an entry whose entry bars on all of `full` overlap by 95 % or more with
/// a better kept entry's is one behaviour with it and is left out, so the report lists
/// `want` behaviours when there are that many. Each entry has its training statistics on
/// the training windows joined, held-out statistics on the held-out windows joined (`None`
/// when nothing is held out), the PSR and DSR of the held-out period returns against the
/// run's `trials`, and warnings (fewer than `min_test_trades` held-out trades, DSR below 0.95
/// or undefined).
#[allow(clippy::too_many_arguments)]
pub fn validated_hall_of_fame(
    problem: &TradingProblem,
    candidates: &[(Genome, f64)],
    want: usize,
    full: &MarketData,
    folds: &[Fold],
    trials: &TrialLedger,
    min_test_trades: u64,
    runs: &FullRuns<'_>,
) -> Result<ValidatedHall, EvaluationError> {
    // Entry bars of the candidates, a batch at a time, until `want` behaviours are kept.
    let mut bars: Vec<Vec<usize>> = Vec::new();
    let mut kept: Vec<usize> = Vec::new();
    let batch = want.max(1);
    while kept.len() < want && bars.len() < candidates.len() {
        let next = &candidates[bars.len()..(bars.len() + batch).min(candidates.len())];
        let found: Vec<Vec<usize>> = next
            .par_iter()
            .map(|(genome, _)| runs.entry_bars(problem, genome))
            .collect::<Result<_, EvaluationError>>()?;
        // The candidates examined before keep their verdicts; only the new ones are checked.
        let examined = bars.len();
        bars.extend(found);
        keep_distinct(&mut kept, &bars, examined);
    }
    kept.truncate(want);
    let examined = kept.last().map_or(0, |&k| k + 1);
    let same_behaviour = examined - kept.len();
    let train_ranges: Vec<Range<usize>> = folds.iter().map(|f| f.train.clone()).collect();
    let test_ranges: Vec<Range<usize>> = folds.iter().map(|f| f.test.clone()).filter(|r| !r.is_empty()).collect();
    let best = kept
        .par_iter()
        .map(|&i| {
            let (genome, fitness) = &candidates[i];
            let targets = problem.signal(genome, full)?;
            let (train, _) = joined_backtest(full, &targets, &train_ranges, problem)?;
            let test = if test_ranges.is_empty() {
                None
            } else {
                Some(joined_backtest(full, &targets, &test_ranges, problem)?)
            };
            let validation = test
                .as_ref()
                .map(|(report, data)| validate_entry(&period_returns(&report.equity, &data.bars.timestamp_ms), trials));
            let test_stats = test.map(|(report, _)| report.stats);
            let test_trades = test_stats.as_ref().map(|s| s.num_trades);
            let warned = match &validation {
                Some(Ok(v)) => warnings(test_trades, Ok(v), min_test_trades),
                Some(Err(why)) => warnings(test_trades, Err(why), min_test_trades),
                None => warnings(None, Err("nothing held out"), min_test_trades),
            };
            Ok(BestStrategy {
                seed: genome.seed.clone(),
                params: problem.named_genes(genome),
                fitness: *fitness,
                train: train.stats,
                test: test_stats,
                validation: validation.and_then(Result::ok),
                warnings: warned,
            })
        })
        .collect::<Result<_, EvaluationError>>()?;
    Ok(ValidatedHall { best, same_behaviour })
}

/// The PBO (CSCV over `blocks` blocks) of the distinct genomes of a final population (`runs`)
/// on all of the data: each genome's period returns over every bar. Genomes that cannot be
/// backtested are left out; the error says why no PBO could be computed.
pub fn population_pbo(runs: &FullRuns<'_>, blocks: usize) -> Result<PboSummary, String> {
    let returns: Vec<&[f64]> = runs
        .runs
        .iter()
        .filter_map(|(_, run)| run.as_ref().map(|r| r.returns.as_slice()))
        .collect();
    pbo(&returns, blocks).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::BacktestConfig;
    use crate::evolution::{select_families, Constraints, Objective};
    use crate::market::sample::load_sample;
    use std::sync::Arc;

    fn problem(data: &MarketData, windows: Vec<Range<usize>>) -> TradingProblem {
        let families = select_families(&["ema_crossover".to_string()], data).unwrap().families;
        let constraints = Constraints {
            min_trades: 0,
            max_drawdown_pct: None,
        };
        let backtest = BacktestConfig::default();
        TradingProblem::with_windows(
            families,
            Arc::new(data.clone()),
            windows,
            Objective::Sharpe,
            constraints,
            backtest,
        )
        .unwrap()
    }

    #[test]
    fn joined_windows_are_flat_across_the_gap() {
        let data = load_sample("goog-1d").unwrap().slice(0..900);
        #[allow(clippy::single_range_in_vec_init)] // one window: all bars
        let p = problem(&data, vec![0..900]);
        let targets = vec![1.0; 900];
        let (report, joined) = joined_backtest(&data, &targets, &[100..300, 600..800], &p).unwrap();
        assert_eq!(joined.bars.len(), 400);
        assert_eq!(joined.bars.timestamp_ms[200], data.bars.timestamp_ms[600]);
        // Flat from the open of the first window's last bar to the second window's first close.
        assert_eq!(report.equity[199], report.equity[200]);
        // The first window's long closes at the open of its last bar (the second one stays
        // open: trades are not finalised) and the second window trades again.
        assert_eq!(report.trades.len(), 1);
        assert_eq!((report.trades[0].entry_bar, report.trades[0].exit_bar), (1, 199));
        assert_ne!(report.equity[202], report.equity[200]);
    }

    #[test]
    fn walk_forward_fitness_is_the_mean_over_the_training_windows() {
        let data = load_sample("goog-1d").unwrap().slice(0..900);
        let windows = vec![0..300, 400..700];
        let p = problem(&data, windows.clone());
        let genome = evoflow_dataflows::Problem::initial_genome(&p, 0, &mut evoflow_dataflows::Rng::for_slot(3, 0, 0));
        let (fitness, key) = p.try_evaluate(&genome).unwrap();
        let targets = p.signal(&genome, &data).unwrap();
        let each: Vec<crate::backtest::Stats> = windows
            .iter()
            .map(|w| {
                crate::backtest::run_backtest_stats(&data.slice(w.clone()), &targets[w.clone()], &Default::default())
                    .unwrap()
            })
            .collect();
        let want = each.iter().map(|s| s.sharpe_ratio.unwrap_or(0.0)).sum::<f64>() / 2.0;
        assert!((fitness - want).abs() < 1e-12, "{fitness} vs {want}");
        assert_eq!(key.num_trades, each[0].num_trades + each[1].num_trades);
    }
}
