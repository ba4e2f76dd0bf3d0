//! `Storage` for [`PostgresStorage`]: names and bars checked as in the other backends, results writes behind the writer lease.

use std::path::Path;

use super::super::batch::GenerationWrite;
use super::super::local::{check_funding, check_series};
use super::super::records::{
    Checkpoint, DatasetInfo, FitnessKey, GenerationRecord, HallOfFameRecord, IndividualRecord, RunRecord, RunStatus,
    TimeRange,
};
use super::super::{validate_name, BackendKind, HealthCheck, Storage, StorageError};
use super::PostgresStorage;
use crate::market::{Bars, FundingRates};

impl Storage for PostgresStorage {
    fn backend(&self) -> BackendKind {
        PostgresStorage::backend(self)
    }

    fn location(&self) -> &Path {
        PostgresStorage::location(self)
    }

    fn write_bars(&mut self, symbol: &str, timeframe: &str, bars: &Bars) -> Result<usize, StorageError> {
        check_series(symbol, timeframe, Some(bars))?;
        self.write_bars_rows(symbol, timeframe, bars)
    }

    fn write_funding(&mut self, symbol: &str, timeframe: &str, funding: &FundingRates) -> Result<usize, StorageError> {
        check_funding(symbol, timeframe, funding)?;
        self.write_funding_rows(symbol, timeframe, funding)
    }

    fn read_bars(&self, symbol: &str, timeframe: &str, range: TimeRange) -> Result<Bars, StorageError> {
        check_series(symbol, timeframe, None)?;
        let bars = self.read_bars_rows(symbol, timeframe, range)?;
        if bars.is_empty() {
            return Err(StorageError::NoData {
                location: self.loc.clone(),
                what: "bars",
                symbol: symbol.to_string(),
                timeframe: timeframe.to_string(),
            });
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
        self.read_funding_rows(symbol, timeframe, range)
    }

    fn list_market(&self) -> Result<Vec<DatasetInfo>, StorageError> {
        self.list_market_rows()
    }

    fn delete_market(&mut self, symbol: &str, timeframe: &str) -> Result<bool, StorageError> {
        check_series(symbol, timeframe, None)?;
        self.delete_market_rows(symbol, timeframe)
    }

    fn claim_writer(&mut self) -> Result<(), StorageError> {
        self.require_lease()
    }

    fn create_run(&mut self, run: &RunRecord) -> Result<(), StorageError> {
        self.require_write()?;
        validate_name("run id", &run.run_id)?;
        self.require_lease()?;
        self.create_run_row(run)
    }

    fn finish_run(&mut self, run_id: &str, status: RunStatus, ended_at_ms: i64) -> Result<(), StorageError> {
        self.require_lease()?;
        self.finish_run_row(run_id, status, ended_at_ms)
    }

    fn fail_run(&mut self, run_id: &str, error: &str, ended_at_ms: i64) -> Result<(), StorageError> {
        self.require_lease()?;
        self.fail_run_row(run_id, error, ended_at_ms)
    }

    fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, StorageError> {
        self.get_run_row(run_id)
    }

    fn list_runs(&self) -> Result<Vec<RunRecord>, StorageError> {
        self.list_run_rows()
    }

    fn delete_run(&mut self, run_id: &str) -> Result<(), StorageError> {
        self.require_lease()?;
        self.delete_run_rows(run_id)
    }

    fn record_generation(
        &mut self,
        stats: &GenerationRecord,
        individuals: &[IndividualRecord],
    ) -> Result<(), StorageError> {
        self.require_lease()?;
        self.record_generation_rows(stats, individuals)
    }

    fn record_generations(&mut self, batch: &[GenerationWrite]) -> Result<(), StorageError> {
        self.require_lease()?;
        self.record_generations_rows(batch)
    }

    fn complete_run(
        &mut self,
        run_id: &str,
        entries: &[HallOfFameRecord],
        ended_at_ms: i64,
    ) -> Result<(), StorageError> {
        self.require_lease()?;
        self.complete_run_rows(run_id, entries, ended_at_ms)
    }

    fn read_generations(&self, run_id: &str) -> Result<Vec<GenerationRecord>, StorageError> {
        self.read_generation_rows(run_id)
    }

    fn read_individuals(&self, run_id: &str, generation: Option<u32>) -> Result<Vec<IndividualRecord>, StorageError> {
        self.read_individual_rows(run_id, generation)
    }

    fn write_hall_of_fame(&mut self, run_id: &str, entries: &[HallOfFameRecord]) -> Result<(), StorageError> {
        self.require_lease()?;
        self.write_hall_of_fame_rows(run_id, entries)
    }

    fn read_hall_of_fame(&self, run_id: &str) -> Result<Vec<HallOfFameRecord>, StorageError> {
        self.read_hall_of_fame_rows(run_id)
    }

    fn write_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StorageError> {
        self.require_write()?;
        validate_name("run id", &checkpoint.run_id)?;
        self.require_lease()?;
        self.write_checkpoint_row(checkpoint)
    }

    fn read_checkpoint(&self, run_id: &str, generation: Option<u32>) -> Result<Option<Checkpoint>, StorageError> {
        self.read_checkpoint_row(run_id, generation)
    }

    fn cache_get(&self, key: &FitnessKey) -> Result<Option<f64>, StorageError> {
        self.cache_get_row(key)
    }

    fn cache_put(&mut self, entries: &[(FitnessKey, f64)]) -> Result<(), StorageError> {
        self.cache_put_rows(entries)
    }

    fn health_check(&mut self) -> Vec<HealthCheck> {
        self.health()
    }
}
