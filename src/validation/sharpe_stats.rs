//! The Probabilistic and Deflated Sharpe Ratios (Bailey and López de Prado, 2014).
//!
//! Estimators (the same as `scripts/validation_fixtures.py`): for T returns r_t with mean m,
//! central moments m_k = (1/T) Σ (r_t - m)^k (biased, as `scipy.stats.skew(bias=True)`),
//! * `sr_per_period` = m / s with s the sample standard deviation (ddof = 1), not annualised;
//! * `skew` = m_3 / m_2^(3/2);
//! * `kurtosis` = m_4 / m_2^2, non-excess (3 for a normal), as in the paper
//!   (`scipy.stats.kurtosis(fisher=False, bias=True)`).

use super::error::ValidationError;
use super::normal;

/// Euler–Mascheroni constant γ.
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// The moments of a return series that the PSR needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReturnMoments {
    /// Mean over sample standard deviation (ddof = 1) of the per-period returns.
    pub sr_per_period: f64,
    /// Number of returns T.
    pub n_obs: usize,
    /// Biased sample skewness m_3 / m_2^(3/2).
    pub skew: f64,
    /// Biased, non-excess sample kurtosis m_4 / m_2^2.
    pub kurtosis: f64,
}

/// The PSR against 0, the DSR, and every input they were computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SharpeStats {
    /// Moments of the returns judged.
    pub moments: ReturnMoments,
    /// Number of independent trials N the selection was made from.
    pub n_trials: u64,
    /// Variance V of the Sharpe estimates across the trials (per period, as `sr_per_period`).
    pub sr_variance: f64,
    /// E[max SR] over N trials: the benchmark the DSR tests against.
    pub expected_max_sr: f64,
    /// PSR(0): probability that the true Sharpe is above 0.
    pub psr: f64,
    /// DSR = PSR(E[max SR]).
    pub dsr: f64,
}

/// Moments of `returns` (needs T >= 2, finite values, non-zero variance).
pub fn return_moments(returns: &[f64]) -> Result<ReturnMoments, ValidationError> {
    let t = returns.len();
    if t < 2 {
        return Err(ValidationError::TooFewObservations { need: 2, got: t });
    }
    if let Some((index, &value)) = returns.iter().enumerate().find(|(_, r)| !r.is_finite()) {
        return Err(ValidationError::NonFinite { index, value });
    }
    if returns.iter().all(|&r| r == returns[0]) {
        return Err(ValidationError::ZeroVariance);
    }
    let n = t as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for &r in returns {
        let d = r - mean;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    if m2 <= 0.0 {
        return Err(ValidationError::ZeroVariance);
    }
    let sample_sd = (m2 / (n - 1.0)).sqrt();
    let (m2, m3, m4) = (m2 / n, m3 / n, m4 / n);
    Ok(ReturnMoments {
        sr_per_period: mean / sample_sd,
        n_obs: t,
        skew: m3 / m2.powf(1.5),
        kurtosis: m4 / (m2 * m2),
    })
}

/// Expected maximum of N independent Sharpe estimates with mean 0 and variance V
/// (the paper's eq. for SR_0):
/// E[max] = √V · ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e))).
/// For N = 1 there is no selection and the benchmark is 0.
pub fn expected_max_sharpe(n_trials: u64, sr_variance: f64) -> Result<f64, ValidationError> {
    if n_trials == 0 {
        return Err(ValidationError::InvalidTrials(n_trials));
    }
    if !sr_variance.is_finite() || sr_variance < 0.0 {
        return Err(ValidationError::InvalidVariance(sr_variance));
    }
    if n_trials == 1 {
        return Ok(0.0);
    }
    let n = n_trials as f64;
    let inv = |p: f64| normal::inverse_cdf(p).ok_or(ValidationError::InvalidProbability(p));
    let a = inv(1.0 - 1.0 / n)?;
    let b = inv(1.0 - 1.0 / (n * std::f64::consts::E))?;
    Ok(sr_variance.sqrt() * ((1.0 - EULER_GAMMA) * a + EULER_GAMMA * b))
}

/// PSR(SR*) = Φ((SR − SR*) √(T − 1) / √(1 − skew·SR + (kurt − 1)/4 · SR²)),
/// with SR, skew and kurtosis (non-excess) as in [`ReturnMoments`].
pub fn probabilistic_sharpe(m: &ReturnMoments, sr_benchmark: f64) -> Result<f64, ValidationError> {
    for (name, value) in [
        ("sr_per_period", m.sr_per_period),
        ("skew", m.skew),
        ("kurtosis", m.kurtosis),
        ("sr_benchmark", sr_benchmark),
    ] {
        if !value.is_finite() {
            return Err(ValidationError::NonFiniteInput { name, value });
        }
    }
    if m.n_obs < 2 {
        return Err(ValidationError::TooFewObservations { need: 2, got: m.n_obs });
    }
    let sr = m.sr_per_period;
    let var = 1.0 - m.skew * sr + (m.kurtosis - 1.0) / 4.0 * sr * sr;
    if var <= 0.0 || !var.is_finite() {
        return Err(ValidationError::NonPositiveVariance(var));
    }
    let z = (sr - sr_benchmark) * ((m.n_obs - 1) as f64).sqrt() / var.sqrt();
    Ok(normal::cdf(z))
}

/// PSR against 0 and DSR = PSR(E[max SR over `n_trials` with `sr_variance`]) for given moments.
pub fn deflated_sharpe(
    moments: ReturnMoments,
    n_trials: u64,
    sr_variance: f64,
) -> Result<SharpeStats, ValidationError> {
    let expected_max_sr = expected_max_sharpe(n_trials, sr_variance)?;
    Ok(SharpeStats {
        moments,
        n_trials,
        sr_variance,
        expected_max_sr,
        psr: probabilistic_sharpe(&moments, 0.0)?,
        dsr: probabilistic_sharpe(&moments, expected_max_sr)?,
    })
}

/// [`deflated_sharpe`] of a return series.
pub fn deflated_sharpe_of_returns(
    returns: &[f64],
    n_trials: u64,
    sr_variance: f64,
) -> Result<SharpeStats, ValidationError> {
    deflated_sharpe(return_moments(returns)?, n_trials, sr_variance)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_input_with_named_errors() {
        assert_eq!(
            return_moments(&[1.0]),
            Err(ValidationError::TooFewObservations { need: 2, got: 1 })
        );
        assert_eq!(return_moments(&[0.1, 0.1, 0.1]), Err(ValidationError::ZeroVariance));
        assert!(matches!(
            return_moments(&[0.1, f64::NAN]),
            Err(ValidationError::NonFinite { index: 1, .. })
        ));
        assert_eq!(expected_max_sharpe(0, 1.0), Err(ValidationError::InvalidTrials(0)));
        assert_eq!(
            expected_max_sharpe(5, -1.0),
            Err(ValidationError::InvalidVariance(-1.0))
        );
    }

    #[test]
    fn single_trial_dsr_equals_psr() {
        let m = return_moments(&[0.01, -0.02, 0.03, 0.015, -0.005, 0.02]).unwrap();
        let s = deflated_sharpe(m, 1, 0.5).unwrap();
        assert_eq!(s.psr, s.dsr);
        assert_eq!(s.expected_max_sr, 0.0);
    }
}
