//! Errors of the Hyperliquid fetch; each names the request (type, coin, interval, time range, URL) it is about.

use crate::market::MarketError;
use crate::storage::StorageError;

/// A fetch error. `request` describes the request, e.g.
/// `candleSnapshot BTC 1h 2024-01-01T00:00:00Z..2024-02-01T00:00:00Z (POST https://api.hyperliquid.xyz/info)`.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A flag value that cannot be fetched (interval, time range, URL).
    #[error("{0}")]
    Usage(String),
    /// Network failures, timeouts, HTTP 429 or 5xx on every one of the allowed tries.
    #[error("{request}: failed after {tries} tries: {message}")]
    Unreachable {
        request: String,
        tries: u32,
        message: String,
    },
    /// An HTTP error status that retrying cannot fix (4xx other than 429).
    #[error("{request}: HTTP {status}: {body}")]
    Status { request: String, status: u16, body: String },
    /// A response that is not the JSON the request asks for.
    #[error("{request}: malformed response: {message}")]
    Malformed { request: String, message: String },
    /// The API has no candles for the coin and interval in the range: unknown coin or interval.
    #[error("{request}: the API returned no candles (unknown coin or interval, or no trading in the range?)")]
    Empty { request: String },
    /// Writing the fetched data to storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl FetchError {
    /// True for errors caused by what the user asked for (exit status 2): bad flags, an
    /// unknown coin or interval, a 4xx answer, or a storage error that is bad input.
    pub fn is_bad_input(&self) -> bool {
        match self {
            FetchError::Usage(_) | FetchError::Status { .. } | FetchError::Empty { .. } => true,
            FetchError::Storage(e) => e.is_bad_input(),
            FetchError::Unreachable { .. } | FetchError::Malformed { .. } => false,
        }
    }

    pub(crate) fn malformed(request: &str, e: MarketError) -> Self {
        FetchError::Malformed {
            request: request.to_string(),
            message: e.to_string(),
        }
    }
}
