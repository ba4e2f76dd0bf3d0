//! Seed `ichimoku_cloud` (trend_following): tenkan/kijun side gated by cloud colour, kumo breakout, chikou.

use super::features::{failed, finish, genes, int, sign};
use crate::indicators::ichimoku;
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};

/// Causal Ichimoku (the cloud shown at bar i is computed from data up to i - kijun). TK side:
/// `sign(tenkan - kijun)`, kept only when the cloud colour agrees (senkou A above B for a long,
/// below for a short), else 0. Kumo breakout: +1 with the close above the cloud, -1 below, 0
/// inside. `base = (1 - w) * tk + w * kumo` with w = `cloud_strength_weight`. Chikou
/// confirmation compares the close with the close `kijun_period` bars AGO: when its sign
/// disagrees with `base` the position is multiplied by `1 - momentum_confirmation`.
pub struct IchimokuCloud;

static GENES: [GeneSpec; 5] = [
    GeneSpec::int("tenkan_period", 7.0, 12.0, 9.0),
    GeneSpec::int("kijun_period", 20.0, 34.0, 26.0),
    GeneSpec::int("senkou_span_b_period", 40.0, 80.0, 52.0),
    GeneSpec::real("cloud_strength_weight", 0.0, 1.0, 0.7),
    GeneSpec::real("momentum_confirmation", 0.0, 1.0, 0.6),
];

impl Strategy for IchimokuCloud {
    fn name(&self) -> &'static str {
        "ichimoku_cloud"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::TrendFollowing
    }
    fn doc(&self) -> &'static str {
        "Tenkan/kijun side kept only when the cloud colour agrees, blended with the kumo breakout (close above/below \
         the causal cloud) by cloud_strength_weight; cut by momentum_confirmation when the chikou test (close vs the \
         close kijun_period bars ago) disagrees."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    /// The cloud: both senkou spans are displaced `kijun` bars forward, so it exists from bar `max(tenkan, kijun, senkou_b) - 1 + kijun`.
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let g = genes(&GENES, genome);
        let _ = data;
        let (t, k, b) = (int(g[0]), int(g[1]), int(g[2]));
        t.max(k).max(b) - 1 + k
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        let g = genes(&GENES, genome);
        let (tenkan_p, kijun_p, span_b_p, cloud_w, mom_c) = (int(g[0]), int(g[1]), int(g[2]), g[3], g[4]);
        let b = &data.bars;
        let ich = ichimoku(&b.high, &b.low, tenkan_p, kijun_p, span_b_p).map_err(failed(self.name()))?;
        let mut out = vec![0.0; b.len()];
        #[allow(clippy::needless_range_loop)] // reads five series and a lagged close at i
        for i in kijun_p..b.len() {
            let (t, k, sa, sb, c) = (
                ich.tenkan[i],
                ich.kijun[i],
                ich.senkou_a[i],
                ich.senkou_b[i],
                b.close[i],
            );
            if ![t, k, sa, sb, c].iter().all(|v| v.is_finite()) {
                continue;
            }
            let colour = sign(sa - sb);
            let tk = sign(t - k);
            let tk = if tk == colour { tk } else { 0.0 };
            let kumo = if c > sa.max(sb) {
                1.0
            } else if c < sa.min(sb) {
                -1.0
            } else {
                0.0
            };
            let base = (1.0 - cloud_w) * tk + cloud_w * kumo;
            let chikou = sign(c - b.close[i - kijun_p]);
            let confirm = if chikou * base < 0.0 || chikou == 0.0 {
                1.0 - mom_c
            } else {
                1.0
            };
            out[i] = base * confirm;
        }
        Ok(finish(out))
    }
}
