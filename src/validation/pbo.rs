//! The Probability of Backtest Overfitting by combinatorially symmetric cross-validation (CSCV; Bailey, Borwein, López de Prado and Zhu, 2015).
//!
//! Input: N strategies' return series over the same T periods (a T × N matrix, one
//! `Vec` per strategy). The T rows are cut into S equal consecutive blocks (block s holds
//! rows `s·T/S .. (s+1)·T/S`). For each of the C(S, S/2) ways to pick S/2 blocks as the
//! in-sample set (the others are out-of-sample):
//! * every strategy's performance on each side is its Sharpe ratio, mean / sample standard
//!   deviation (ddof = 1) of its returns on that side (0 when the deviation is 0);
//! * n* = the best in-sample strategy (ties: the lowest index);
//! * ω = the relative rank of n* out-of-sample, rank / (N + 1), with rank 1 the worst and
//!   tied strategies sharing their average rank;
//! * the logit λ = ln(ω / (1 − ω)).
//!
//! PBO = the share of combinations with λ ≤ 0: how often the in-sample winner is at or
//! below the out-of-sample median. Per-block sums (Σr, Σr², count) are computed once, so a
//! combination costs S/2 additions per strategy; C(16, 8) = 12,870 combinations over a
//! hundred strategies take milliseconds. Same as `scripts/validation_fixtures.py`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::ValidationError;

/// Default number of CSCV blocks (`--pbo`).
pub const DEFAULT_PBO_BLOCKS: usize = 16;
/// The largest block count accepted: C(24, 12) = 2,704,156 combinations.
pub const MAX_PBO_BLOCKS: usize = 24;

/// The PBO and the summary of the logit distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PboSummary {
    /// Share of combinations whose in-sample winner ranks at or below the median out-of-sample.
    pub pbo: f64,
    /// Number of blocks S.
    pub blocks: usize,
    /// Number of combinations C(S, S/2).
    pub combinations: usize,
    /// Number of strategies N.
    pub n_strategies: usize,
    /// Number of observations T (rows) used.
    pub n_obs: usize,
    /// Mean of the logits.
    pub logit_mean: f64,
    /// Quantiles of the logits (linear interpolation, as numpy's default).
    pub logit_q05: f64,
    pub logit_q25: f64,
    pub logit_median: f64,
    pub logit_q75: f64,
    pub logit_q95: f64,
    /// Share of logits strictly below 0.
    pub share_below_zero: f64,
}

/// Checks a `--pbo` block count: even, from 2 to [`MAX_PBO_BLOCKS`].
pub fn validate_blocks(blocks: usize) -> Result<(), ValidationError> {
    if blocks < 2 || !blocks.is_multiple_of(2) || blocks > MAX_PBO_BLOCKS {
        return Err(ValidationError::InvalidBlocks(blocks));
    }
    Ok(())
}

/// Σr, Σr² and count of one strategy on one block (or a union of blocks).
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    sum: f64,
    sum_sq: f64,
    count: f64,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.sum += o.sum;
        self.sum_sq += o.sum_sq;
        self.count += o.count;
    }

    fn minus(&self, o: &Sums) -> Sums {
        Sums {
            sum: self.sum - o.sum,
            sum_sq: self.sum_sq - o.sum_sq,
            count: self.count - o.count,
        }
    }

    /// mean / sample sd, 0 when undefined.
    fn sharpe(&self) -> f64 {
        if self.count < 2.0 {
            return 0.0;
        }
        let mean = self.sum / self.count;
        let var = (self.sum_sq - self.sum * mean) / (self.count - 1.0);
        if var > 1e-300 && var.is_finite() {
            mean / var.sqrt()
        } else {
            0.0
        }
    }
}

