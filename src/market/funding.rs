//! Perpetual-futures funding rates: their own time series, not aligned to bar times.

use serde::{Deserialize, Serialize};

/// Funding events: at `time_ms[k]` an open position pays (long) or receives (short)
/// `rate[k]` times its notional. Times are UTC milliseconds, strictly increasing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FundingRates {
    pub time_ms: Vec<i64>,
    pub rate: Vec<f64>,
}

impl FundingRates {
    /// Number of funding events.
    pub fn len(&self) -> usize {
        self.time_ms.len()
    }

    /// True when there are no funding events.
    pub fn is_empty(&self) -> bool {
        self.time_ms.is_empty()
    }

    /// The events with `start_ms <= time <= end_ms` (a copy).
    pub fn between(&self, start_ms: i64, end_ms: i64) -> FundingRates {
        let lo = self.time_ms.partition_point(|&t| t < start_ms);
        let hi = self.time_ms.partition_point(|&t| t <= end_ms).max(lo);
        FundingRates {
            time_ms: self.time_ms[lo..hi].to_vec(),
            rate: self.rate[lo..hi].to_vec(),
        }
    }
}
