//! Seed `pca_tree_quantile` (ml_classifier): standardise → PCA → random forest on the 5-bar forward return, walk-forward.

use rayon::prelude::*;

use super::features::{finish, genes, int, percentile_rank};
use super::ml_features::{cached_feature_rows, first_prediction, forward_returns, retrainings, NUM_FEATURES};
use crate::market::MarketData;
use crate::ml::{Forest, ForestParams, Matrix, Pca, Scaler};
use crate::strategy::{GeneSpec, Genome, Strategy, StrategyError, StrategyType};

pub use super::ml_features::RETRAIN_EVERY;

/// Minimum rows per leaf of each regression tree (limits overfitting to single bars).
const MIN_SAMPLES_LEAF: usize = 5;

/// Every 500 bars ([`RETRAIN_EVERY`]: at bar r, a multiple of 500) fit, on the last
/// `feature_window` rows t whose 5-bar forward return is already known (t + 5 <= r): a
/// standard scaler on all 15 engineered features, PCA to `pca_components` components, and a random forest ([`crate::ml::Forest`]:
/// Breiman's, on bootstrap samples with one random candidate component per split (mtry =
/// max(1, ⌊components / 3⌋)), 32-bin histogram splits) of `n_estimators` trees of depth at
/// most `tree_depth` (levels of splits, as scikit-learn's `max_depth`) regressing the forward
/// return. The forest is seeded from the four genes that shape it (components, depth, trees,
/// window) and the retraining bar, so genomes differing only in `signal_quantile` or
/// `quantile_bins` trade on the same predictions.
/// Each bar's prediction is ranked within the last `feature_window` predictions (percentile
/// p). With qh = max(q, 1 - q) for q = `signal_quantile`: long when p > qh, short when
/// p < 1 - qh, flat between; the size is quantised into `quantile_bins` steps by how far p
/// lies into the tail: `ceil(b * (p - qh) / (1 - qh)) / b`.
///
/// Cost (`benches/seeds.rs`, signal plus backtest on the 5,000-bar hourly sample, on a shared
/// 2-core machine): 5.7 ms at default genes, 37 ms with every gene at its maximum (200 trees
/// of depth 7 on 500 rows, 8 retrainings); a random genome on the 3,500 training bars of
/// `evolve` averages about 7 ms, most of it growing the forests (and predicting as they
/// grow; see [`Strategy::relative_cost`]).
pub struct PcaTreeQuantile;

static GENES: [GeneSpec; 6] = [
    GeneSpec::int("pca_components", 2.0, 5.0, 3.0),
    GeneSpec::int("tree_depth", 3.0, 7.0, 5.0),
    GeneSpec::int("n_estimators", 10.0, 200.0, 50.0),
    GeneSpec::real("signal_quantile", 0.1, 0.9, 0.7),
    GeneSpec::int("feature_window", 50.0, 500.0, 200.0),
    GeneSpec::int("quantile_bins", 2.0, 4.0, 3.0),
];

