//! `TradingProblem`: the `evoflow_dataflows::Problem` whose genomes are seed families with their genes.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use evoflow_dataflows::{same_metrics, stable_hash, Fitness, Problem, Rng};

use super::objective::{fitness, Constraints, Objective};
use crate::backtest::{BacktestConfig, BacktestContext, BacktestError, Stats};
use crate::market::MarketData;
use crate::strategy::{Genome, Strategy, StrategyError};

/// Standard deviation of a Gaussian mutation step, as a fraction of the gene's range.
pub const MUTATION_SCALE: f64 = 0.15;
/// Probability that a mutation replaces the genome by a fresh random genome of another family.
pub const FAMILY_SWITCH_RATE: f64 = 0.05;

/// Why a genome could not be scored.
#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    #[error("unknown seed family `{0}` in genome")]
    UnknownFamily(String),
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    #[error(transparent)]
    Backtest(#[from] BacktestError),
}

/// Evolves strategies of the given families on the training data.
///
/// * Genomes: a family name and its genes, always rounded (integer genes) and within bounds.
/// * Initial population: slot `i` gets family `i mod families` with uniformly random genes,
///   so every family starts with an even share.
/// * Mutation: with probability [`FAMILY_SWITCH_RATE`] a fresh random genome of another
///   family; otherwise each gene moves with probability max(1/genes, 0.3) by a Gaussian step
///   of [`MUTATION_SCALE`] × its range (at least one gene moves), then is rounded and clamped.
/// * Crossover: uniform mix of the parents' genes when they share a family, else a copy of
///   the first parent (families never blend).
/// * Fitness: the objective on the training backtest, penalised when the constraints fail
///   (see [`fitness`]); a genome that cannot be evaluated gets [`Fitness::PENALTY`]. With
///   walk-forward windows ([`TradingProblem::with_windows`]) the mean over the windows, and
///   the key statistics: mean Sharpe and return, deepest drawdown, trades summed.
/// * Niche: the family's index, so the dataflow keeps every family alive.
pub struct TradingProblem {
    families: Vec<&'static dyn Strategy>,
    train: Arc<MarketData>,
    /// Backtest context of the training data, built once (calendar, funding per bar).
    train_context: BacktestContext<'static>,
    /// Walk-forward: the training windows (bar ranges of `train`) with their contexts; empty
    /// for holdout, whose one window is all of `train`.
    windows: Vec<(Range<usize>, BacktestContext<'static>)>,
    /// Periods per year of the training bars' calendar (252, 365, 52, ...): divides an
    /// annualised Sharpe into a per-period one.
    annual_periods: f64,
    objective: Objective,
    constraints: Constraints,
    backtest: BacktestConfig,
    /// [`Problem::fingerprint`]: the build, the families, the training data and the settings.
    fingerprint: u64,
    /// Owner of the memoised indicator columns of the training data ([`crate::seeds::columns`]).
    columns_owner: u64,
}

/// The statistics stored with every evaluated individual (training part). They travel with
/// the fitness through the dataflow as its metrics ([`KeyStats::to_metrics`]), so the
/// coordinator has them for individuals evaluated by any worker or process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyStats {
    pub sharpe: f64,
    pub return_pct: f64,
    pub max_drawdown_pct: f64,
    pub num_trades: u64,
}

impl KeyStats {
    fn of(stats: &Stats) -> KeyStats {
        KeyStats {
            sharpe: stats.sharpe_ratio.unwrap_or(f64::NAN),
            return_pct: stats.return_pct,
            max_drawdown_pct: stats.max_drawdown_pct,
            num_trades: stats.num_trades,
        }
    }

    /// The metrics vector carried with the fitness: sharpe, return %, max drawdown %, trades.
    pub fn to_metrics(self) -> Vec<f64> {
        vec![
            self.sharpe,
            self.return_pct,
            self.max_drawdown_pct,
            self.num_trades as f64,
        ]
    }

