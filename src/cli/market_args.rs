//! The market-data flags shared by every subcommand that reads bars: `--data`, `--funding`, `--symbol/--timeframe`.

use std::path::PathBuf;

use evoflow::market::{self, DataSpec, MarketData};
use evoflow::storage::{open_storage, OpenMode, StorageConfig, TimeRange};

use super::UsageError;

/// Where to read bars (and optionally funding rates) from.
#[derive(clap::Args, Debug, Clone)]
pub struct MarketArgs {
    /// Bars: `sample:goog-1d`, `sample:eurusd-1h`, or a .csv/.json/.parquet/.duckdb[#TABLE] file.
    #[arg(long, value_name = "PATH|sample:NAME")]
    pub data: Option<String>,
    /// Perp funding rates: Hyperliquid fundingHistory JSON or CSV `timestamp,rate`.
    #[arg(long, value_name = "FILE")]
    pub funding: Option<PathBuf>,
    /// Read bars of this symbol from the configured storage (with --timeframe).
    #[arg(long, requires = "timeframe", conflicts_with = "data")]
    pub symbol: Option<String>,
    /// Timeframe of the bars to read from storage, e.g. 1h or 1d (with --symbol).
    #[arg(long, requires = "symbol")]
    pub timeframe: Option<String>,
}

impl MarketArgs {
    /// Loads the bars (and funding) the flags name; `default_sample` when none is given.
    /// `--symbol/--timeframe` read from the storage configured by the environment
    /// (`EVOFLOW_STORAGE`, `EVOFLOW_DB`, `EVOFLOW_SHARED_DIR`, ...).
    pub fn load(&self, default_sample: Option<&str>) -> anyhow::Result<MarketData> {
        self.load_from(default_sample, None)
    }

    /// A short description of where the bars come from: `sample:NAME`, the path, or
    /// `storage:SYMBOL/TIMEFRAME`, followed by ` --funding PATH` when funding rates are given
    /// (what a run stores as its data source; [`evoflow::run::StoredData::parse`] reads it).
    pub fn label(&self, default_sample: Option<&str>) -> String {
        let bars = match (&self.symbol, &self.timeframe, &self.data, default_sample) {
            (Some(s), Some(t), _, _) => format!("storage:{s}/{t}"),
            (_, _, Some(d), _) => d.clone(),
            (_, _, None, Some(s)) => format!("sample:{s}"),
            _ => String::new(),
        };
        match &self.funding {
            Some(f) => format!("{bars}{}{}", evoflow::run::FUNDING_SEPARATOR, f.display()),
            None => bars,
        }
    }

    /// Like [`MarketArgs::load`], with `--symbol/--timeframe` read from `storage` when given
    /// (commands that also take the storage flags pass their validated configuration).
    pub fn load_from(
        &self,
        default_sample: Option<&str>,
        storage: Option<&StorageConfig>,
    ) -> anyhow::Result<MarketData> {
        if let (Some(symbol), Some(timeframe)) = (&self.symbol, &self.timeframe) {
            let config = match storage {
                Some(c) => c.clone(),
                None => StorageConfig::from_env()?,
            };
            let store = open_storage(&config, OpenMode::ReadOnly)?;
            let mut data = store.read_market(symbol, timeframe, TimeRange::all())?;
            if let Some(path) = &self.funding {
                data.funding = Some(market::load_funding_file(path)?);
            }
            return Ok(data);
        }
        let spec = match (&self.data, default_sample) {
            (Some(d), _) => DataSpec::parse(d),
            (None, Some(s)) => DataSpec::Sample(s.to_string()),
            (None, None) => return Err(UsageError("--data PATH|sample:NAME is required".into()).into()),
        };
        Ok(market::load(&spec, self.funding.as_deref())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_and_timeframe_read_from_the_configured_storage() {
        let dir = tempfile::tempdir().unwrap();
        let hourly = market::sample::load_sample("eurusd-1h").unwrap().bars;
        for config in [
            StorageConfig::local(dir.path().join("e.duckdb")),
            StorageConfig::shared(dir.path()),
        ] {
            open_storage(&config, OpenMode::ReadWrite)
                .unwrap()
                .write_bars("EURUSD", "1h", &hourly)
                .unwrap();
            let args = MarketArgs {
                data: None,
                funding: None,
                symbol: Some("EURUSD".into()),
                timeframe: Some("1h".into()),
            };
            let data = args.load_from(None, Some(&config)).unwrap();
            assert_eq!(data.bars, hourly);
            assert_eq!(data.source, format!("storage:{}:EURUSD/1h", config.backend));
            let missing = MarketArgs {
                symbol: Some("NOPE".into()),
                ..args
            };
            let err = missing.load_from(None, Some(&config)).unwrap_err();
            assert!(
                err.to_string().contains("no bars") && super::super::exit_code(&err) == 2,
                "{err:#}"
            );
        }
    }
}
