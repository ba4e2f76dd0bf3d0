//! `--data` specs (`sample:NAME` or a file path) and dispatch to the loader for each format.

use std::path::{Path, PathBuf};

use super::hyperliquid::looks_like_funding;
use super::{
    duckdb_loader, funding_csv, parse_bars_csv, parse_hyperliquid_candles, parse_hyperliquid_funding, sample, Bars,
    FundingRates, MarketData, MarketError,
};

/// Where bars come from: an embedded sample or a file. Files are read by extension:
/// `.csv`, `.json` (Hyperliquid candles), `.parquet`, and `.duckdb`/`.db` with an optional
/// `#TABLE` suffix (default table `bars`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSpec {
    Sample(String),
    File(PathBuf),
}

impl DataSpec {
    /// Parses `sample:NAME` or a path.
    pub fn parse(text: &str) -> DataSpec {
        match text.strip_prefix("sample:") {
            Some(name) => DataSpec::Sample(name.to_string()),
            None => DataSpec::File(PathBuf::from(text)),
        }
    }
}

impl std::fmt::Display for DataSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataSpec::Sample(n) => write!(f, "sample:{n}"),
            DataSpec::File(p) => write!(f, "{}", p.display()),
        }
    }
}

fn extension(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let name = name.split('#').next().unwrap_or("").to_string();
    Path::new(&name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn read_text(path: &Path) -> Result<String, MarketError> {
    std::fs::read_to_string(path).map_err(|error| MarketError::Io {
        file: path.display().to_string(),
        error,
    })
}

/// Loads and validates the bars a spec names, optionally with funding rates from a second file.
pub fn load(spec: &DataSpec, funding: Option<&Path>) -> Result<MarketData, MarketError> {
    let mut data = match spec {
        DataSpec::Sample(name) => sample::load_sample(name)?,
        DataSpec::File(path) => MarketData::new(path.display().to_string(), load_bars_file(path)?),
    };
    if let Some(path) = funding {
        data.funding = Some(load_funding_file(path)?);
    }
    Ok(data)
}

/// Loads bars from a file, choosing the reader by extension.
pub fn load_bars_file(path: &Path) -> Result<Bars, MarketError> {
    let file = path.display().to_string();
    match extension(path).as_str() {
        "csv" | "txt" => parse_bars_csv(&file, &read_text(path)?),
        "json" => {
            let text = read_text(path)?;
            if looks_like_funding(&text) {
                return Err(MarketError::Format {
                    file,
                    message: "this is a funding history; pass it with --funding, not --data".into(),
                });
            }
            parse_hyperliquid_candles(&file, &text)
        }
        "parquet" | "duckdb" | "db" => duckdb_loader::read_bars_table(path),
        other => Err(MarketError::Format {
            file,
            message: format!("unsupported extension `{other}` (expected .csv, .json, .parquet or .duckdb)"),
        }),
    }
}

/// Loads funding rates: Hyperliquid `fundingHistory` JSON, or CSV `timestamp,rate`.
pub fn load_funding_file(path: &Path) -> Result<FundingRates, MarketError> {
    let file = path.display().to_string();
    let text = read_text(path)?;
    match extension(path).as_str() {
        "json" => parse_hyperliquid_funding(&file, &text),
        _ => funding_csv::parse_funding_csv(&file, &text),
    }
}