    /// The statistics from [`KeyStats::to_metrics`]'s vector ([`KeyStats::UNDEFINED`] for
    /// any other length, e.g. a genome that could not be evaluated).
    pub fn from_metrics(metrics: &[f64]) -> KeyStats {
        match *metrics {
            [sharpe, return_pct, max_drawdown_pct, trades] => KeyStats {
                sharpe,
                return_pct,
                max_drawdown_pct,
                num_trades: trades as u64,
            },
            _ => KeyStats::UNDEFINED,
        }
    }

    /// What is stored for a genome that could not be evaluated.
    pub const UNDEFINED: KeyStats = KeyStats {
        sharpe: f64::NAN,
        return_pct: f64::NAN,
        max_drawdown_pct: f64::NAN,
        num_trades: 0,
    };
}

impl TradingProblem {
    /// A problem over `families` (at least one) scored on `train`; errors when the training
    /// data cannot be backtested.
    pub fn new(
        families: Vec<&'static dyn Strategy>,
        train: Arc<MarketData>,
        objective: Objective,
        constraints: Constraints,
        backtest: BacktestConfig,
    ) -> Result<Self, EvaluationError> {
        let len = train.bars.len();
        #[allow(clippy::single_range_in_vec_init)] // one window: all of `train`
        let windows = vec![0..len];
        Self::with_windows(families, train, windows, objective, constraints, backtest)
    }

    /// A problem scored on the training `windows` (bar ranges of `data`, in order): the
    /// signal is computed once on `data` (causal), each window is backtested on its own bars
    /// starting flat, and the fitness is the mean of the windows' objective values, when the
    /// constraints hold on the windows together (trades summed, the deepest drawdown), else
    /// the penalty. One window over all of `data` is [`TradingProblem::new`].
    pub fn with_windows(
        families: Vec<&'static dyn Strategy>,
        data: Arc<MarketData>,
        windows: Vec<Range<usize>>,
        objective: Objective,
        constraints: Constraints,
        backtest: BacktestConfig,
    ) -> Result<Self, EvaluationError> {
        let train_context = BacktestContext::shared(Arc::clone(&data))?;
        let names: Vec<&str> = families.iter().map(|f| f.name()).collect();
        let whole = windows.len() == 1 && windows[0] == (0..data.bars.len());
        let fingerprint = stable_hash(&(
            crate::BUILD,
            names,
            crate::storage::market_fingerprint(&data),
            objective,
            constraints,
            backtest,
            windows.iter().map(|w| (w.start, w.end)).collect::<Vec<_>>(),
        ));
        let windows = if whole {
            Vec::new()
        } else {
            windows
                .into_iter()
                .map(|w| Ok((w.clone(), BacktestContext::shared(Arc::new(data.slice(w)))?)))
                .collect::<Result<_, EvaluationError>>()?
        };
        let annual_periods = crate::backtest::Calendar::new(&data.bars.timestamp_ms).annual_trading_days;
        Ok(TradingProblem {
            fingerprint,
            columns_owner: crate::seeds::columns::new_owner(),
            families,
            train: data,
            train_context,
            windows,
            annual_periods,
            objective,
            constraints,
            backtest,
        })
    }

    /// An annualised Sharpe ratio of these bars per period (÷ √ periods per year).
    pub fn per_period_sharpe(&self, annualised: f64) -> f64 {
        annualised / self.annual_periods.sqrt()
    }

    /// The backtest costs every strategy is scored with.
    pub fn backtest_config(&self) -> &BacktestConfig {
        &self.backtest
    }

    /// The target positions of `genome` on `data` (one per bar).
    pub fn signal(&self, genome: &Genome, data: &MarketData) -> Result<Vec<f64>, EvaluationError> {
        let (_, family) = self.family(&genome.seed)?;
        Ok(family.signal(data, &genome.genes)?)
    }

