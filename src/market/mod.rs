//! Market data: bars, funding rates, loaders for every supported format, validation, embedded samples.

mod bars;
mod csv_loader;
mod duckdb_loader;
mod error;
mod funding;
mod funding_csv;
mod hyperliquid;
mod source;
mod timestamp;
mod validate;

pub mod sample;

pub use bars::{Bars, MarketData};
pub use csv_loader::{parse_bars_csv, read_bars_csv};
pub use duckdb_loader::read_bars_table;
pub use error::MarketError;
pub use funding::FundingRates;
pub use funding_csv::parse_funding_csv;
pub use hyperliquid::{parse_hyperliquid_candles, parse_hyperliquid_funding};
pub use source::{load, load_bars_file, load_funding_file, DataSpec};
pub use timestamp::{format_timestamp_ms, parse_timestamp_ms};
pub use validate::validate_bars;
