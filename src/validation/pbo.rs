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

/// mean / sample sd of `n` returns with sum `sum` and sum of squares `sum_sq`, 0 when
/// undefined (`n < 2` is the caller's case). Written without a branch so that a loop over
/// strategies vectorises; the value is the plain formula's, bit for bit.
#[inline(always)]
fn sharpe(sum: f64, sum_sq: f64, n: f64) -> f64 {
    let mean = sum / n;
    let var = (sum_sq - sum * mean) / (n - 1.0);
    let value = mean / var.sqrt();
    if var > 1e-300 && var.abs() < f64::INFINITY {
        value
    } else {
        0.0
    }
}

/// The combinations' in-sample block sets as bit masks of `blocks` bits with `blocks / 2`
/// set, ascending (Gosper's hack).
fn half_masks(blocks: usize) -> Vec<u64> {
    let half = blocks / 2;
    let limit: u64 = 1 << blocks;
    let mut masks = Vec::new();
    let mut mask: u64 = (1 << half) - 1;
    while mask < limit {
        masks.push(mask);
        let c = mask & mask.wrapping_neg();
        let r = mask + c;
        mask = (((r ^ mask) >> 2) / c) | r;
    }
    masks
}

/// Per-block sums of every strategy, strategy-major within a block (structure of arrays, so
/// that the loops over strategies vectorise): `sum[s * n + j]` and `sum_sq[s * n + j]` are
/// Σr and Σr² of strategy j on block s; `count[s]` is block s's length.
struct BlockSums {
    n: usize,
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
    count: Vec<f64>,
    total_sum: Vec<f64>,
    total_sq: Vec<f64>,
    total_count: f64,
}

impl BlockSums {
    fn new<R: AsRef<[f64]>>(returns: &[R], blocks: usize) -> BlockSums {
        let n = returns.len();
        let t = returns[0].as_ref().len();
        let mut b = BlockSums {
            n,
            sum: vec![0.0; blocks * n],
            sum_sq: vec![0.0; blocks * n],
            count: vec![0.0; blocks],
            total_sum: vec![0.0; n],
            total_sq: vec![0.0; n],
            total_count: 0.0,
        };
        for s in 0..blocks {
            let (from, to) = (s * t / blocks, (s + 1) * t / blocks);
            b.count[s] = (to - from) as f64;
            b.total_count += b.count[s];
            for (j, r) in returns.iter().map(AsRef::as_ref).enumerate() {
                let (mut sum, mut sum_sq) = (0.0, 0.0);
                for &x in &r[from..to] {
                    sum += x;
                    sum_sq += x * x;
                }
                b.sum[s * n + j] = sum;
                b.sum_sq[s * n + j] = sum_sq;
                b.total_sum[j] += sum;
                b.total_sq[j] += sum_sq;
            }
        }
        b
    }

    /// The logit of the combination whose in-sample blocks are the set bits of `mask`;
    /// `scratch` holds four buffers of `n`.
    fn logit(&self, mask: u64, blocks: usize, scratch: &mut [Vec<f64>; 4]) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { self.logit_avx2(mask, blocks, scratch) };
        }
        self.logit_plain(mask, blocks, scratch)
    }

    /// [`Self::logit`] compiled for AVX2: the same IEEE operations four lanes at a time (no
    /// fused multiply-add), so the same bits.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn logit_avx2(&self, mask: u64, blocks: usize, scratch: &mut [Vec<f64>; 4]) -> f64 {
        self.logit_plain(mask, blocks, scratch)
    }

    #[inline(always)]
    fn logit_plain(&self, mask: u64, blocks: usize, scratch: &mut [Vec<f64>; 4]) -> f64 {
        let n = self.n;
        let [is_sum, is_sq, is_perf, oos_perf] = scratch;
        is_sum.iter_mut().for_each(|x| *x = 0.0);
        is_sq.iter_mut().for_each(|x| *x = 0.0);
        let mut is_count = 0.0;
        for s in (0..blocks).filter(|s| mask >> s & 1 == 1) {
            is_count += self.count[s];
            let (sum, sq) = (&self.sum[s * n..(s + 1) * n], &self.sum_sq[s * n..(s + 1) * n]);
            for ((a, b), (x, y)) in is_sum.iter_mut().zip(is_sq.iter_mut()).zip(sum.iter().zip(sq)) {
                *a += x;
                *b += y;
            }
        }
        let oos_count = self.total_count - is_count;
        let (is_sum, is_sq, is_perf, oos_perf) = (&is_sum[..n], &is_sq[..n], &mut is_perf[..n], &mut oos_perf[..n]);
        let (total_sum, total_sq) = (&self.total_sum[..n], &self.total_sq[..n]);
        if is_count < 2.0 {
            is_perf.iter_mut().for_each(|p| *p = 0.0);
        } else {
            for j in 0..n {
                is_perf[j] = sharpe(is_sum[j], is_sq[j], is_count);
            }
        }
        if oos_count < 2.0 {
            oos_perf.iter_mut().for_each(|p| *p = 0.0);
        } else {
            for j in 0..n {
                oos_perf[j] = sharpe(total_sum[j] - is_sum[j], total_sq[j] - is_sq[j], oos_count);
            }
        }
        // n* = the first strategy with the best in-sample performance.
        let mut best = 0;
        let mut best_perf = f64::NEG_INFINITY;
        for (j, &p) in is_perf.iter().enumerate() {
            if p > best_perf {
                best_perf = p;
                best = j;
            }
        }
        let target = oos_perf[best];
        let (mut below, mut ties) = (0usize, 0usize);
        for &p in oos_perf.iter() {
            below += usize::from(p < target);
            ties += usize::from(p == target);
        }
        let rank = below as f64 + (ties as f64 + 1.0) / 2.0;
        let omega = rank / (n as f64 + 1.0);
        (omega / (1.0 - omega)).ln()
    }
}

