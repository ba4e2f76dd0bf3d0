//! Storage: one trait for market data, runs, results, checkpoints and the fitness cache, with a local DuckDB backend and a shared-directory backend.
//!
//! The backend is chosen by configuration ([`StorageConfig::from_env`], CLI overrides), never
//! by code: [`open_storage`] returns a `Box<dyn Storage>`. See `docs/storage.md` for the
//! schema and the on-disk layout.
//!
//! ```
//! use evoflow::storage::{open_storage, OpenMode, StorageConfig, TimeRange};
//! use evoflow::market::sample::load_sample;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let config = StorageConfig::local(dir.path().join("evoflow.duckdb"));
//! let mut storage = open_storage(&config, OpenMode::ReadWrite).unwrap();
//! let bars = load_sample("goog-1d").unwrap().bars;
//! storage.write_bars("GOOG", "1d", &bars).unwrap();
//! assert_eq!(storage.read_bars("GOOG", "1d", TimeRange::all()).unwrap(), bars);
//! ```

mod batch;
mod config;
mod db;
mod error;
mod fsutil;
mod health;
mod local;
mod lock;
mod market_db;
mod postgres;
mod records;
mod results;
mod run_status;
mod schema;
mod shared;

use std::path::Path;

pub use batch::GenerationWrite;
pub use config::{BackendKind, OpenMode, StorageConfig, StorageOverrides, DEFAULT_DB, SHARED_RESULTS_DB};
pub use error::StorageError;
pub use health::{check_health, check_location, HealthCheck, HealthReport, HealthStatus};
pub use local::LocalStorage;
pub use lock::{lock_path_for, WriterLock};
pub use postgres::{PgUrl, PostgresStorage, SslMode, PG_SCHEMA_VERSION};
pub use records::{
    fnv1a64, genome_hash, market_fingerprint, Checkpoint, DatasetInfo, FitnessKey, GenerationRecord, HallOfFameRecord,
    IndividualRecord, RunRecord, RunStatus, TimeRange,
};
pub use run_status::{read_run_overview, read_run_overviews, status_dir_for, GenerationTiming, RunOverview};
pub use schema::{SCHEMA_VERSION, TABLES};
pub use shared::SharedStorage;

use crate::market::{Bars, FundingRates, MarketData};

/// Everything evoflow stores. Implemented by [`LocalStorage`] and [`SharedStorage`]; the
/// same contract tests run against both. Writes need [`OpenMode::ReadWrite`]; a storage
/// opened read-only returns [`StorageError::OpenedReadOnly`] for them.
pub trait Storage: Send {
    /// Which backend this is.
    fn backend(&self) -> BackendKind;
    /// The database file (local) or directory (shared).
    fn location(&self) -> &Path;

    // ----- market data -----

    /// Stores validated bars of `symbol`/`timeframe`, replacing stored bars over the time
    /// span of `bars` (bars outside it are kept). Atomic: readers and crashes see the old
    /// series or the new one. Returns the number of bars written.
    fn write_bars(&mut self, symbol: &str, timeframe: &str, bars: &Bars) -> Result<usize, StorageError>;
    /// Stores funding rates of `symbol`/`timeframe`, replacing stored ones over their span.
    fn write_funding(&mut self, symbol: &str, timeframe: &str, funding: &FundingRates) -> Result<usize, StorageError>;
    /// Bars in `range`, in time order; [`StorageError::NoData`] when none are stored.
    fn read_bars(&self, symbol: &str, timeframe: &str, range: TimeRange) -> Result<Bars, StorageError>;
    /// Funding rates in `range`; `None` when no funding is stored for the series.
    fn read_funding(
        &self,
        symbol: &str,
        timeframe: &str,
        range: TimeRange,
    ) -> Result<Option<FundingRates>, StorageError>;
    /// Every stored series, ordered by symbol then timeframe.
    fn list_market(&self) -> Result<Vec<DatasetInfo>, StorageError>;
    /// Deletes a series (bars and funding); true when something was stored.
    fn delete_market(&mut self, symbol: &str, timeframe: &str) -> Result<bool, StorageError>;

    /// Bars (and funding, if stored) in `range` as [`MarketData`] whose source names the
    /// storage, e.g. `storage:local:BTC/1h`.
    fn read_market(&self, symbol: &str, timeframe: &str, range: TimeRange) -> Result<MarketData, StorageError> {
        let bars = self.read_bars(symbol, timeframe, range)?;
        let funding = self.read_funding(symbol, timeframe, range)?;
        Ok(MarketData {
            source: format!("storage:{}:{symbol}/{timeframe}", self.backend()),
            bars,
            funding,
        })
    }

    // ----- runs and results (one writer) -----

