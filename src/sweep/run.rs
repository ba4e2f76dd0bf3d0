//! Evaluating a grid in parallel (rayon) and ranking the points.

use std::cmp::Ordering;

use rayon::prelude::*;

use super::{grid_point, grid_size, Constraint, GridAxis, SweepError};
use crate::backtest::{BacktestConfig, BacktestContext, Stats, TargetChange, NUMERIC_FIELDS};
use crate::indicators::sma;
use crate::market::MarketData;
use crate::strategy::sma_crossover::{crossover_changes, SmaCrossover};
use crate::strategy::{Strategy, StrategyError};

/// The statistic ranked by default: the Sharpe ratio (backtesting.py's annualised return over
/// annualised volatility), which rewards return per unit of risk rather than raw return.
pub const DEFAULT_MAXIMIZE: &str = "sharpe_ratio";

/// The most points a sweep accepts.
pub const MAX_POINTS: u128 = 20_000_000;

/// What to sweep.
#[derive(Debug, Clone)]
pub struct SweepSpec {
    pub axes: Vec<GridAxis>,
    pub constraints: Vec<Constraint>,
    /// A key of [`NUMERIC_FIELDS`].
    pub maximize: String,
    /// How many of the best points to return with their statistics.
    pub top: usize,
    pub config: BacktestConfig,
}

/// A grid point and its statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPoint {
    /// Grid key and value, in grid order.
    pub params: Vec<(String, f64)>,
    pub stats: Stats,
}

/// The outcome of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepResult {
    /// Points backtested.
    pub evaluated: usize,
    /// Points the strategy rejected as invalid parameters.
    pub skipped: usize,
    /// The best `top` points, best first.
    pub best: Vec<SweepPoint>,
    /// Every evaluated point: (grid index, ranked field value), in grid order; the point's
    /// values are `grid_point(&spec.axes, index, ..)`.
    pub values: Vec<(usize, Option<f64>)>,
}

/// How the genome is built from a grid point and how a point is evaluated.
struct Evaluator<'a> {
    ctx: BacktestContext<'a>,
    strategy: &'a dyn Strategy,
    /// Gene index of each grid axis.
    gene_of_axis: Vec<usize>,
    defaults: Vec<f64>,
    /// sma_crossover: SMA series by period (empty when unused); None for other strategies.
    smas: Option<Vec<Vec<f64>>>,
    config: BacktestConfig,
}