impl Strategy for PcaTreeQuantile {
    fn name(&self) -> &'static str {
        "pca_tree_quantile"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::MlClassifier
    }
    fn doc(&self) -> &'static str {
        "Standardise the 15 engineered features, PCA to pca_components, random forest (n_estimators trees, depth \
         tree_depth) regressing the 5-bar forward return; retrained every 500 bars on the last feature_window rows \
         whose label is already known. Long when the prediction's percentile among the last feature_window \
         predictions is above max(q, 1 - q) (q = signal_quantile), short below min(q, 1 - q); size in \
         quantile_bins steps by depth into the tail."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// Per tree and retraining: growing costs about window × levels (at most
    /// log2(window / 5) + 1 levels have rows to split), and the rest of a tree (its nodes'
    /// split searches, its share of predicting ~500 bars) grows with its depth; fitted to
    /// timings of 211 random genomes on 3,500 hourly bars (correlation 0.94), in units of a
    /// 0.29 ms indicator seed.
    fn relative_cost(&self, genome: &[f64]) -> f64 {
        let g = genes(&GENES, genome);
        let (depth, trees, window) = (g[1], g[2], g[4]);
        let levels = depth.min((window / MIN_SAMPLES_LEAF as f64).log2() + 1.0);
        4.7 + 9.8e-5 * trees * window * levels + 0.0125 * trees * depth
    }

    /// The prediction's percentile rank: at the earliest `feature_window - 1` bars after the first bar predicted by the first walk-forward retraining.
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let window = int(genes(&GENES, genome)[4]);
        first_prediction(data, window).saturating_add(window - 1)
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let (components, depth, trees, q, window, bins) = (int(g[0]), int(g[1]), int(g[2]), g[3], int(g[4]), int(g[5]));
        let seed = Genome::new(self.name(), vec![g[0], g[1], g[2], g[4]]).stable_hash();
        let fail = |message: String| StrategyError::Failed {
            strategy: self.name().to_string(),
            message,
        };
        let rows = cached_feature_rows(data).map_err(|e| fail(e.to_string()))?;
        let fwd = forward_returns(&data.bars.close);
        let rows: &[_] = &rows;
        // The retrainings are independent (each seeds its forest from its own bar): they are
        // fitted in parallel and their predictions placed in order, the same values as one by
        // one. One genome's evaluation is otherwise the longest task of a generation, which
        // the other workers would wait for (issue 15).
        let steps: Vec<_> = retrainings(rows, &fwd, window).collect();
        let fitted = steps
            .par_iter()
            .map(|step| {
                let x = Matrix::from_rows(NUM_FEATURES, step.train.clone().map(|t| &rows[t][..]));
                let y: Vec<f64> = step.train.clone().map(|t| fwd[t]).collect();
                let scaler = Scaler::fit(&x);
                let scaled = scaler.transform(&x);
                let pca = Pca::fit(&scaled, components);
                let params = ForestParams {
                    trees,
                    max_depth: depth,
                    min_samples_leaf: MIN_SAMPLES_LEAF,
                    max_features: None,
                    seed: seed ^ (step.at as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                };
                let x_new = Matrix::from_rows(NUM_FEATURES, step.targets.iter().map(|&i| &rows[i][..]));
                Forest::fit_predict(
                    &pca.transform(&scaled),
                    &y,
                    &params,
                    &pca.transform(&scaler.transform(&x_new)),
                )
                .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<Vec<f64>>, String>>()
            .map_err(fail)?;
        let mut pred = vec![f64::NAN; rows.len()];
        for (step, p) in steps.iter().zip(fitted) {
            for (&i, v) in step.targets.iter().zip(p) {
                pred[i] = v;
            }
        }

        let rank = percentile_rank(&pred, window);
        let hi = q.max(1.0 - q);
        let b = bins as f64;
        let step = |depth_into_tail: f64| ((b * depth_into_tail).ceil() / b).min(1.0);
        let out = rank
            .iter()
            .map(|&p| {
                if !p.is_finite() {
                    0.0
                } else if p > hi {
                    step((p - hi) / (1.0 - hi))
                } else if p < 1.0 - hi {
                    -step((1.0 - hi - p) / (1.0 - hi))
                } else {
                    0.0
                }
            })
            .collect();
        Ok(finish(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::sample::load_sample;

    /// The forest depends on its own genes only: `signal_quantile` q and 1 - q give the same
    /// signal, and other `quantile_bins` only change the sizes, never the side.
    #[test]
    fn the_signal_genes_do_not_reseed_the_forest() {
        let data = load_sample("eurusd-1h").unwrap().slice(0..1500);
        let signal = |q: f64, bins: f64| {
            PcaTreeQuantile
                .signal(&data, &[3.0, 4.0, 20.0, q, 150.0, bins])
                .unwrap()
        };
        let base = signal(0.7, 3.0);
        assert!(base.iter().any(|&s| s != 0.0), "the forest trades");
        assert!(signal(0.3, 3.0) == base, "q = 0.3 and q = 0.7 trade differently");
        let coarser = signal(0.7, 2.0);
        assert!(coarser != base, "two steps size differently from three");
        let sides = |signal: &[f64]| {
            signal
                .iter()
                .map(|&x| i8::from(x > 0.0) - i8::from(x < 0.0))
                .collect::<Vec<_>>()
        };
        assert!(sides(&coarser) == sides(&base), "quantile_bins changed a side");
    }
}