    /// Takes the results database for writing now (the single-writer lock), so that a
    /// coordinator fails at start, not at its first write, when another process holds it.
    fn claim_writer(&mut self) -> Result<(), StorageError>;
    /// Inserts a new run (normally with status `Running`); an existing id is an error.
    fn create_run(&mut self, run: &RunRecord) -> Result<(), StorageError>;
    /// Marks a run `Completed` or `Failed` at `ended_at_ms`. Call it after the run's last write.
    fn finish_run(&mut self, run_id: &str, status: RunStatus, ended_at_ms: i64) -> Result<(), StorageError>;
    /// Marks a run `Failed` at `ended_at_ms` and keeps `error`, the reason, for
    /// [`read_run_overviews`] (`runs show`).
    fn fail_run(&mut self, run_id: &str, error: &str, ended_at_ms: i64) -> Result<(), StorageError>;
    /// One run, if stored.
    fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, StorageError>;
    /// All runs, oldest first.
    fn list_runs(&self) -> Result<Vec<RunRecord>, StorageError>;
    /// Deletes a run with its generations, individuals, hall of fame and checkpoints.
    fn delete_run(&mut self, run_id: &str) -> Result<(), StorageError>;
    /// Stores one generation's statistics and evaluated individuals atomically, replacing
    /// an earlier attempt at the same generation (as after a resume).
    fn record_generation(
        &mut self,
        stats: &GenerationRecord,
        individuals: &[IndividualRecord],
    ) -> Result<(), StorageError>;
    /// Stores several generations, each with the checkpoint that follows it, in one
    /// transaction: all of them or none (a crash mid-write leaves the generations committed
    /// before, never part of one). Earlier attempts at the same generations are replaced.
    /// `evolve`'s writer hands over every generation queued since its last write (a group
    /// commit), so storage keeps up with fast generations at one commit per write.
    fn record_generations(&mut self, batch: &[GenerationWrite]) -> Result<(), StorageError>;
    /// Replaces a run's hall of fame and marks it `Completed` at `ended_at_ms`, in one transaction.
    fn complete_run(
        &mut self,
        run_id: &str,
        entries: &[HallOfFameRecord],
        ended_at_ms: i64,
    ) -> Result<(), StorageError>;
    /// A run's generation statistics in generation order.
    fn read_generations(&self, run_id: &str) -> Result<Vec<GenerationRecord>, StorageError>;
    /// A run's individuals, of one generation or all, in generation then write order.
    fn read_individuals(&self, run_id: &str, generation: Option<u32>) -> Result<Vec<IndividualRecord>, StorageError>;
    /// Replaces a run's hall of fame.
    fn write_hall_of_fame(&mut self, run_id: &str, entries: &[HallOfFameRecord]) -> Result<(), StorageError>;
    /// A run's hall of fame, rank order.
    fn read_hall_of_fame(&self, run_id: &str) -> Result<Vec<HallOfFameRecord>, StorageError>;
    /// Stores a checkpoint atomically (a crash leaves the previous one readable, never a
    /// torn one), replacing an earlier one of the same run and generation.
    fn write_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StorageError>;
    /// The checkpoint of `generation`, or the latest one when `None`; its checksum is verified.
    fn read_checkpoint(&self, run_id: &str, generation: Option<u32>) -> Result<Option<Checkpoint>, StorageError>;
    /// The cached fitness of a genome on some data under some objective.
    fn cache_get(&self, key: &FitnessKey) -> Result<Option<f64>, StorageError>;
    /// Caches fitnesses (finite values only; the last value wins for a repeated key).
    fn cache_put(&mut self, entries: &[(FitnessKey, f64)]) -> Result<(), StorageError>;

    // ----- health -----

    /// Exercises the real write and read paths in a scratch namespace (bars round trip,
    /// window query, checkpoint round trip) and cleans up. See [`check_health`] for the
    /// full check including the location.
    fn health_check(&mut self) -> Vec<HealthCheck>;
}

/// Opens the configured backend. Read-write opens of the local backend take the
/// single-writer lock at once; the shared backend takes it at the first results access
/// (or [`Storage::claim_writer`]), so market-data imports and readers never contend with
/// the coordinator.
pub fn open_storage(config: &StorageConfig, mode: OpenMode) -> Result<Box<dyn Storage>, StorageError> {
    match (config.backend, &config.shared_dir) {
        (BackendKind::Local, _) => Ok(Box::new(LocalStorage::open(&config.db_path, mode)?)),
        (BackendKind::Shared, Some(dir)) => Ok(Box::new(SharedStorage::open(dir, mode)?)),
        (BackendKind::Shared, None) => Err(StorageError::Config("the shared backend needs a directory".into())),
        (BackendKind::Postgres, _) => match &config.pg_url {
            Some(url) => Ok(Box::new(PostgresStorage::open(url, mode)?)),
            None => Err(StorageError::Config("the postgres backend needs --pg-url".into())),
        },
    }
}

/// Checks a symbol, timeframe or run id: 1 to 128 characters from `A-Z a-z 0-9 _ - . @`,
/// not starting with `.` (names become file and directory names in the shared backend).
pub fn validate_name(what: &'static str, value: &str) -> Result<(), StorageError> {
    let bad = |reason: &str| {
        Err(StorageError::InvalidName {
            what,
            value: value.to_string(),
            reason: reason.to_string(),
        })
    };
    if value.is_empty() || value.len() > 128 {
        return bad("must be 1 to 128 characters");
    }
    if value.starts_with('.') {
        return bad("must not start with `.`");
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@')))
    {
        return bad(&format!(
            "character `{c}` is not allowed (use A-Z, a-z, 0-9, _, -, ., @)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(validate_name("symbol", "BTC-USD_1.x@2").is_ok());
        for bad in ["", ".hidden", "a/b", "a b", "é", &"x".repeat(129)] {
            assert!(validate_name("symbol", bad).is_err(), "{bad}");
        }
        let e = validate_name("symbol", "BTC/USDT").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid symbol `BTC/USDT`: character `/` is not allowed (use A-Z, a-z, 0-9, _, -, ., @)"
        );
    }
}
