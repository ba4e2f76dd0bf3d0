//! Errors of the validation statistics: each names the input that was out of range.

/// Why a validation statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidationError {
    /// Fewer observations than the statistic needs.
    #[error("need at least {need} returns, got {got}")]
    TooFewObservations { need: usize, got: usize },
    /// A return that is NaN or infinite.
    #[error("return {index} is not finite ({value})")]
    NonFinite { index: usize, value: f64 },
    /// All returns are equal, so the Sharpe ratio is undefined.
    #[error("the returns have zero variance: the Sharpe ratio is undefined")]
    ZeroVariance,
    /// `n_trials` must be at least 1.
    #[error("n_trials must be at least 1, got {0}")]
    InvalidTrials(u64),
    /// `sr_variance` must be finite and non-negative.
    #[error("sr_variance must be finite and >= 0, got {0}")]
    InvalidVariance(f64),
    /// A moment (Sharpe, skewness, kurtosis) given directly is not finite.
    #[error("{name} is not finite ({value})")]
    NonFiniteInput { name: &'static str, value: f64 },
    /// `1 - skew*SR + (kurt-1)/4*SR^2` is not positive: the PSR's standard error is undefined.
    #[error("the PSR variance term 1 - skew*SR + (kurt-1)/4*SR^2 = {0} is not positive")]
    NonPositiveVariance(f64),
    /// A probability outside (0, 1) given to the inverse normal CDF.
    #[error("probability {0} is outside (0, 1)")]
    InvalidProbability(f64),
}
