//! The sweep (shared SMAs, fast path, rayon) against a brute force over `Strategy::signal` + a backtest with the strategy's warm-up.

use evoflow::backtest::{BacktestConfig, BacktestContext, BacktestReport};
use evoflow::market::sample::load_sample;
use evoflow::market::MarketData;
use evoflow::strategy::sma_crossover::SMA_CROSSOVER;
use evoflow::strategy::Strategy;
use evoflow::sweep::{grid_point, run_sweep, Constraint, GridAxis, SweepSpec};

/// The brute force: the strategy's signal backtested after its declared warm-up.
fn brute_force(data: &MarketData, point: &[f64], config: &BacktestConfig) -> BacktestReport {
    let targets = SMA_CROSSOVER.signal(data, point).unwrap();
    let warmup = SMA_CROSSOVER.warmup(data, point);
    BacktestContext::new(data)
        .unwrap()
        .run(&targets, config, warmup)
        .unwrap()
}

#[test]
fn full_hourly_grid_matches_brute_force_point_for_point() {
    let data = load_sample("eurusd-1h").unwrap();
    let axes = vec![
        GridAxis::parse("fast=2:100:1").unwrap(),
        GridAxis::parse("slow=5:500:5").unwrap(),
    ];
    let keys: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
    let spec = SweepSpec {
        constraints: vec![Constraint::parse("fast<slow", &keys).unwrap()],
        axes,
        maximize: "sharpe_ratio".into(),
        top: 5,
        config: BacktestConfig {
            commission: 0.0002,
            ..BacktestConfig::default()
        },
    };
    let result = run_sweep(&data, &SMA_CROSSOVER, &spec).unwrap();
    assert_eq!(result.evaluated, 8930);
    assert_eq!(result.skipped, 0);

    let mut brute_best: Option<(f64, Vec<f64>)> = None;
    let mut point = Vec::new();
    for &(idx, value) in &result.values {
        grid_point(&spec.axes, idx, &mut point);
        let report = brute_force(&data, &point, &spec.config);
        let want = report.stats.sharpe_ratio;
        assert_eq!(value, want, "point {point:?}");
        if let Some(v) = want {
            if brute_best.as_ref().is_none_or(|(b, _)| v > *b) {
                brute_best = Some((v, point.clone()));
            }
        }
    }
    let (best_value, best_point) = brute_best.unwrap();
    let got = &result.best[0];
    assert_eq!(
        got.params,
        vec![("fast".to_string(), best_point[0]), ("slow".to_string(), best_point[1])]
    );
    assert_eq!(got.stats.sharpe_ratio, Some(best_value));
    assert_eq!(got.stats, brute_force(&data, &best_point, &spec.config).stats);
}

#[test]
fn points_the_strategy_rejects_are_skipped() {
    let data = load_sample("goog-1d").unwrap();
    let spec = SweepSpec {
        axes: vec![
            GridAxis::parse("fast=10:30:10").unwrap(),
            GridAxis::parse("slow=20:20:1").unwrap(),
        ],
        constraints: vec![],
        maximize: "return_pct".into(),
        top: 10,
        config: BacktestConfig::default(),
    };
    let result = run_sweep(&data, &SMA_CROSSOVER, &spec).unwrap();
    // fast=20 and fast=30 are not shorter than slow=20.
    assert_eq!((result.evaluated, result.skipped), (1, 2));
    assert_eq!(result.best.len(), 1);
}