    /// Fitness and key statistics over the walk-forward training windows.
    fn evaluate_windows(&self, genome: &Genome) -> Result<(f64, KeyStats), EvaluationError> {
        let (_, family) = self.family(&genome.seed)?;
        let targets = family.signal(&self.train, &genome.genes)?;
        let warmup = family.warmup(&self.train, &genome.genes);
        let free = Constraints {
            min_trades: 0,
            max_drawdown_pct: None,
        };
        let mut all = Vec::with_capacity(self.windows.len());
        for (range, context) in &self.windows {
            let t = &targets[range.clone()];
            // The window's own warm-up: the part of the strategy's that reaches into it.
            let warm = warmup.saturating_sub(range.start);
            let (stats, value) = if self.objective == Objective::Composite {
                let report = context.run(t, &self.backtest, warm)?;
                let v = fitness(self.objective, &free, &report.stats, Some(&report.equity));
                (report.stats, v)
            } else {
                let stats = context.run_stats(t, &self.backtest, warm)?;
                let v = fitness(self.objective, &free, &stats, None);
                (stats, v)
            };
            all.push((stats, value));
        }
        let k = all.len() as f64;
        let mut joint = all[0].0.clone();
        joint.num_trades = all.iter().map(|(s, _)| s.num_trades).sum();
        joint.max_drawdown_pct = all.iter().map(|(s, _)| s.max_drawdown_pct).fold(0.0, f64::min);
        let short = super::objective::shortfall(&self.constraints, &joint);
        let value = if short > 0.0 {
            super::objective::PENALTY_BASE - short.min(1e6)
        } else {
            all.iter().map(|(_, v)| v).sum::<f64>() / k
        };
        let sharpes: Vec<f64> = all.iter().filter_map(|(s, _)| s.sharpe_ratio).collect();
        let key = KeyStats {
            sharpe: if sharpes.is_empty() {
                f64::NAN
            } else {
                sharpes.iter().sum::<f64>() / sharpes.len() as f64
            },
            return_pct: all.iter().map(|(s, _)| s.return_pct).sum::<f64>() / k,
            max_drawdown_pct: joint.max_drawdown_pct,
            num_trades: joint.num_trades,
        };
        Ok((value, key))
    }

    /// The families evolved, in niche order.
    pub fn families(&self) -> &[&'static dyn Strategy] {
        &self.families
    }

    fn family(&self, name: &str) -> Result<(usize, &'static dyn Strategy), EvaluationError> {
        self.families
            .iter()
            .enumerate()
            .find(|(_, s)| s.name() == name)
            .map(|(i, s)| (i, *s))
            .ok_or_else(|| EvaluationError::UnknownFamily(name.to_string()))
    }

    fn random_of(&self, family: &'static dyn Strategy, rng: &mut Rng) -> Genome {
        let genes = family
            .genes()
            .iter()
            .map(|g| g.normalise(rng.range_f64(g.min, g.max)))
            .collect();
        Genome::new(family.name(), genes)
    }

    /// Statistics of `genome` on the training data (the equity curve too, when `with_equity`),
    /// with the context built once in [`TradingProblem::new`]; without `with_equity`, beta and
    /// alpha are not computed (`None`).
    fn train_backtest(&self, genome: &Genome, with_equity: bool) -> Result<(Stats, Option<Vec<f64>>), EvaluationError> {
        let (_, family) = self.family(&genome.seed)?;
        let train: &MarketData = &self.train;
        // The training bars never change: their indicator columns are kept per worker thread.
        let targets =
            crate::seeds::columns::with_columns(self.columns_owner, train, || family.signal(train, &genome.genes))?;
        let warmup = family.warmup(train, &genome.genes);
        if with_equity {
            let report = self.train_context.run(&targets, &self.backtest, warmup)?;
            Ok((report.stats, Some(report.equity)))
        } else {
            // The fitness and the key statistics never read beta, alpha or the average trade.
            Ok((
                self.train_context.run_fitness_stats(&targets, &self.backtest, warmup)?,
                None,
            ))
        }
    }

