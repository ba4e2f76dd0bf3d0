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
    /// A `--validation` value that is not `holdout` or `walk-forward:K`.
    #[error("--validation {given}: {why}; expected `holdout` or `walk-forward:K` (K folds, 1 to 100)")]
    InvalidMode { given: String, why: String },
    /// A fold's training window is shorter than the minimum.
    #[error("--validation {mode}: fold {fold} has a training window of {train} bars (of {bars} bars in all); at least {min_train} are needed (fewer folds, more data or a smaller --test-fraction)")]
    FoldTooSmall {
        mode: String,
        fold: usize,
        train: usize,
        bars: usize,
        min_train: usize,
    },
    /// A walk-forward fold without a held-out window.
    #[error("--validation {mode}: fold {fold} holds out {test} bars; walk-forward needs at least 2 per fold (raise --test-fraction)")]
    NoHeldOut { mode: String, fold: usize, test: usize },
    /// A `--pbo` block count that CSCV cannot use.
    #[error("--pbo {0}: the number of blocks must be an even number from 2 to 24")]
    InvalidBlocks(usize),
    /// Too few strategies or observations for CSCV.
    #[error("PBO needs {what}")]
    PboInput { what: String },
}
