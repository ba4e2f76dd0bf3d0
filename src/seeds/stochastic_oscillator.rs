//! Seed `stochastic_oscillator` (momentum): %K/%D cross side weighted with zone position and divergence.

use super::columns::{column, ColumnKey};
use super::features::{divergence, failed, finish, genes, int, quantise};
use crate::indicators::stoch;
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};

/// TA-Lib's slow-%K smoothing (fixed).
const SLOWK_PERIOD: usize = 3;

/// Slow stochastic with fast-%K `k_period`, slow-%K 3 and %D `d_period`. Cross side: +1 after
/// %K crossed above %D (while %K > %D), -1 after it crossed below. Zone: below `oversold_level`
/// `+(oversold - %K) / oversold`, above `overbought_level` `-(%K - overbought) / (100 -
/// overbought)`, else 0. Divergence of the close against %K over `2 * k_period` bars: ±1.
/// `base = 0.5 * cross + 0.5 * zone`; `signal = (1 - s) * base + s * divergence` with s =
/// `divergence_sensitivity`, rounded to 0.05.
pub struct StochasticOscillator;

static GENES: [GeneSpec; 5] = [
    GeneSpec::int("k_period", 10.0, 20.0, 14.0),
    GeneSpec::int("d_period", 2.0, 5.0, 3.0),
    GeneSpec::real("overbought_level", 70.0, 85.0, 80.0),
    GeneSpec::real("oversold_level", 15.0, 30.0, 20.0),
    GeneSpec::real("divergence_sensitivity", 0.0, 1.0, 0.5),
];

impl Strategy for StochasticOscillator {
    fn name(&self) -> &'static str {
        "stochastic_oscillator"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::Momentum
    }
    fn doc(&self) -> &'static str {
        "Slow stochastic (fast %K k_period, slow %K 3, %D d_period): half the side of the last %K/%D cross plus half \
         the zone position (beyond oversold_level long, beyond overbought_level short, scaled by the distance), \
         blended with close/%K divergence over 2 x k_period bars by divergence_sensitivity."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// Slow %K and %D: TA-Lib's look-back `(k_period - 1) + (3 - 1) + (d_period - 1)`; the divergence term is optional.
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let g = genes(&GENES, genome);
        let _ = data;
        (int(g[0]) - 1) + (SLOWK_PERIOD - 1) + (int(g[1]) - 1)
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let (k_p, d_p, overbought, oversold, sens) = (int(g[0]), int(g[1]), g[2], g[3], g[4]);
        let b = &data.bars;
        let params = [k_p as u64, SLOWK_PERIOD as u64, d_p as u64];
        let st = column(data, ColumnKey::new("stoch(high, low, close)", &params), || {
            stoch(&b.high, &b.low, &b.close, k_p, SLOWK_PERIOD, d_p).map(|st| [st.slowk, st.slowd])
        })
        .map_err(failed(self.name()))?;
        let [slowk, slowd] = &*st;
        let div = column(data, ColumnKey::new("divergence(close, stoch slowk)", &params), || {
            Ok::<_, std::convert::Infallible>(divergence(&b.close, slowk, 2 * k_p))
        })
        .unwrap_or_else(|e| match e {});
        let mut out = vec![0.0; b.len()];
        let mut side = 0.0f64;
        for i in 0..b.len() {
            let (k, d) = (slowk[i], slowd[i]);
            if !(k.is_finite() && d.is_finite()) {
                continue;
            }
            if k > d {
                side = 1.0;
            } else if k < d {
                side = -1.0;
            }
            let zone = if k < oversold {
                (oversold - k) / oversold
            } else if k > overbought {
                -(k - overbought) / (100.0 - overbought)
            } else {
                0.0
            };
            let base = 0.5 * side + 0.5 * zone;
            out[i] = quantise((1.0 - sens) * base + sens * div[i], 0.05);
        }
        Ok(finish(out))
    }
}
