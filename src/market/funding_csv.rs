//! CSV funding-rate loader: header `timestamp,rate` (`funding_rate`/`fundingRate` also accepted).

use super::{parse_timestamp_ms, FundingRates, MarketError};

/// Parses CSV funding rates; errors name the file, 1-based row and field.
pub fn parse_funding_csv(file: &str, text: &str) -> Result<FundingRates, MarketError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| MarketError::Format {
            file: file.to_string(),
            message: format!("cannot read the header: {e}"),
        })?
        .clone();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let missing = |c: &str| MarketError::MissingColumn {
        file: file.to_string(),
        column: c.to_string(),
    };
    let t_col = find(&["timestamp", "time"]).ok_or_else(|| missing("timestamp"))?;
    let r_col = find(&["rate", "funding_rate", "fundingRate"]).ok_or_else(|| missing("rate"))?;
    let mut out = FundingRates::default();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        let record = record.map_err(|e| MarketError::Format {
            file: file.to_string(),
            message: format!("row {row}: {e}"),
        })?;
        let t = parse_timestamp_ms(record.get(t_col).unwrap_or(""))
            .map_err(|m| MarketError::field(file, row, "timestamp", m))?;
        let s = record.get(r_col).unwrap_or("");
        let r: f64 = s
            .parse()
            .map_err(|_| MarketError::field(file, row, "rate", format!("`{s}` is not a number")))?;
        if !r.is_finite() {
            return Err(MarketError::field(file, row, "rate", "not a finite number"));
        }
        if out.time_ms.last().is_some_and(|&p| t <= p) {
            return Err(MarketError::field(
                file,
                row,
                "timestamp",
                "not later than the previous row's time",
            ));
        }
        out.time_ms.push(t);
        out.rate.push(r);
    }
    if out.is_empty() {
        return Err(MarketError::Empty { file: file.to_string() });
    }
    Ok(out)
}
