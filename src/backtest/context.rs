//! `BacktestContext`: everything about one market-data set that every backtest on it shares, computed once.

use std::ops::Deref;
use std::sync::Arc;

use crate::market::{format_timestamp_ms, MarketData};

use super::calendar::Calendar;
use super::BacktestError;

/// The market data a context reads: borrowed, or shared through an `Arc` (then the context
/// is `'static` and can move into threads or dataflow operators).
#[derive(Debug, Clone)]
pub(crate) enum DataRef<'a> {
    Borrowed(&'a MarketData),
    Shared(Arc<MarketData>),
}

impl Deref for DataRef<'_> {
    type Target = MarketData;
    fn deref(&self) -> &MarketData {
        match self {
            DataRef::Borrowed(d) => d,
            DataRef::Shared(d) => d,
        }
    }
}

/// Per-data precomputation (calendar groups, centred market log returns, funding per bar).
/// Build it once and run many backtests on it (sweeps, evolution): the per-run cost is then
/// only the simulation itself. `BacktestContext::new(&data)` borrows the data;
/// `BacktestContext::shared(Arc<MarketData>)` gives a `'static`, `Send + Sync` context.
#[derive(Debug, Clone)]
pub struct BacktestContext<'a> {
    pub(crate) data: DataRef<'a>,
    pub(crate) calendar: Calendar,
    /// Number of resampling-period ends in bars `[0, i)`, `n + 1` entries.
    pub(crate) group_end_prefix: Vec<u32>,
    /// Index of the first period end at or after bar `i` (`n` if none), `n + 1` entries.
    pub(crate) next_group_end: Vec<u32>,
    /// `yc[i] = ln(close[i] / close[i-1]) - mean` for i >= 1 (`yc[0] = 0`): the centred market
    /// log returns of backtesting.py's beta.
    pub(crate) yc: Vec<f64>,
    /// `sum(yc^2)`, i.e. `(n - 2) * var(market log returns)`.
    pub(crate) syy: f64,
    /// Funding rate summed per bar: `(bar, rate)` for the bars that hold funding events,
    /// increasing by bar.
    pub(crate) funding: Vec<(usize, f64)>,
    pub(crate) start: String,
    pub(crate) end: String,
}

impl<'a> BacktestContext<'a> {
    /// Checks the bars (at least one; open and close finite and > 0) and precomputes.
    pub fn new(data: &'a MarketData) -> Result<Self, BacktestError> {
        Self::build(DataRef::Borrowed(data))
    }

    fn build(data: DataRef<'a>) -> Result<Self, BacktestError> {
        let bars = &data.bars;
        let n = bars.len();
        if n == 0 || bars.open.len() != n || bars.close.len() != n {
            return Err(BacktestError::NoBars);
        }
        for (field, col) in [("open", &bars.open), ("close", &bars.close)] {
            if let Some((bar, &value)) = col.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v > 0.0)) {
                return Err(BacktestError::BadPrice { bar, field, value });
            }
        }
        let ts = &bars.timestamp_ms;
        let calendar = Calendar::new(ts);

        let mut group_end_prefix = Vec::with_capacity(n + 1);
        let mut count = 0u32;
        group_end_prefix.push(0);
        for &e in &calendar.group_end {
            count += e as u32;
            group_end_prefix.push(count);
        }
        let mut next_group_end = vec![n as u32; n + 1];
        for i in (0..n).rev() {
            next_group_end[i] = if calendar.group_end[i] {
                i as u32
            } else {
                next_group_end[i + 1]
            };
        }

        // Market log returns `np.log(c[1:] / c[:-1])`, centred on their mean.
        let c = &bars.close;
        let mut yc = vec![0.0; n];
        for i in 1..n {
            yc[i] = (c[i] / c[i - 1]).ln();
        }
        let mean = if n > 1 {
            yc[1..].iter().sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        let mut syy = 0.0;
        for y in yc.iter_mut().skip(1) {
            *y -= mean;
            syy += *y * *y;
        }

        let funding = match &data.funding {
            Some(f) => funding_per_bar(ts, &f.time_ms, &f.rate),
            None => Vec::new(),
        };
        let (start, end) = (format_timestamp_ms(ts[0]), format_timestamp_ms(ts[n - 1]));

        Ok(BacktestContext {
            data,
            calendar,
            group_end_prefix,
            next_group_end,
            yc,
            syy,
            funding,
            start,
            end,
        })
    }

    /// Number of bars.
    pub fn len(&self) -> usize {
        self.data.bars.len()
    }

    /// Always false: a context has at least one bar.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The market data.
    pub fn data(&self) -> &MarketData {
        &self.data
    }

    /// backtesting.py's `Buy & Hold Return [%]` after a warm-up of `warmup` bars:
    /// `(close[-1] - close[w]) / close[w] * 100` with `w = min(warmup, n - 1)`, the close of
    /// the first bar at which every indicator is defined.
    pub fn buy_hold_return_pct(&self, warmup: usize) -> f64 {
        let c = &self.data.bars.close;
        let n = c.len();
        let w = warmup.min(n - 1);
        (c[n - 1] - c[w]) / c[w] * 100.0
    }
}

impl BacktestContext<'static> {
    /// A context owning a share of the data: `'static`, so it can be moved into threads
    /// (e.g. one `Arc<BacktestContext<'static>>` for all evaluation workers).
    pub fn shared(data: Arc<MarketData>) -> Result<Self, BacktestError> {
        Self::build(DataRef::Shared(data))
    }
}

/// Assigns each funding event to the bar whose span holds it: bar j spans
/// `[ts[j], ts[j+1])`, the last bar `[ts[n-1], ts[n-1] + (ts[n-1] - ts[n-2]))` (or only its
/// own timestamp when there is one bar). Events outside every span are ignored. Rates of
/// events in the same bar are summed (they are charged on the same notional).
fn funding_per_bar(ts: &[i64], times: &[i64], rates: &[f64]) -> Vec<(usize, f64)> {
    let n = ts.len();
    let last_end = if n > 1 {
        ts[n - 1] + (ts[n - 1] - ts[n - 2])
    } else {
        ts[n - 1] + 1
    };
    let mut out: Vec<(usize, f64)> = Vec::new();
    for (&t, &rate) in times.iter().zip(rates) {
        if t < ts[0] || t >= last_end || !rate.is_finite() {
            continue;
        }
        let bar = ts.partition_point(|&b| b <= t) - 1;
        match out.last_mut() {
            Some((b, r)) if *b == bar => *r += rate,
            _ => out.push((bar, rate)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn funding_events_go_to_the_bar_whose_span_holds_them() {
        let ts = [0, 10, 20, 30];
        let out = funding_per_bar(&ts, &[-5, 0, 5, 10, 25, 39, 40], &[1.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
        assert_eq!(out, vec![(0, 0.1 + 0.2), (1, 0.3), (2, 0.4), (3, 0.5)]);
    }
}
