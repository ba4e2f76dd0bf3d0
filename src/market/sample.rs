//! Real sample data compiled into the binary: `sample:goog-1d` (daily) and `sample:eurusd-1h` (hourly).

use super::{parse_bars_csv, MarketData, MarketError};

/// Name and CSV text of each embedded sample.
const SAMPLES: [(&str, &str); 2] = [
    ("goog-1d", include_str!("samples/goog_daily.csv")),
    ("eurusd-1h", include_str!("samples/eurusd_hourly.csv")),
];

/// The default sample for commands run without `--data`.
pub const DEFAULT_SAMPLE: &str = "eurusd-1h";

/// Names of the embedded samples.
pub fn names() -> Vec<&'static str> {
    SAMPLES.iter().map(|(n, _)| *n).collect()
}

/// Loads an embedded sample by name (without the `sample:` prefix).
pub fn load_sample(name: &str) -> Result<MarketData, MarketError> {
    let (_, text) = SAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| MarketError::UnknownSample {
            name: name.to_string(),
            known: names().join(", "),
        })?;
    let source = format!("sample:{name}");
    let bars = parse_bars_csv(&source, text)?;
    Ok(MarketData::new(source, bars))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_samples_load_and_validate() {
        assert_eq!(load_sample("goog-1d").unwrap().bars.len(), 2148);
        assert_eq!(load_sample("eurusd-1h").unwrap().bars.len(), 5000);
        assert!(load_sample("nope").is_err());
    }
}
