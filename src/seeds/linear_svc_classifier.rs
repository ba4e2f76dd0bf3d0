//! Seed `linear_svc_classifier` (ml_classifier): walk-forward linear-SVM committee on engineered features.

use rayon::prelude::*;

use super::features::{finish, genes, int};
use super::ml_features::{cached_feature_rows, first_prediction, forward_returns, retrainings, Row};
use crate::market::MarketData;
use crate::ml::{LinearSvm, Matrix, Scaler, SvmParams};
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};

pub use super::ml_features::RETRAIN_EVERY;

/// Walk-forward linear SVM committee predicting the sign of the 5-bar forward return. Every 500
/// bars ([`RETRAIN_EVERY`]: at bar r, a multiple of 500) it trains on the `lookback_window`
/// rows t whose label is already known (t + 5 <= r), using the first `feature_count`
/// engineered features (returns, RSI, MACD, SMA/EMA ratios, volatility, volume ratio, lags,
/// ...; see
/// `ml_features::FEATURE_NAMES`) standardised on the training rows. `quantile_bins` b drops
/// the rows whose |forward return| lies in the lowest `(b - 2) / b` fraction of the window (b =
/// 2 keeps all; larger b trains on clearer moves only). The committee has `ensemble_size`
/// members; member m is a linear SVM ([`crate::ml::LinearSvm`]: scikit-learn's `LinearSVC`
/// objective, squared hinge with C = `regularization`, solved exactly by finite Newton)
/// trained with contiguous fold `m mod cross_validation` of `cross_validation` folds left out
/// (a cross-validation committee). The position is the mean of the members' ±1 votes.
///
/// Cost (`benches/seeds.rs`, signal plus backtest on the 5,000-bar hourly sample, on a shared
/// 2-core machine): 1.1 ms at default genes, 3.3 ms with every gene at its maximum; a random
/// genome on the 3,500 training bars of `evolve` averages about 0.8 ms (see
/// [`Strategy::relative_cost`]).
pub struct LinearSvcClassifier;

static GENES: [GeneSpec; 6] = [
    GeneSpec::int("lookback_window", 20.0, 200.0, 100.0),
    GeneSpec::int("feature_count", 3.0, 15.0, 8.0),
    GeneSpec::real("regularization", 0.5, 2.0, 1.0),
    GeneSpec::int("ensemble_size", 1.0, 5.0, 3.0),
    GeneSpec::int("cross_validation", 3.0, 10.0, 5.0),
    GeneSpec::int("quantile_bins", 2.0, 4.0, 3.0),
];

impl Strategy for LinearSvcClassifier {
    fn name(&self) -> &'static str {
        "linear_svc_classifier"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::MlClassifier
    }
    fn doc(&self) -> &'static str {
        "Committee of ensemble_size linear SVMs (C = regularization) on the first feature_count engineered features, \
         standardised, predicting the sign of the 5-bar forward return; retrained every 500 bars on the last \
         lookback_window rows whose label is already known, each member leaving out one of cross_validation \
         contiguous folds; quantile_bins b drops the (b - 2)/b smallest |forward returns|; position = mean vote."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// Features plus ensemble_size Newton fits per retraining, each step accumulating a
    /// (feature_count + 1)² Hessian over about window rows; fitted to timings of 244 random
    /// genomes on 3,500 hourly bars (correlation 0.87), in units of a 0.29 ms indicator seed.
    fn relative_cost(&self, genome: &[f64]) -> f64 {
        let g = genes(&GENES, genome);
        let (window, features, members) = (g[0], g[1], g[3]);
        1.26 + 3.2e-5 * members * window * (features + 1.0).powi(2)
    }

    /// The committee's prediction: the first bar predicted by the first walk-forward retraining (the number of bars when there is none).
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let window = int(genes(&GENES, genome)[0]);
        first_prediction(data, window)
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let p = Params {
            window: int(g[0]),
            features: int(g[1]),
            c: g[2],
            members: int(g[3]),
            folds: int(g[4]),
            bins: int(g[5]),
        };
        let fail = |message: String| StrategyError::Failed {
            strategy: self.name().to_string(),
            message,
        };
        let rows = cached_feature_rows(data).map_err(|e| fail(e.to_string()))?;
        let fwd = forward_returns(&data.bars.close);
        let rows: &[Row] = &rows;
        // The retrainings are independent: trained in parallel, their votes placed in order
        // (the same values as one by one), so one genome's evaluation is not the longest task
        // of a generation that the other workers wait for (issue 15).
        let steps: Vec<_> = retrainings(rows, &fwd, p.window).collect();
        let votes: Vec<Vec<f64>> = steps
            .par_iter()
            .map(|step| committee_votes(rows, &fwd, step.train.clone(), &step.targets, &p))
            .collect();
        let mut out = vec![0.0; rows.len()];
        for (step, votes) in steps.iter().zip(votes) {
            for (&i, v) in step.targets.iter().zip(votes) {
                out[i] = v;
            }
        }
        Ok(finish(out))
    }
}

/// Resolved genes.
struct Params {
    window: usize,
    features: usize,
    c: f64,
    members: usize,
    folds: usize,
    bins: usize,
}

/// Trains the committee on `range` and returns the mean vote for each row in `predict`.
fn committee_votes(
    rows: &[Row],
    fwd: &[f64],
    range: std::ops::Range<usize>,
    predict: &[usize],
    p: &Params,
) -> Vec<f64> {
    // Drop the smallest |forward returns| (quantile_bins).
    let mut mags: Vec<f64> = range.clone().map(|t| fwd[t].abs()).collect();
    mags.sort_by(f64::total_cmp);
    let cut_idx = (mags.len() * (p.bins - 2)) / p.bins;
    let cut = if cut_idx == 0 {
        f64::NEG_INFINITY
    } else {
        mags[cut_idx - 1]
    };
    let kept: Vec<usize> = range.filter(|&t| fwd[t].abs() > cut).collect();
    if kept.len() < 2 * p.folds {
        return vec![0.0; predict.len()];
    }
    let take = |t: &usize| &rows[*t][..p.features];
    let x_kept = Matrix::from_rows(p.features, kept.iter().map(take));
    let scaler = Scaler::fit(&x_kept);
    let x_all = scaler.transform(&x_kept);
    let x_pred = scaler.transform(&Matrix::from_rows(p.features, predict.iter().map(take)));
    let labels: Vec<f64> = kept.iter().map(|&t| if fwd[t] > 0.0 { 1.0 } else { -1.0 }).collect();

    let mut sum = vec![0.0; predict.len()];
    for m in 0..p.members {
        let fold = m % p.folds;
        let (lo, hi) = (fold * kept.len() / p.folds, (fold + 1) * kept.len() / p.folds);
        let idx: Vec<usize> = (0..kept.len()).filter(|&r| r < lo || r >= hi).collect();
        let x = Matrix::from_rows(p.features, idx.iter().map(|&r| x_all.row(r)));
        let y: Vec<f64> = idx.iter().map(|&r| labels[r]).collect();
        let params = SvmParams {
            c: p.c,
            ..SvmParams::default()
        };
        let model = LinearSvm::fit(&x, &y, &params);
        for (i, acc) in sum.iter_mut().enumerate() {
            *acc += if model.decision(x_pred.row(i)) > 0.0 { 1.0 } else { -1.0 };
        }
    }
    sum.into_iter().map(|s| s / p.members as f64).collect()
}
