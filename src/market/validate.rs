//! Validation of loaded bars: finite, non-negative, consistent OHLC, strictly increasing time.

use super::{Bars, MarketError};

/// Checks every bar; the first problem found is returned as an error naming `file`, the
/// 1-based data row and the field. Rules: at least one bar; all prices and volumes finite
/// and non-negative; `high >= max(open, close)`, `low <= min(open, close)`; timestamps
/// strictly increasing (no duplicates, no out-of-order rows).
pub fn validate_bars(file: &str, bars: &Bars) -> Result<(), MarketError> {
    if bars.is_empty() {
        return Err(MarketError::Empty { file: file.to_string() });
    }
    for i in 0..bars.len() {
        let row = i + 1;
        let fields = [
            ("open", bars.open[i]),
            ("high", bars.high[i]),
            ("low", bars.low[i]),
            ("close", bars.close[i]),
            ("volume", bars.volume[i]),
        ];
        for (name, v) in fields {
            if !v.is_finite() {
                return Err(MarketError::field(
                    file,
                    row,
                    name,
                    format!("value {v} is not a finite number"),
                ));
            }
            if v < 0.0 {
                return Err(MarketError::field(file, row, name, format!("value {v} is negative")));
            }
        }
        let (o, h, l, c) = (bars.open[i], bars.high[i], bars.low[i], bars.close[i]);
        if h < o.max(c) {
            return Err(MarketError::field(
                file,
                row,
                "high",
                format!("high {h} is below max(open, close) = {}", o.max(c)),
            ));
        }
        if l > o.min(c) {
            return Err(MarketError::field(
                file,
                row,
                "low",
                format!("low {l} is above min(open, close) = {}", o.min(c)),
            ));
        }
        if i > 0 {
            let (prev, t) = (bars.timestamp_ms[i - 1], bars.timestamp_ms[i]);
            if t == prev {
                return Err(MarketError::field(
                    file,
                    row,
                    "timestamp",
                    "duplicate timestamp (same as the previous row)",
                ));
            }
            if t < prev {
                return Err(MarketError::field(
                    file,
                    row,
                    "timestamp",
                    "timestamp is earlier than the previous row's (rows must be in time order)",
                ));
            }
        }
    }
    Ok(())
}
