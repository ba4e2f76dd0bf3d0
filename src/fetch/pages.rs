//! One response page of `candleSnapshot` or `fundingHistory`, parsed, checked and trimmed to its request's range.

use serde_json::Value;

use super::FetchError;
use crate::market::{parse_hyperliquid_candles, parse_hyperliquid_funding, Bars, FundingRates};

/// The most candles one `candleSnapshot` response holds.
pub const CANDLE_PAGE_CAP: usize = 5_000;
/// The most rows one `fundingHistory` response holds.
pub const FUNDING_PAGE_CAP: usize = 500;

/// A candle page: the closed candles within the request's range, how many the server
/// sent, the open time of the last one, and how many were still open (close time in the future).
pub struct CandlePage {
    pub closed: Bars,
    pub served: usize,
    pub last_open_ms: Option<i64>,
    pub open_dropped: usize,
}

/// A funding page: the rates within the request's range, how many rows the server sent,
/// and the time of the last one.
pub struct FundingPage {
    pub rates: FundingRates,
    pub served: usize,
    pub last_ms: Option<i64>,
}

fn items(request: &str, text: &str) -> Result<Vec<Value>, FetchError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(other) => Err(FetchError::Malformed {
            request: request.to_string(),
            message: format!(
                "expected a JSON array, got {}",
                other.to_string().chars().take(200).collect::<String>()
            ),
        }),
        Err(e) => Err(FetchError::Malformed {
            request: request.to_string(),
            message: format!("invalid JSON: {e}"),
        }),
    }
}

/// Parses a `candleSnapshot` response for the range `[start_ms, end_ms]`; a candle whose
/// close time `T` (or, without one, open time + interval) is not before `now_ms` is still
/// open and is dropped.
pub fn candle_page(
    request: &str,
    text: &str,
    range: (i64, i64),
    interval_ms: i64,
    now_ms: i64,
) -> Result<CandlePage, FetchError> {
    let items = items(request, text)?;
    if items.is_empty() {
        return Ok(CandlePage {
            closed: Bars::default(),
            served: 0,
            last_open_ms: None,
            open_dropped: 0,
        });
    }
    let bars = parse_hyperliquid_candles(request, text).map_err(|e| FetchError::malformed(request, e))?;
    let mut closed = Bars::with_capacity(bars.len());
    let mut open_dropped = 0;
    for (i, item) in items.iter().enumerate() {
        let t = bars.timestamp_ms[i];
        let close = item.get("T").and_then(Value::as_i64).unwrap_or(t + interval_ms - 1);
        if t < range.0 || t > range.1 {
            continue;
        }
        if close >= now_ms {
            open_dropped += 1;
            continue;
        }
        closed.push(
            t,
            bars.open[i],
            bars.high[i],
            bars.low[i],
            bars.close[i],
            bars.volume[i],
        );
    }
    Ok(CandlePage {
        closed,
        served: items.len(),
        last_open_ms: bars.timestamp_ms.last().copied(),
        open_dropped,
    })
}

/// Parses a `fundingHistory` response for the range `[start_ms, end_ms]`.
pub fn funding_page(request: &str, text: &str, range: (i64, i64)) -> Result<FundingPage, FetchError> {
    let items = items(request, text)?;
    if items.is_empty() {
        return Ok(FundingPage {
            rates: FundingRates::default(),
            served: 0,
            last_ms: None,
        });
    }
    let all = parse_hyperliquid_funding(request, text).map_err(|e| FetchError::malformed(request, e))?;
    let last_ms = all.time_ms.last().copied();
    Ok(FundingPage {
        rates: all.between(range.0, range.1),
        served: items.len(),
        last_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_and_out_of_range_candles_are_dropped() {
        let text = r#"[{"t":0,"T":9,"o":"1","c":"1","h":"1","l":"1","v":"1"},
                       {"t":10,"T":19,"o":"1","c":"2","h":"2","l":"1","v":"1"},
                       {"t":20,"T":29,"o":"2","c":"2","h":"2","l":"2","v":"1"}]"#;
        let page = candle_page("req", text, (10, 100), 10, 25).unwrap();
        assert_eq!(page.closed.timestamp_ms, vec![10]);
        assert_eq!((page.served, page.last_open_ms, page.open_dropped), (3, Some(20), 1));
        let e = candle_page("req", "[{\"t\":", (0, 1), 10, 0).err().unwrap().to_string();
        assert!(e.starts_with("req: malformed response: invalid JSON"), "{e}");
        let e = candle_page("req", "null", (0, 1), 10, 0).err().unwrap().to_string();
        assert_eq!(e, "req: malformed response: expected a JSON array, got null");
    }
}