/// The logits λ of every combination, in the order of the in-sample block sets as bit masks
/// ascending.
pub fn cscv_logits<R: AsRef<[f64]>>(returns: &[R], blocks: usize) -> Result<Vec<f64>, ValidationError> {
    validate_blocks(blocks)?;
    let n = returns.len();
    if n < 2 {
        return Err(ValidationError::PboInput {
            what: format!("at least 2 strategies, got {n}"),
        });
    }
    let t = returns[0].as_ref().len();
    if let Some(other) = returns.iter().map(AsRef::as_ref).find(|r| r.len() != t) {
        return Err(ValidationError::PboInput {
            what: format!("return series of equal length, got {t} and {}", other.len()),
        });
    }
    if t < 2 * blocks {
        return Err(ValidationError::PboInput {
            what: format!("at least 2 observations per block: {t} observations for {blocks} blocks"),
        });
    }
    for (j, r) in returns.iter().map(AsRef::as_ref).enumerate() {
        if let Some((i, v)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ValidationError::PboInput {
                what: format!("finite returns; strategy {j} has {v} at row {i}"),
            });
        }
    }
    let sums = BlockSums::new(returns, blocks);
    // The combinations are independent: scored in parallel, collected in mask order.
    let logits = half_masks(blocks)
        .par_iter()
        .map_init(
            || std::array::from_fn(|_| vec![0.0; n]),
            |scratch, &mask| sums.logit(mask, blocks, scratch),
        )
        .collect();
    Ok(logits)
}

/// The PBO of `returns` (one series per strategy) over `blocks` CSCV blocks.
pub fn pbo<R: AsRef<[f64]>>(returns: &[R], blocks: usize) -> Result<PboSummary, ValidationError> {
    let logits = cscv_logits(returns, blocks)?;
    let k = logits.len() as f64;
    let mut sorted = logits.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(PboSummary {
        pbo: logits.iter().filter(|&&l| l <= 0.0).count() as f64 / k,
        blocks,
        combinations: logits.len(),
        n_strategies: returns.len(),
        n_obs: returns[0].as_ref().len(),
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

    /// The plain computation (one struct of sums per strategy and block, as the paper
    /// describes it), to check the vectorised one against, bit for bit.
    fn reference_logits(returns: &[Vec<f64>], blocks: usize) -> Vec<f64> {
        #[derive(Clone, Copy, Default)]
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
        let (n, t) = (returns.len(), returns[0].len());
        let mut block = vec![Sums::default(); blocks * n];
        let mut total = vec![Sums::default(); n];
        for s in 0..blocks {
            let (from, to) = (s * t / blocks, (s + 1) * t / blocks);
            for (j, r) in returns.iter().enumerate() {
                let b = &mut block[s * n + j];
                for &x in &r[from..to] {
                    b.sum += x;
                    b.sum_sq += x * x;
                }
                b.count = (to - from) as f64;
                total[j].add(&block[s * n + j]);
            }
        }
        half_masks(blocks)
            .into_iter()
            .map(|mask| {
                let mut is = vec![Sums::default(); n];
                for s in (0..blocks).filter(|s| mask >> s & 1 == 1) {
                    for j in 0..n {
                        is[j].add(&block[s * n + j]);
                    }
                }
                let (mut best, mut best_perf) = (0, f64::NEG_INFINITY);
                let mut oos = vec![0.0; n];
                for j in 0..n {
                    let p = is[j].sharpe();
                    if p > best_perf {
                        best_perf = p;
                        best = j;
                    }
                    let t = &total[j];
                    let rest = Sums {
                        sum: t.sum - is[j].sum,
                        sum_sq: t.sum_sq - is[j].sum_sq,
                        count: t.count - is[j].count,
                    };
                    oos[j] = rest.sharpe();
                }
                let target = oos[best];
                let below = oos.iter().filter(|&&p| p < target).count() as f64;
                let ties = oos.iter().filter(|&&p| p == target).count() as f64;
                let omega = (below + (ties + 1.0) / 2.0) / (n as f64 + 1.0);
                (omega / (1.0 - omega)).ln()
            })
            .collect()
    }

    #[test]
    fn vectorised_logits_equal_the_plain_computation_bit_for_bit() {
        // Noise, a real edge, duplicated strategies (ties), flat strategies (zero variance)
        // and blocks of 2 observations.
        let mut returns = matrix(11, 37, 403, 0.001);
        returns.push(returns[3].clone());
        returns.push(vec![0.0; 403]);
        returns.push(vec![0.004; 403]);
        returns.insert(0, returns[20].clone());
        for blocks in [2, 4, 10, 16] {
            let got = cscv_logits(&returns, blocks).unwrap();
            let want = reference_logits(&returns, blocks);
            assert_eq!(got.len(), want.len());
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g.to_bits(), w.to_bits(), "blocks {blocks} combination {k}: {g} vs {w}");
            }
        }
        let short = matrix(5, 9, 40, 0.0);
        let got = cscv_logits(&short, 20).unwrap();
        assert!(got
            .iter()
            .zip(reference_logits(&short, 20))
            .all(|(g, w)| g.to_bits() == w.to_bits()));
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
