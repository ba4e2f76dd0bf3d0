//! Seed `linear_svc_classifier` (ml_classifier): walk-forward linear-SVM committee on engineered features.

use smartcore::api::{Transformer, UnsupervisedEstimator};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::preprocessing::numerical::{StandardScaler, StandardScalerParameters};
use smartcore::svm::svc::{SVCParameters, SVC};
use smartcore::svm::Kernels;

use super::features::{finish, genes, int};
use super::ml_features::{feature_rows, forward_returns, training_range, usable, Row, HORIZON};
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Genome, Strategy, StrategyError, StrategyType};

/// The committee is retrained every this many bars (at bars that are multiples of it), and
/// predicts the bars up to the next retraining with the model trained at the last one.
pub const RETRAIN_EVERY: usize = 250;

/// Walk-forward linear SVM committee predicting the sign of the 5-bar forward return. Every 250
/// bars (at bar r, a multiple of 250; chosen for speed: a fit costs ~10 ms) it trains on the `lookback_window` rows t whose label is
/// already known (t + 5 <= r), using the first `feature_count` engineered features (returns,
/// RSI, MACD, SMA/EMA ratios, volatility, volume ratio, lags, ...; see
/// `ml_features::FEATURE_NAMES`) standardised on the training rows. `quantile_bins` b drops
/// the rows whose |forward return| lies in the lowest `(b - 2) / b` fraction of the window (b =
/// 2 keeps all; larger b trains on clearer moves only). The committee has `ensemble_size`
/// members; member m is a linear SVC (smartcore's LaSVM solver, one online pass plus its
/// finishing step, C = `regularization`, seeded from the genome's bits) trained with contiguous fold `m mod cross_validation` of `cross_validation` folds left
/// out (a cross-validation committee). The position is the mean of the members' ±1 votes.
///
/// Cost (measured with `benches/seeds.rs` on the 5,000-bar hourly sample, signal plus backtest,
/// on a shared 2-core machine): ~0.23 s at default genes, ~1.0 s with every gene at its maximum;
/// the SVM fits dominate (20 retrainings × `ensemble_size` members).
pub struct LinearSvcClassifier;

static GENES: [GeneSpec; 6] = [
    GeneSpec::int("lookback_window", 20.0, 200.0, 100.0),
    GeneSpec::int("feature_count", 3.0, 15.0, 8.0),
    GeneSpec::real("regularization", 0.5, 2.0, 1.0),
    GeneSpec::int("ensemble_size", 1.0, 5.0, 3.0),
    GeneSpec::int("cross_validation", 3.0, 10.0, 5.0),
    GeneSpec::int("quantile_bins", 2.0, 4.0, 3.0),
];

type Svc<'a> = SVC<'a, f64, i32, DenseMatrix<f64>, Vec<i32>>;
type SvcParams = SVCParameters<f64, i32, DenseMatrix<f64>, Vec<i32>>;

impl Strategy for LinearSvcClassifier {
    fn name(&self) -> &'static str {
        "linear_svc_classifier"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::MlClassifier
    }
    fn doc(&self) -> &'static str {
        "Committee of ensemble_size linear SVMs (C = regularization) on the first feature_count engineered features, \
         standardised, predicting the sign of the 5-bar forward return; retrained every 250 bars on the last \
         lookback_window rows whose label is already known, each member leaving out one of cross_validation \
         contiguous folds; quantile_bins b drops the (b - 2)/b smallest |forward returns|; position = mean vote."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
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
            seed: Genome::new(self.name(), g.clone()).stable_hash(),
        };
        let fail = |message: String| StrategyError::Failed {
            strategy: self.name().to_string(),
            message,
        };
        let rows = feature_rows(data).map_err(|e| fail(e.to_string()))?;
        let fwd = forward_returns(&data.bars.close);
        let n = rows.len();
        let mut out = vec![0.0; n];
        for at in (0..n).step_by(RETRAIN_EVERY) {
            let Some(range) = training_range(at, p.window) else {
                continue;
            };
            if !range
                .clone()
                .all(|t| usable(&rows[t]) && fwd[t].is_finite() && t + HORIZON <= at)
            {
                continue;
            }
            let predict: Vec<usize> = (at..(at + RETRAIN_EVERY).min(n))
                .filter(|&i| usable(&rows[i]))
                .collect();
            if predict.is_empty() {
                continue;
            }
            let votes = committee_votes(&rows, &fwd, range, &predict, &p, at).map_err(fail)?;
            for (&i, v) in predict.iter().zip(votes) {
                out[i] = v;
            }
        }
        Ok(finish(out))
    }
}

