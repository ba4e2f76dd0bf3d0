//! Seed `funding_rate_carry` (carry): collect perp funding when it is persistently one-sided; needs real funding.

use super::features::{finish, genes, int};
use crate::market::MarketData;
use crate::strategy::{GeneSpec, Strategy, StrategyError, StrategyType};

/// Perpetual-futures funding carry. A funding event counts as known at bar i when its time is
/// at or before the bar's (opening) timestamp `timestamp_ms[i]`: bars carry only an open time,
/// so an event during bar i is used from bar i+1 on (never early). For each known event j the
/// score is `f_j + rate_momentum * (f_j - mean of the last funding_persistence rates)` (the
/// level plus its trend). On a new event, when flat: short (longs pay shorts) if the last
/// `funding_persistence` scores are all above `funding_threshold`, long if all below. The
/// position is held at least `carry_duration` bars; after that it is closed on a funding
/// reversal, when the current excess `score - threshold` (in the position's favour) falls below
/// `reversal_sensitivity` times the excess at entry. Position size 1. Without funding data the
/// seed refuses to run (`StrategyError::MissingFunding`); it never invents rates.
pub struct FundingRateCarry;

static GENES: [GeneSpec; 5] = [
    GeneSpec::real("funding_threshold", -0.005, 0.005, 0.0001),
    GeneSpec::int("carry_duration", 1.0, 72.0, 8.0),
    GeneSpec::real("rate_momentum", 0.0, 1.0, 0.3),
    GeneSpec::real("reversal_sensitivity", 0.1, 1.0, 0.8),
    GeneSpec::int("funding_persistence", 2.0, 24.0, 4.0),
];

impl Strategy for FundingRateCarry {
    fn name(&self) -> &'static str {
        "funding_rate_carry"
    }
    fn kind(&self) -> StrategyType {
        StrategyType::Carry
    }
    fn doc(&self) -> &'static str {
        "Perp carry: score = funding + rate_momentum x (funding - its mean over funding_persistence events); short \
         when the last funding_persistence scores are all above funding_threshold, long when all below; hold at \
         least carry_duration bars, then exit when the excess over the threshold falls below reversal_sensitivity x \
         its value at entry. An event is known from the first bar whose open time is at or after it. Requires \
         funding data (--funding); never invents it."
    }
    fn genes(&self) -> &'static [GeneSpec] {
        &GENES
    }
    fn needs_funding(&self) -> bool {
        true
    }
    /// The funding score: defined from the first bar at whose time `funding_persistence` events are known (the number of bars when that never happens; no funding: 0).
    fn warmup(&self, data: &MarketData, genome: &[f64]) -> usize {
        let Some(funding) = &data.funding else {
            return 0;
        };
        let persist = int(genes(&GENES, genome)[4]);
        match funding.time_ms.get(persist - 1) {
            Some(&t) => data.bars.timestamp_ms.partition_point(|&ts| ts < t),
            None => data.bars.len(),
        }
    }
    fn signal(&self, data: &MarketData, genome: &[f64]) -> Result<Vec<f64>, StrategyError> {
        // An empty series (e.g. a slice before the first event) is data with no known events yet.
        let Some(funding) = &data.funding else {
            return Err(StrategyError::MissingFunding {
                strategy: self.name().to_string(),
            });
        };
        let g = genes(&GENES, genome);
        let (threshold, min_hold, momentum, reversal, persist) = (g[0], int(g[1]), g[2], g[3], int(g[4]));
        let rates = &funding.rate;
        let scores: Vec<f64> = (0..rates.len())
            .map(|j| {
                if j + 1 < persist {
                    return f64::NAN;
                }
                let mean = rates[j + 1 - persist..=j].iter().sum::<f64>() / persist as f64;
                rates[j] + momentum * (rates[j] - mean)
            })
            .collect();

        let ts = &data.bars.timestamp_ms;
        let mut out = vec![0.0; ts.len()];
        let mut known = 0usize; // events with time <= ts[i]
        let mut pos = 0.0f64;
        let (mut entry_bar, mut entry_excess) = (0usize, 0.0f64);
        for (i, &t) in ts.iter().enumerate() {
            let before = known;
            while known < funding.time_ms.len() && funding.time_ms[known] <= t {
                known += 1;
            }
            let new_event = known > before;
            if known < persist || !scores[known - 1].is_finite() {
                out[i] = pos;
                continue;
            }
            let last = &scores[known - persist..known];
            let excess_short = scores[known - 1] - threshold; // a short earns when funding is high
            if pos != 0.0 && i - entry_bar >= min_hold {
                let excess = if pos < 0.0 { excess_short } else { -excess_short };
                if excess < reversal * entry_excess {
                    pos = 0.0;
                }
            }
            if pos == 0.0 && new_event {
                if last.iter().all(|&s| s > threshold) {
                    (pos, entry_bar, entry_excess) = (-1.0, i, excess_short);
                } else if last.iter().all(|&s| s < threshold) {
                    (pos, entry_bar, entry_excess) = (1.0, i, -excess_short);
                }
            }
            out[i] = pos;
        }
        Ok(finish(out))
    }
}
