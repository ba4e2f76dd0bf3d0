//! The local backend: everything in one DuckDB file (default `./evoflow.duckdb`), one writer at a time.

use std::path::Path;

use super::batch::GenerationWrite;
use super::db::DbFile;
use super::health::{self, ScratchOps};
use super::records::{
    Checkpoint, DatasetInfo, FitnessKey, GenerationRecord, HallOfFameRecord, IndividualRecord, RunRecord, RunStatus,
    TimeRange,
};
use super::{validate_name, BackendKind, HealthCheck, OpenMode, Storage, StorageError};
use crate::market::{validate_bars, Bars, FundingRates};

/// One DuckDB file holding market data and results. Read-write opens hold `PATH.lock`.
#[derive(Debug)]
pub struct LocalStorage {
    db: DbFile,
}

impl LocalStorage {
    /// Opens (read-write: creates if missing) the database file at `path`.
    pub fn open(path: &Path, mode: OpenMode) -> Result<LocalStorage, StorageError> {
        Ok(LocalStorage {
            db: DbFile::open(path, mode)?,
        })
    }

    fn no_data(&self, what: &'static str, symbol: &str, timeframe: &str) -> StorageError {
        StorageError::NoData {
            location: self.db.path.display().to_string(),
            what,
            symbol: symbol.to_string(),
            timeframe: timeframe.to_string(),
        }
    }
}

/// Publishes the runs of a stored batch (see [`super::run_status`]).
pub(crate) fn publish_batch(db: &DbFile, batch: &[GenerationWrite]) -> Result<(), StorageError> {
    let mut runs: Vec<&str> = batch.iter().map(|w| w.stats.run_id.as_str()).collect();
    runs.dedup();
    for run in runs {
        let mut generations: Vec<&GenerationRecord> =
            batch.iter().map(|w| &w.stats).filter(|s| s.run_id == run).collect();
        generations.sort_by_key(|g| g.generation);
        let consecutive = generations.windows(2).all(|w| w[1].generation == w[0].generation + 1);
        if consecutive {
            db.publish_generations(run, &generations)?;
        } else {
            db.publish_status(run, None, false)?;
        }
    }
    Ok(())
}

/// Checks names and bars before a market write.
pub(crate) fn check_series(symbol: &str, timeframe: &str, bars: Option<&Bars>) -> Result<(), StorageError> {
    validate_name("symbol", symbol)?;
    validate_name("timeframe", timeframe)?;
    if let Some(bars) = bars {
        validate_bars(&format!("bars {symbol}/{timeframe}"), bars)?;
    }
    Ok(())
}

/// Checks funding rates before a write: finite rates, strictly increasing times.
pub(crate) fn check_funding(symbol: &str, timeframe: &str, funding: &FundingRates) -> Result<(), StorageError> {
    check_series(symbol, timeframe, None)?;
    if funding.time_ms.len() != funding.rate.len() {
        return Err(StorageError::InvalidInput(
            "funding: times and rates differ in length".into(),
        ));
    }
    for (i, (t, r)) in funding.time_ms.iter().zip(&funding.rate).enumerate() {
        if !r.is_finite() || (i > 0 && *t <= funding.time_ms[i - 1]) {
            return Err(StorageError::InvalidInput(format!(
                "funding {symbol}/{timeframe}: row {}: rate must be finite and times strictly increasing",
                i + 1
            )));
        }
    }
    Ok(())
}

impl Storage for LocalStorage {
    fn backend(&self) -> BackendKind {
        BackendKind::Local
    }

    fn location(&self) -> &Path {
        &self.db.path
    }

    fn write_bars(&mut self, symbol: &str, timeframe: &str, bars: &Bars) -> Result<usize, StorageError> {
        check_series(symbol, timeframe, Some(bars))?;
        self.db.write_bars_table(symbol, timeframe, bars)
    }

    fn write_funding(&mut self, symbol: &str, timeframe: &str, funding: &FundingRates) -> Result<usize, StorageError> {
        check_funding(symbol, timeframe, funding)?;
        self.db.write_funding_table(symbol, timeframe, funding)
    }

    fn read_bars(&self, symbol: &str, timeframe: &str, range: TimeRange) -> Result<Bars, StorageError> {
        check_series(symbol, timeframe, None)?;
        let bars = self.db.read_bars_table(symbol, timeframe, range)?;
        if bars.is_empty() {
            return Err(self.no_data("bars", symbol, timeframe));
        }
        Ok(bars)
    }