/// Resolved genes plus the genome's random seed.
struct Params {
    window: usize,
    features: usize,
    c: f64,
    members: usize,
    folds: usize,
    bins: usize,
    seed: u64,
}

/// Trains the committee on `range` and returns the mean vote for each row in `predict`.
fn committee_votes(
    rows: &[Row],
    fwd: &[f64],
    range: std::ops::Range<usize>,
    predict: &[usize],
    p: &Params,
    at: usize,
) -> Result<Vec<f64>, String> {
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
        return Ok(vec![0.0; predict.len()]);
    }
    let take = |t: usize| rows[t][..p.features].to_vec();
    let x_all = matrix(kept.iter().map(|&t| take(t)).collect())?;
    let scaler = StandardScaler::fit(&x_all, StandardScalerParameters::default()).map_err(|e| e.to_string())?;
    let x_pred = scaler
        .transform(&matrix(predict.iter().map(|&i| take(i)).collect())?)
        .map_err(|e| e.to_string())?;
    let labels: Vec<i32> = kept.iter().map(|&t| if fwd[t] > 0.0 { 1 } else { -1 }).collect();

    let mut sum = vec![0.0; predict.len()];
    for m in 0..p.members {
        let fold = m % p.folds;
        let (lo, hi) = (fold * kept.len() / p.folds, (fold + 1) * kept.len() / p.folds);
        let idx: Vec<usize> = (0..kept.len()).filter(|&r| r < lo || r >= hi).collect();
        let y: Vec<i32> = idx.iter().map(|&r| labels[r]).collect();
        let votes: Vec<f64> = if y.len() < MIN_ROWS_PER_FEATURE * p.features {
            // Too few rows for this many features: the member abstains (smartcore's SVC can
            // also fail on such under-determined problems).
            vec![0.0; predict.len()]
        } else if y.iter().all(|&v| v == y[0]) {
            vec![f64::from(y[0]); predict.len()]
        } else {
            let x = scaler
                .transform(&matrix(idx.iter().map(|&r| take(kept[r])).collect())?)
                .map_err(|e| e.to_string())?;
            let seed = p.seed ^ (at as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ m as u64;
            let params: SvcParams = SVCParameters::default()
                .with_epoch(1)
                .with_c(p.c)
                .with_kernel(Kernels::linear())
                .with_seed(Some(seed));
            let model = Svc::fit(&x, &y, &params).map_err(|e| e.to_string())?;
            let scores = model.decision_function(&x_pred).map_err(|e| e.to_string())?;
            scores.iter().map(|&s| if s > 0.0 { 1.0 } else { -1.0 }).collect()
        };
        for (acc, v) in sum.iter_mut().zip(votes) {
            *acc += v;
        }
    }
    Ok(sum.into_iter().map(|s| s / p.members as f64).collect())
}

/// A committee member trains only on at least this many rows per feature; otherwise it
/// abstains (votes 0).
const MIN_ROWS_PER_FEATURE: usize = 2;

/// A row-major matrix.
fn matrix(rows: Vec<Vec<f64>>) -> Result<DenseMatrix<f64>, String> {
    DenseMatrix::from_2d_vec(&rows).map_err(|e| e.to_string())
}
