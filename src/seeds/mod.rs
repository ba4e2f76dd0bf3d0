//! The 14 genetic seeds of `SEEDS.md`: strategy families with bounded genomes, and their registry.
//!
//! Every seed implements [`crate::strategy::Strategy`]: its signal is a target position in
//! [-1, 1] per bar, decided at the bar's close from bars 0..=i only, 0 during warm-up, finite,
//! deterministic, and every gene changes it on realistic data (`tests/seeds_properties.rs`).
//! Thresholds stated as relative price moves are written for daily bars and scaled to the data's
//! timeframe by `sqrt(bar duration / 1 day)` (see [`features::horizon_scale`]).

pub mod bandwidth_rank;
pub mod catalog;
pub mod columns;
pub use catalog::{all_strategies, lookup};
pub mod features;
pub mod ml_features;

pub mod atr_stop_loss;
pub mod bollinger_bands;
pub mod donchian_breakout;
pub mod ema_crossover;
pub mod funding_rate_carry;
pub mod ichimoku_cloud;
pub mod linear_svc_classifier;
pub mod nadaraya_watson;
pub mod pca_tree_quantile;
pub mod rsi_filter;
pub mod sma_trend_filter;
pub mod stochastic_oscillator;
pub mod volatility_scaling;
pub mod vwap_reversion;

use crate::strategy::Strategy;

/// The 14 seeds in `SEEDS.md` order.
pub fn all_seeds() -> Vec<&'static dyn Strategy> {
    vec![
        &ema_crossover::EmaCrossover,
        &donchian_breakout::DonchianBreakout,
        &rsi_filter::RsiFilter,
        &stochastic_oscillator::StochasticOscillator,
        &sma_trend_filter::SmaTrendFilter,
        &atr_stop_loss::AtrStopLoss,
        &ichimoku_cloud::IchimokuCloud,
        &vwap_reversion::VwapReversion,
        &volatility_scaling::VolatilityScaling,
        &funding_rate_carry::FundingRateCarry,
        &linear_svc_classifier::LinearSvcClassifier,
        &pca_tree_quantile::PcaTreeQuantile,
        &bollinger_bands::BollingerBands,
        &nadaraya_watson::NadarayaWatson,
    ]
}

/// The seed called `name`.
pub fn seed(name: &str) -> Option<&'static dyn Strategy> {
    all_seeds().into_iter().find(|s| s.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_unique_names() {
        let all = all_seeds();
        assert_eq!(all.len(), 14);
        let mut names: Vec<_> = all.iter().map(|s| s.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 14);
        assert!(seed("rsi_filter").is_some());
        assert!(seed("nope").is_none());
    }
}