    fn read_funding(
        &self,
        symbol: &str,
        timeframe: &str,
        range: TimeRange,
    ) -> Result<Option<FundingRates>, StorageError> {
        check_series(symbol, timeframe, None)?;
        let f = self.db.read_funding_table(symbol, timeframe, range)?;
        if f.is_empty()
            && self
                .db
                .read_funding_table(symbol, timeframe, TimeRange::all())?
                .is_empty()
        {
            return Ok(None);
        }
        Ok(Some(f))
    }

    fn list_market(&self) -> Result<Vec<DatasetInfo>, StorageError> {
        self.db.list_market_tables()
    }

    fn delete_market(&mut self, symbol: &str, timeframe: &str) -> Result<bool, StorageError> {
        check_series(symbol, timeframe, None)?;
        self.db.delete_market_tables(symbol, timeframe)
    }

    fn claim_writer(&mut self) -> Result<(), StorageError> {
        self.db.require_write()
    }

    fn create_run(&mut self, run: &RunRecord) -> Result<(), StorageError> {
        validate_name("run id", &run.run_id)?;
        self.db.create_run(run)?;
        self.db.publish_status(&run.run_id, None, false)
    }

    fn finish_run(&mut self, run_id: &str, status: RunStatus, ended_at_ms: i64) -> Result<(), StorageError> {
        self.db.finish_run(run_id, status, ended_at_ms)?;
        self.db.publish_status(run_id, None, false)
    }

    fn fail_run(&mut self, run_id: &str, error: &str, ended_at_ms: i64) -> Result<(), StorageError> {
        self.db.fail_run(run_id, error, ended_at_ms)
    }

    fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, StorageError> {
        self.db.get_run(run_id)
    }

    fn list_runs(&self) -> Result<Vec<RunRecord>, StorageError> {
        self.db.list_runs()
    }

    fn delete_run(&mut self, run_id: &str) -> Result<(), StorageError> {
        self.db.delete_run(run_id)?;
        self.db.publish_status(run_id, None, false)
    }

    fn record_generation(
        &mut self,
        stats: &GenerationRecord,
        individuals: &[IndividualRecord],
    ) -> Result<(), StorageError> {
        self.db.record_generation(stats, individuals)?;
        self.db.publish_status(&stats.run_id, None, false)
    }

    fn record_generations(&mut self, batch: &[GenerationWrite]) -> Result<(), StorageError> {
        self.db.record_generations(batch, None)?;
        publish_batch(&self.db, batch)
    }

    fn complete_run(
        &mut self,
        run_id: &str,
        entries: &[HallOfFameRecord],
        ended_at_ms: i64,
    ) -> Result<(), StorageError> {
        self.db.complete_run(run_id, entries, ended_at_ms)?;
        self.db.publish_status(run_id, None, false)
    }

    fn read_generations(&self, run_id: &str) -> Result<Vec<GenerationRecord>, StorageError> {
        self.db.read_generations(run_id)
    }

    fn read_individuals(&self, run_id: &str, generation: Option<u32>) -> Result<Vec<IndividualRecord>, StorageError> {
        self.db.read_individuals(run_id, generation)
    }

    fn write_hall_of_fame(&mut self, run_id: &str, entries: &[HallOfFameRecord]) -> Result<(), StorageError> {
        self.db.write_hall_of_fame(run_id, entries)
    }

    fn read_hall_of_fame(&self, run_id: &str) -> Result<Vec<HallOfFameRecord>, StorageError> {
        self.db.read_hall_of_fame(run_id)
    }

    fn write_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StorageError> {
        validate_name("run id", &checkpoint.run_id)?;
        self.db.write_checkpoint_row(checkpoint, true, None)
    }

    fn read_checkpoint(&self, run_id: &str, generation: Option<u32>) -> Result<Option<Checkpoint>, StorageError> {
        match self.db.checkpoint_row(run_id, generation)? {
            Some(row) => Ok(Some(self.db.verified_inline(run_id, row)?)),
            None => Ok(None),
        }
    }

    fn cache_get(&self, key: &FitnessKey) -> Result<Option<f64>, StorageError> {
        self.db.cache_get(key)
    }

    fn cache_put(&mut self, entries: &[(FitnessKey, f64)]) -> Result<(), StorageError> {
        self.db.cache_put(entries)
    }

    fn health_check(&mut self) -> Vec<HealthCheck> {
        health::scratch_checks(self)
    }
}

impl ScratchOps for LocalStorage {
    fn rolling_mean_close(&self, symbol: &str, timeframe: &str, window: usize) -> Result<Vec<f64>, StorageError> {
        self.db.rolling_mean_table(symbol, timeframe, window)
    }
}