    /// Training and held-out statistics of `genome`: the signal is computed on `full` (causal,
    /// so its first `split` values are the training signal), then each part is backtested on
    /// its own bars, starting flat with the configured cash. The training part has the
    /// family's warm-up; the held-out part whatever of it reaches past `split`.
    pub fn split_stats(
        &self,
        genome: &Genome,
        full: &MarketData,
        split: usize,
    ) -> Result<(Stats, Option<Stats>), EvaluationError> {
        let (_, family) = self.family(&genome.seed)?;
        let targets = family.signal(full, &genome.genes)?;
        let warmup = family.warmup(full, &genome.genes);
        let train_data = full.slice(0..split);
        let train = BacktestContext::new(&train_data)?.run_stats(&targets[..split], &self.backtest, warmup)?;
        let test = if split < full.bars.len() {
            let data = full.slice(split..full.bars.len());
            Some(BacktestContext::new(&data)?.run_stats(
                &targets[split..],
                &self.backtest,
                warmup.saturating_sub(split),
            )?)
        } else {
            None
        };
        Ok((train, test))
    }

    /// The fitness of `genome` with its key training statistics, or why it could not be
    /// evaluated.
    pub fn try_evaluate(&self, genome: &Genome) -> Result<(f64, KeyStats), EvaluationError> {
        if !self.windows.is_empty() {
            return self.evaluate_windows(genome);
        }
        let (stats, equity) = self.train_backtest(genome, self.objective == Objective::Composite)?;
        let value = fitness(self.objective, &self.constraints, &stats, equity.as_deref());
        Ok((value, KeyStats::of(&stats)))
    }

    /// The genome of family `seed` with genes given by name (as [`TradingProblem::named_genes`]
    /// writes them); `None` for an unknown family or a missing gene.
    pub fn genome_from_named(&self, seed: &str, genes: &BTreeMap<String, f64>) -> Option<Genome> {
        let (_, family) = self.family(seed).ok()?;
        let values = family
            .genes()
            .iter()
            .map(|g| genes.get(g.name).copied())
            .collect::<Option<Vec<f64>>>()?;
        Some(Genome::new(family.name(), values))
    }

    /// The genes of `genome` by name (in the family's gene order; unknown family: empty).
    pub fn named_genes(&self, genome: &Genome) -> BTreeMap<String, f64> {
        match self.family(&genome.seed) {
            Ok((_, family)) => family
                .genes()
                .iter()
                .zip(&genome.genes)
                .map(|(g, v)| (g.name.to_string(), *v))
                .collect(),
            Err(_) => BTreeMap::new(),
        }
    }
}

/// With `EVOFLOW_COLUMN_STATS` set, a problem reports the memoised indicator columns' hits
/// and misses (all threads, whole process) on stderr when it is dropped.
impl Drop for TradingProblem {
    fn drop(&mut self) {
        if std::env::var_os("EVOFLOW_COLUMN_STATS").is_some() {
            let s = crate::seeds::columns::stats();
            eprintln!(
                "indicator columns: {} hits, {} misses (hit rate {:.1} %), {} memo resets",
                s.hits,
                s.misses,
                100.0 * s.hit_rate(),
                s.resets
            );
        }
    }
}

impl Problem for TradingProblem {
    type Genome = Genome;

    fn random_genome(&self, rng: &mut Rng) -> Genome {
        let family = self.families[rng.index(self.families.len())];
        self.random_of(family, rng)
    }

    fn initial_genome(&self, slot: usize, rng: &mut Rng) -> Genome {
        let family = self.families[slot % self.families.len()];
        self.random_of(family, rng)
    }

    fn mutate(&self, genome: &Genome, rng: &mut Rng) -> Genome {
        let Ok((index, family)) = self.family(&genome.seed) else {
            return self.random_genome(rng);
        };
        if self.families.len() > 1 && rng.chance(FAMILY_SWITCH_RATE) {
            let other = (index + 1 + rng.index(self.families.len() - 1)) % self.families.len();
            return self.random_of(self.families[other], rng);
        }
        let specs = family.genes();
        let mut genes = genome.genes.clone();
        genes.resize(specs.len(), f64::NAN);
        let rate = (1.0 / specs.len().max(1) as f64).max(0.3);
        let forced = rng.index(specs.len().max(1));
        for (k, spec) in specs.iter().enumerate() {
            if k == forced || rng.chance(rate) {
                let step = rng.normal(0.0, MUTATION_SCALE * (spec.max - spec.min));
                genes[k] = spec.normalise(genes[k] + step);
            } else {
                genes[k] = spec.normalise(genes[k]);
            }
        }
        Genome::new(family.name(), genes)
    }

