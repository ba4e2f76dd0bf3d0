//! `Bars` (OHLCV columns with UTC millisecond timestamps) and `MarketData` (bars plus optional funding).

use serde::{Deserialize, Serialize};

use super::FundingRates;

/// OHLCV bars stored column-wise. All columns have the same length; timestamps are UTC
/// milliseconds since the Unix epoch, strictly increasing once validated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bars {
    pub timestamp_ms: Vec<i64>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

impl Bars {
    /// An empty set of bars with room for `n` rows.
    pub fn with_capacity(n: usize) -> Self {
        Bars {
            timestamp_ms: Vec::with_capacity(n),
            open: Vec::with_capacity(n),
            high: Vec::with_capacity(n),
            low: Vec::with_capacity(n),
            close: Vec::with_capacity(n),
            volume: Vec::with_capacity(n),
        }
    }

    /// Appends one bar.
    pub fn push(&mut self, timestamp_ms: i64, open: f64, high: f64, low: f64, close: f64, volume: f64) {
        self.timestamp_ms.push(timestamp_ms);
        self.open.push(open);
        self.high.push(high);
        self.low.push(low);
        self.close.push(close);
        self.volume.push(volume);
    }

    /// Number of bars.
    pub fn len(&self) -> usize {
        self.timestamp_ms.len()
    }

    /// True when there are no bars.
    pub fn is_empty(&self) -> bool {
        self.timestamp_ms.is_empty()
    }

    /// The bars with index in `range` (a copy).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Bars {
        Bars {
            timestamp_ms: self.timestamp_ms[range.clone()].to_vec(),
            open: self.open[range.clone()].to_vec(),
            high: self.high[range.clone()].to_vec(),
            low: self.low[range.clone()].to_vec(),
            close: self.close[range.clone()].to_vec(),
            volume: self.volume[range].to_vec(),
        }
    }
}

/// Bars plus, for perpetual futures, funding rates; `source` names where they came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MarketData {
    pub source: String,
    pub bars: Bars,
    pub funding: Option<FundingRates>,
}

impl MarketData {
    /// Market data without funding.
    pub fn new(source: impl Into<String>, bars: Bars) -> Self {
        MarketData {
            source: source.into(),
            bars,
            funding: None,
        }
    }

    /// The bars with index in `range`, with the funding events that fall inside their time span.
    pub fn slice(&self, range: std::ops::Range<usize>) -> MarketData {
        let bars = self.bars.slice(range);
        let funding = match (&self.funding, bars.timestamp_ms.first(), bars.timestamp_ms.last()) {
            (Some(f), Some(&start), Some(&end)) => Some(f.between(start, end)),
            (Some(f), _, _) => Some(f.between(0, -1)),
            _ => None,
        };
        MarketData {
            source: self.source.clone(),
            bars,
            funding,
        }
    }
}