impl Evaluator<'_> {
    fn genome(&self, point: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend_from_slice(&self.defaults);
        for (&g, &v) in self.gene_of_axis.iter().zip(point) {
            out[g] = v;
        }
    }

    /// The statistics of one genome; `Ok(None)` when the strategy rejects the parameters.
    fn eval(&self, genome: &[f64], changes: &mut Vec<TargetChange>) -> Result<Option<Stats>, SweepError> {
        if let Some(smas) = &self.smas {
            let (fast, slow) = match SmaCrossover::periods(genome) {
                Ok(p) => p,
                Err(_) => return Ok(None),
            };
            crossover_changes(&smas[fast], &smas[slow], changes);
            let warmup = self.strategy.warmup(self.ctx.data(), genome);
            return Ok(Some(self.ctx.run_stats_changes(
                changes.iter().copied(),
                &self.config,
                warmup,
            )?));
        }
        match self.strategy.signal(self.ctx.data(), genome) {
            Ok(targets) => {
                let warmup = self.strategy.warmup(self.ctx.data(), genome);
                Ok(Some(self.ctx.run_stats(&targets, &self.config, warmup)?))
            }
            Err(StrategyError::InvalidParams { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Backtests every grid point satisfying the constraints, on all cores, and ranks them.
pub fn run_sweep(data: &MarketData, strategy: &dyn Strategy, spec: &SweepSpec) -> Result<SweepResult, SweepError> {
    if !NUMERIC_FIELDS.contains(&spec.maximize.as_str()) {
        return Err(SweepError::UnknownField {
            field: spec.maximize.clone(),
            known: NUMERIC_FIELDS.join(", "),
        });
    }
    let genes = strategy.genes();
    let mut gene_of_axis = Vec::with_capacity(spec.axes.len());
    for axis in &spec.axes {
        let bad = |message: String| SweepError::BadGrid {
            spec: axis.key.clone(),
            message,
        };
        let g = genes.iter().position(|g| g.name == axis.key).ok_or_else(|| {
            let known: Vec<&str> = genes.iter().map(|g| g.name).collect();
            bad(format!(
                "strategy `{}` has no parameter `{}`; its parameters: {}",
                strategy.name(),
                axis.key,
                known.join(", ")
            ))
        })?;
        if gene_of_axis.contains(&g) {
            return Err(bad("the same parameter appears in two --grid flags".into()));
        }
        let gene = &genes[g];
        for &v in &axis.values {
            if v < gene.min || v > gene.max {
                return Err(bad(format!(
                    "{v} is outside the range of `{}`: [{}, {}]",
                    gene.name, gene.min, gene.max
                )));
            }
            if gene.integer && v.fract() != 0.0 {
                return Err(bad(format!("`{}` is an integer parameter, got {v}", gene.name)));
            }
        }
        gene_of_axis.push(g);
    }
    let size = grid_size(&spec.axes);
    if size > MAX_POINTS {
        return Err(SweepError::TooLarge {
            points: size,
            limit: MAX_POINTS,
        });
    }
    let size = size as usize;
    let ctx = BacktestContext::new(data)?;
    let defaults = strategy.default_genome();

    // sma_crossover: compute each needed SMA period once (in parallel), shared by all points.
    let smas = if strategy.name() == "sma_crossover" {
        let mut needed = vec![false; 1];
        for (slot, default) in defaults.iter().enumerate() {
            let values: Vec<f64> = match gene_of_axis.iter().position(|&g| g == slot) {
                Some(a) => spec.axes[a].values.clone(),
                None => vec![*default],
            };
            for v in values {
                let p = v.round() as usize;
                if needed.len() <= p {
                    needed.resize(p + 1, false);
                }
                needed[p] = true;
            }
        }
        let close = &data.bars.close;
        let series: Vec<Vec<f64>> = needed
            .par_iter()
            .enumerate()
            .map(|(p, &need)| {
                if need && p >= 1 {
                    sma(close, p).unwrap_or_default()
                } else {
                    Vec::new()
                }
            })
            .collect();
        Some(series)
    } else {
        None
    };

    let eval = Evaluator {
        ctx,
        strategy,
        gene_of_axis,
        defaults,
        smas,
        config: spec.config,
    };
    let field = spec.maximize.as_str();
    // Per evaluated point: (grid index, Some(value)), or (index, None) when the strategy
    // rejected the parameters. Points failing a constraint are dropped.
    type Outcome = (usize, Option<Option<f64>>);
    let outcomes: Vec<Outcome> = (0..size)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new(), Vec::new()),
            |(point, genome, changes), idx| -> Option<Result<Outcome, SweepError>> {
                grid_point(&spec.axes, idx, point);
                if !spec.constraints.iter().all(|c| c.holds(point)) {
                    return None;
                }
                eval.genome(point, genome);
                Some(
                    eval.eval(genome, changes)
                        .map(|stats| (idx, stats.map(|s| s.get(field)))),
                )
            },
        )
        .flatten()
        .collect::<Result<_, _>>()?;

    let skipped = outcomes.iter().filter(|(_, v)| v.is_none()).count();
    let scored: Vec<(usize, Option<f64>)> = outcomes
        .into_iter()
        .filter_map(|(idx, v)| v.map(|v| (idx, v)))
        .collect();
    let mut ranked = scored.clone();
    ranked.sort_by(|a, b| rank(a.1, b.1).then(a.0.cmp(&b.0)));

    // Re-run the best points to return their full statistics (deterministic: same values).
    let mut best = Vec::new();
    let (mut point, mut genome, mut changes) = (Vec::new(), Vec::new(), Vec::new());
    for &(idx, _) in ranked.iter().take(spec.top) {
        grid_point(&spec.axes, idx, &mut point);
        eval.genome(&point, &mut genome);
        if let Some(stats) = eval.eval(&genome, &mut changes)? {
            let params = spec.axes.iter().zip(&point).map(|(a, &v)| (a.key.clone(), v)).collect();
            best.push(SweepPoint { params, stats });
        }
    }
    Ok(SweepResult {
        evaluated: scored.len(),
        skipped,
        best,
        values: scored,
    })
}

/// Orders ranked values: larger first, undefined last.
fn rank(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_values_rank_last() {
        let mut v = vec![None, Some(1.0), Some(3.0), None, Some(-2.0)];
        v.sort_by(|a, b| rank(*a, *b));
        assert_eq!(v, vec![Some(3.0), Some(1.0), Some(-2.0), None, None]);
    }
}