    fn crossover(&self, a: &Genome, b: &Genome, rng: &mut Rng) -> Genome {
        if a.seed != b.seed || a.genes.len() != b.genes.len() {
            return a.clone();
        }
        let genes = a
            .genes
            .iter()
            .zip(&b.genes)
            .map(|(x, y)| if rng.chance(0.5) { *x } else { *y })
            .collect();
        Genome::new(a.seed.clone(), genes)
    }

    fn evaluate(&self, genome: &Genome) -> Fitness {
        self.evaluate_with_metrics(genome).0
    }

    /// The fitness, and [`KeyStats::to_metrics`] of the training backtest (empty when the
    /// genome could not be evaluated: it gets [`Fitness::PENALTY`]).
    fn evaluate_with_metrics(&self, genome: &Genome) -> (Fitness, Vec<f64>) {
        match self.try_evaluate(genome) {
            Ok((f, key)) => (Fitness::new(f), key.to_metrics()),
            Err(_) => (Fitness::PENALTY, Vec::new()),
        }
    }

    /// Two strategies of one family with equal fitness behave alike when their training
    /// statistics ([`KeyStats`]: Sharpe, return, drawdown, trades) are equal to the last bit:
    /// parameters that differ only where they change no trade. The hall of fame keeps one.
    fn same_behaviour(&self, a: &Genome, a_metrics: &[f64], b: &Genome, b_metrics: &[f64]) -> bool {
        a.seed == b.seed && !a_metrics.is_empty() && same_metrics(a_metrics, b_metrics)
    }

    /// The build ([`crate::BUILD`]), the families (in niche order), the training bars and
    /// funding, the objective, the constraints and the backtest costs: processes that differ in
    /// any of them could score a genome differently.
    fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    fn niche(&self, genome: &Genome) -> u32 {
        self.family(&genome.seed).map(|(i, _)| i as u32).unwrap_or(u32::MAX)
    }

    fn genome_hash(&self, genome: &Genome) -> u64 {
        genome.stable_hash()
    }

    /// The family's estimate ([`Strategy::relative_cost`]): ML genomes cost up to 90 times an
    /// indicator genome, so the workers are balanced by it.
    fn cost(&self, genome: &Genome) -> f64 {
        self.family(&genome.seed)
            .map(|(_, family)| family.relative_cost(&genome.genes))
            .unwrap_or(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evolution::select_families;
    use crate::market::sample::load_sample;

    /// The fingerprint of a problem over `seeds` on the first `bars` daily bars.
    fn fingerprint(
        bars: usize,
        seeds: &[&str],
        objective: Objective,
        constraints: Constraints,
        commission: f64,
    ) -> u64 {
        let data = load_sample("goog-1d").unwrap().slice(0..bars);
        let names: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
        let families = select_families(&names, &data).unwrap().families;
        let backtest = BacktestConfig {
            commission,
            ..BacktestConfig::default()
        };
        TradingProblem::new(families, Arc::new(data), objective, constraints, backtest)
            .unwrap()
            .fingerprint()
    }

    #[test]
    fn the_fingerprint_covers_data_families_and_settings() {
        let seeds = ["ema_crossover", "rsi_filter"];
        let (sharpe, limits) = (Objective::Sharpe, Constraints::default());
        let base = fingerprint(300, &seeds, sharpe, limits, 0.001);
        assert_eq!(base, fingerprint(300, &seeds, sharpe, limits, 0.001), "stable");
        let others = [
            fingerprint(301, &seeds, sharpe, limits, 0.001),
            fingerprint(300, &["rsi_filter", "ema_crossover"], sharpe, limits, 0.001),
            fingerprint(300, &seeds, Objective::Sortino, limits, 0.001),
            fingerprint(
                300,
                &seeds,
                sharpe,
                Constraints {
                    min_trades: 3,
                    ..limits
                },
                0.001,
            ),
            fingerprint(300, &seeds, sharpe, limits, 0.002),
        ];
        for (i, other) in others.iter().enumerate() {
            assert_ne!(*other, base, "change {i} must change the fingerprint");
        }
    }
}
