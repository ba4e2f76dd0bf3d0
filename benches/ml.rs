//! Criterion bench: the ML models one walk-forward retraining of the ML seeds runs, on real features of the hourly sample.
//!
//! The training set is a window of 275 labelled rows (the mean `feature_window` of a random
//! `pca_tree_quantile` genome) of the 15 engineered features at bar 3,000 of `eurusd-1h`,
//! standardised; the forest sees its 3 principal components, the SVM 8 standardised
//! features and the sign of the forward return. `forest_fit_100_trees` grows 100 trees of
//! depth 5 (a random genome grows about 105 per retraining, of depth 3-7);
//! `forest_predict_100_trees` predicts the 500 bars up to the next retraining, and
//! `forest_fit_predict_100_trees` does both at once as `pca_tree_quantile` does (the rows
//! go down each tree as it grows).

use criterion::{criterion_group, criterion_main, Criterion};
use evoflow::market::sample::load_sample;
use evoflow::ml::{Forest, ForestParams, LinearSvm, Matrix, Pca, Scaler, SvmParams};
use evoflow::seeds::ml_features::{feature_rows, forward_returns, training_range, NUM_FEATURES, RETRAIN_EVERY};

fn bench_models(c: &mut Criterion) {
    let data = load_sample("eurusd-1h").expect("sample");
    let rows = feature_rows(&data).expect("features");
    let fwd = forward_returns(&data.bars.close);
    let at = 3000;
    let train = training_range(at, 275).expect("a full window");
    let x = Matrix::from_rows(NUM_FEATURES, train.clone().map(|t| &rows[t][..]));
    let y: Vec<f64> = train.clone().map(|t| fwd[t]).collect();
    let scaler = Scaler::fit(&x);
    let scaled = scaler.transform(&x);
    let pca = Pca::fit(&scaled, 3);
    let components = pca.transform(&scaled);
    let targets = Matrix::from_rows(NUM_FEATURES, (at..at + RETRAIN_EVERY).map(|i| &rows[i][..]));
    let target_components = pca.transform(&scaler.transform(&targets));
    let params = ForestParams {
        trees: 100,
        max_depth: 5,
        min_samples_leaf: 5,
        max_features: None,
        seed: 7,
    };
    let forest = Forest::fit(&components, &y, &params).expect("3 features");
    let svm_x = Matrix::from_rows(8, scaled.iter_rows().map(|r| &r[..8]));
    let labels: Vec<f64> = y.iter().map(|&r| if r > 0.0 { 1.0 } else { -1.0 }).collect();

    let mut group = c.benchmark_group("ml_models_one_retraining");
    group.bench_function("scaler_and_pca_fit_15_to_3", |b| {
        b.iter(|| Pca::fit(&Scaler::fit(&x).transform(&x), 3))
    });
    group.bench_function("forest_fit_100_trees", |b| {
        b.iter(|| Forest::fit(&components, &y, &params))
    });
    group.bench_function("forest_predict_100_trees", |b| {
        b.iter(|| forest.predict_rows(&target_components))
    });
    group.bench_function("forest_fit_predict_100_trees", |b| {
        b.iter(|| Forest::fit_predict(&components, &y, &params, &target_components))
    });
    group.bench_function("linear_svm_fit_8_features", |b| {
        b.iter(|| LinearSvm::fit(&svm_x, &labels, &SvmParams::default()))
    });
    group.finish();
}

criterion_group!(benches, bench_models);
criterion_main!(benches);
