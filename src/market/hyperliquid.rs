//! Hyperliquid `candleSnapshot` and `fundingHistory` JSON (prices and rates as strings).

use serde::Deserialize;
use serde_json::Value;

use super::{validate_bars, Bars, FundingRates, MarketError};

/// One `candleSnapshot` element: `t` open time (ms), `T` close time, `s` coin, `i` interval,
/// `o/c/h/l/v` decimal strings, `n` number of trades.
#[derive(Deserialize)]
struct Candle {
    t: Value,
    o: Value,
    h: Value,
    l: Value,
    c: Value,
    v: Value,
}

/// One `fundingHistory` element: `coin`, `fundingRate`, `premium` (strings), `time` (ms).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Funding {
    funding_rate: Value,
    time: Value,
}

fn number(file: &str, row: usize, field: &str, v: &Value) -> Result<f64, MarketError> {
    let parsed = match v {
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    };
    parsed.ok_or_else(|| MarketError::field(file, row, field, format!("`{v}` is not a number")))
}

fn time_ms(file: &str, row: usize, field: &str, v: &Value) -> Result<i64, MarketError> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| MarketError::field(file, row, field, format!("`{v}` is not an integer millisecond time")))
}

fn array(file: &str, text: &str) -> Result<Vec<Value>, MarketError> {
    let value: Value = serde_json::from_str(text).map_err(|e| MarketError::Format {
        file: file.to_string(),
        message: format!("invalid JSON: {e}"),
    })?;
    match value {
        Value::Array(items) => Ok(items),
        _ => Err(MarketError::Format {
            file: file.to_string(),
            message: "expected a JSON array".into(),
        }),
    }
}

fn element<T: for<'de> Deserialize<'de>>(file: &str, row: usize, item: Value, what: &str) -> Result<T, MarketError> {
    serde_json::from_value(item).map_err(|e| {
        let msg = e.to_string();
        let field = msg.split('`').nth(1).unwrap_or(what).to_string();
        MarketError::InvalidField {
            file: file.to_string(),
            row,
            field,
            message: msg,
        }
    })
}

/// Parses and validates a Hyperliquid `candleSnapshot` response into bars.
pub fn parse_hyperliquid_candles(file: &str, text: &str) -> Result<Bars, MarketError> {
    let items = array(file, text)?;
    let mut bars = Bars::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let row = i + 1;
        let c: Candle = element(file, row, item, "candle")?;
        bars.push(
            time_ms(file, row, "t", &c.t)?,
            number(file, row, "o", &c.o)?,
            number(file, row, "h", &c.h)?,
            number(file, row, "l", &c.l)?,
            number(file, row, "c", &c.c)?,
            number(file, row, "v", &c.v)?,
        );
    }
    validate_bars(file, &bars)?;
    Ok(bars)
}

/// Parses and validates a Hyperliquid `fundingHistory` response into funding rates
/// (finite rates, strictly increasing times).
pub fn parse_hyperliquid_funding(file: &str, text: &str) -> Result<FundingRates, MarketError> {
    let items = array(file, text)?;
    if items.is_empty() {
        return Err(MarketError::Empty { file: file.to_string() });
    }
    let mut out = FundingRates::default();
    for (i, item) in items.into_iter().enumerate() {
        let row = i + 1;
        let f: Funding = element(file, row, item, "funding")?;
        let t = time_ms(file, row, "time", &f.time)?;
        let r = number(file, row, "fundingRate", &f.funding_rate)?;
        if !r.is_finite() {
            return Err(MarketError::field(file, row, "fundingRate", "not a finite number"));
        }
        if let Some(&prev) = out.time_ms.last() {
            if t <= prev {
                return Err(MarketError::field(
                    file,
                    row,
                    "time",
                    "not later than the previous row's time",
                ));
            }
        }
        out.time_ms.push(t);
        out.rate.push(r);
    }
    Ok(out)
}

/// True when the JSON text looks like a funding history rather than candles.
pub(super) fn looks_like_funding(text: &str) -> bool {
    text.contains("\"fundingRate\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_candles_and_funding() {
        let candles = r#"[{"t":1700000000000,"T":1700003599999,"s":"BTC","i":"1h","o":"100.5","c":"101","h":"102","l":"99","v":"12.5","n":40},
                          {"t":1700003600000,"T":1700007199999,"s":"BTC","i":"1h","o":"101","c":"100","h":"101.5","l":"99.5","v":"3","n":7}]"#;
        let bars = parse_hyperliquid_candles("c.json", candles).unwrap();
        assert_eq!(bars.len(), 2);
        assert_eq!(bars.open[0], 100.5);
        let funding = r#"[{"coin":"BTC","fundingRate":"0.0000125","premium":"-0.0001","time":1700000000076}]"#;
        let f = parse_hyperliquid_funding("f.json", funding).unwrap();
        assert_eq!((f.time_ms[0], f.rate[0]), (1_700_000_000_076, 0.0000125));
        assert!(looks_like_funding(funding) && !looks_like_funding(candles));
    }

    #[test]
    fn bad_candle_names_row_and_field() {
        let bad =
            r#"[{"t":1,"o":"1","c":"1","h":"1","l":"1","v":"1"},{"t":2,"o":"1","c":"x","h":"1","l":"1","v":"1"}]"#;
        let e = parse_hyperliquid_candles("c.json", bad).unwrap_err().to_string();
        assert_eq!(e, "c.json: row 2, field `c`: `\"x\"` is not a number");
        let missing = r#"[{"t":1,"o":"1","c":"1","h":"1","l":"1"}]"#;
        assert!(parse_hyperliquid_candles("c.json", missing)
            .unwrap_err()
            .to_string()
            .contains("row 1, field `v`"));
    }
}