/// The logits λ of every combination, in the order of the in-sample block sets as bit masks
/// ascending.
pub fn cscv_logits(returns: &[Vec<f64>], blocks: usize) -> Result<Vec<f64>, ValidationError> {
    validate_blocks(blocks)?;
    let n = returns.len();
    if n < 2 {
        return Err(ValidationError::PboInput {
            what: format!("at least 2 strategies, got {n}"),
        });
    }
    let t = returns[0].len();
    if let Some(other) = returns.iter().find(|r| r.len() != t) {
        return Err(ValidationError::PboInput {
            what: format!("return series of equal length, got {t} and {}", other.len()),
        });
    }
    if t < 2 * blocks {
        return Err(ValidationError::PboInput {
            what: format!("at least 2 observations per block: {t} observations for {blocks} blocks"),
        });
    }
    for (j, r) in returns.iter().enumerate() {
        if let Some((i, v)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ValidationError::PboInput {
                what: format!("finite returns; strategy {j} has {v} at row {i}"),
            });
        }
    }
    // block_sums[s * n + j]: strategy j on block s.
    let mut block_sums = vec![Sums::default(); blocks * n];
    let mut total = vec![Sums::default(); n];
    for s in 0..blocks {
        let (from, to) = (s * t / blocks, (s + 1) * t / blocks);
        for (j, r) in returns.iter().enumerate() {
            let b = &mut block_sums[s * n + j];
            for &x in &r[from..to] {
                b.sum += x;
                b.sum_sq += x * x;
            }
            b.count = (to - from) as f64;
            total[j].add(&block_sums[s * n + j]);
        }
    }
    let half = blocks / 2;
    let limit: u64 = 1 << blocks;
    // Gosper's hack: every mask of `blocks` bits with `half` set, ascending.
    let mut masks = Vec::new();
    let mut mask: u64 = (1 << half) - 1;
    while mask < limit {
        masks.push(mask);
        let c = mask & mask.wrapping_neg();
        let r = mask + c;
        mask = (((r ^ mask) >> 2) / c) | r;
    }
    // The combinations are independent: scored in parallel, collected in mask order.
    let logits = masks
        .par_iter()
        .map_init(
            || (vec![Sums::default(); n], vec![0.0; n]),
            |(is, oos_perf), &mask| {
                is.iter_mut().for_each(|s| *s = Sums::default());
                for s in (0..blocks).filter(|s| mask >> s & 1 == 1) {
                    for j in 0..n {
                        is[j].add(&block_sums[s * n + j]);
                    }
                }
                let mut best = 0;
                let mut best_perf = f64::NEG_INFINITY;
                for j in 0..n {
                    let p = is[j].sharpe();
                    if p > best_perf {
                        best_perf = p;
                        best = j;
                    }
                    oos_perf[j] = total[j].minus(&is[j]).sharpe();
                }
                let target = oos_perf[best];
                let below = oos_perf.iter().filter(|&&p| p < target).count() as f64;
                let ties = oos_perf.iter().filter(|&&p| p == target).count() as f64;
                let rank = below + (ties + 1.0) / 2.0;
                let omega = rank / (n as f64 + 1.0);
                (omega / (1.0 - omega)).ln()
            },
        )
        .collect();
    Ok(logits)
}

/// The PBO of `returns` (one series per strategy) over `blocks` CSCV blocks.
pub fn pbo(returns: &[Vec<f64>], blocks: usize) -> Result<PboSummary, ValidationError> {
    let logits = cscv_logits(returns, blocks)?;
    let k = logits.len() as f64;
    let mut sorted = logits.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(PboSummary {
        pbo: logits.iter().filter(|&&l| l <= 0.0).count() as f64 / k,
        blocks,
        combinations: logits.len(),
        n_strategies: returns.len(),
        n_obs: returns[0].len(),
        logit_mean: logits.iter().sum::<f64>() / k,
        logit_q05: quantile(&sorted, 0.05),
        logit_q25: quantile(&sorted, 0.25),
        logit_median: quantile(&sorted, 0.5),
        logit_q75: quantile(&sorted, 0.75),
        logit_q95: quantile(&sorted, 0.95),
        share_below_zero: logits.iter().filter(|&&l| l < 0.0).count() as f64 / k,
    })
}

/// numpy's default (linear) quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use evoflow_dataflows::Rng;

    /// `n` strategies of `t` i.i.d. normal returns; strategy 0 gets `edge` added to its mean.
    fn matrix(seed: u64, n: usize, t: usize, edge: f64) -> Vec<Vec<f64>> {
        (0..n)
            .map(|j| {
                let mut rng = Rng::for_slot(seed, 0, j as u64);
                (0..t)
                    .map(|_| rng.normal(0.0, 0.01) + if j == 0 { edge } else { 0.0 })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn pure_noise_overfits_half_the_time() {
        let mut sum = 0.0;
        for seed in 0..5 {
            let s = pbo(&matrix(seed, 50, 1000, 0.0), 16).unwrap();
            assert_eq!(s.combinations, 12_870);
            sum += s.pbo;
        }
        let mean = sum / 5.0;
        assert!((0.35..=0.65).contains(&mean), "mean PBO of noise {mean}");
    }

    #[test]
    fn one_real_edge_among_noise_does_not_overfit() {
        // Daily Sharpe 0.2 (about 3 annualised) against 49 zero-mean strategies.
        let s = pbo(&matrix(7, 50, 1000, 0.002), 16).unwrap();
        assert!(s.pbo < 0.05, "PBO with a real edge {}", s.pbo);
        assert!(s.logit_median > 2.0, "{s:?}");
    }

    #[test]
    fn bad_blocks_and_inputs_are_refused() {
        for b in [0, 1, 3, 15, 26] {
            assert_eq!(validate_blocks(b), Err(ValidationError::InvalidBlocks(b)));
        }
        assert!(pbo(&matrix(1, 1, 100, 0.0), 4).is_err());
        assert!(pbo(&matrix(1, 3, 7, 0.0), 4).is_err());
        let two = pbo(&matrix(1, 3, 100, 0.0), 2).unwrap();
        assert_eq!(two.combinations, 2);
    }
}
