//! Exchange clients feeding storage: the Hyperliquid info API (candles, funding), paged, retried, incremental.
//!
//! [`fetch_into`] plans the ranges storage lacks ([`missing_ranges`]), asks an
//! [`InfoClient`] for them page by page (at most 5,000 candles or 500 funding rows a
//! response) and writes every page as it arrives. The client retries HTTP 429, 5xx,
//! timeouts and dropped connections with exponential backoff and jitter, honouring
//! `Retry-After`, up to a bounded number of tries ([`RetryPolicy`]).

mod client;
mod error;
mod interval;
mod pages;
mod plan;
mod retry;
mod sync;

pub use client::{InfoClient, MAINNET_URL, TESTNET_URL};
pub use error::FetchError;
pub use interval::{interval_ms, INTERVALS};
pub use pages::{CANDLE_PAGE_CAP, FUNDING_PAGE_CAP};
pub use plan::{find_gaps, missing_ranges, Gap, Range};
pub use retry::RetryPolicy;
pub use sync::{fetch_into, FetchReport, Progress};

use crate::storage::validate_name;

/// A validated fetch: the coin (stored as the symbol), the interval (stored as the
/// timeframe), the inclusive time range in UTC ms, and whether funding rates come too.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchConfig {
    pub coin: String,
    pub interval: String,
    pub interval_ms: i64,
    pub since_ms: i64,
    pub until_ms: i64,
    pub funding: bool,
}

impl FetchConfig {
    /// Checks the coin (a storable symbol), the interval (a Hyperliquid interval) and the
    /// range (`since < until`).
    pub fn new(coin: &str, interval: &str, since_ms: i64, until_ms: i64, funding: bool) -> Result<Self, FetchError> {
        validate_name("symbol", coin)?;
        let interval_ms = interval_ms(interval)?;
        if since_ms >= until_ms {
            return Err(FetchError::Usage(format!(
                "--since {} is not before --until {}",
                crate::market::format_timestamp_ms(since_ms),
                crate::market::format_timestamp_ms(until_ms)
            )));
        }
        Ok(FetchConfig {
            coin: coin.to_string(),
            interval: interval.to_string(),
            interval_ms,
            since_ms,
            until_ms,
            funding,
        })
    }
}
