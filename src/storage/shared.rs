//! The shared backend: a directory on an EFS/NFS mount with Parquet market data per symbol and timeframe, a one-writer results database, and atomically renamed checkpoint files.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use duckdb::{params, Connection};

use super::batch::{check_batch, GenerationWrite};
use super::config::SHARED_RESULTS_DB;
use super::db::DbFile;
use super::fsutil::{atomic_write, commit_temp, is_temp_name, sync_dir, temp_path_for, write_synced};
use super::health::{self, ScratchOps};
use super::local::{check_funding, check_series, publish_batch};
use super::lock::WriterLock;
use super::market_db::span;
use super::records::{
    Checkpoint, DatasetInfo, FitnessKey, GenerationRecord, HallOfFameRecord, IndividualRecord, RunRecord, RunStatus,
    TimeRange,
};
use super::results::checksum;
use super::{validate_name, BackendKind, HealthCheck, OpenMode, Storage, StorageError};
use crate::market::{Bars, FundingRates};

/// Version of the directory layout, recorded in `evoflow-layout.json`.
pub const LAYOUT_VERSION: u32 = 1;
const LAYOUT_FILE: &str = "evoflow-layout.json";

/// A shared directory:
///
/// ```text
/// DIR/evoflow-layout.json                          {"layout_version": 1}
/// DIR/market/symbol=S/timeframe=T/bars.parquet     ts_ms, open, high, low, close, volume (sorted by ts_ms)
/// DIR/market/symbol=S/timeframe=T/funding.parquet  ts_ms, rate
/// DIR/results.duckdb (+ results.duckdb.lock)       runs, generations, ..., written by one process
/// DIR/checkpoints/RUN/gen-0000000042.ckpt          checkpoint payloads (temp file + rename)
/// ```
///
/// Market files are replaced by writing a temporary file and renaming it over the old one,
/// so the many processes reading them see either version, never a torn file.
pub struct SharedStorage {
    dir: PathBuf,
    mode: OpenMode,
    mem: Connection,
    results: OnceCell<Option<DbFile>>,
}

impl std::fmt::Debug for SharedStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedStorage")
            .field("dir", &self.dir)
            .field("mode", &self.mode)
            .finish()
    }
}

fn quote_literal(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "''"))
}

impl SharedStorage {
    /// Opens the shared directory `dir`, which must exist (it is a mount point; it is never
    /// created). Read-write opens create `market/` and `checkpoints/` inside it.
    pub fn open(dir: &Path, mode: OpenMode) -> Result<SharedStorage, StorageError> {
        if !dir.is_dir() {
            let hint = if dir.exists() {
                " as a directory (it is a file)".to_string()
            } else {
                " (is the shared volume mounted? check EVOFLOW_SHARED_DIR / --shared-dir)".to_string()
            };
            return Err(StorageError::NotFound {
                path: dir.to_path_buf(),
                hint,
            });
        }
        let layout = dir.join(LAYOUT_FILE);
        if layout.exists() {
            let text = std::fs::read_to_string(&layout).map_err(|e| StorageError::io(&layout, &e))?;
            let version = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("layout_version").and_then(|n| n.as_u64()))
                .ok_or_else(|| StorageError::Corrupt {
                    path: layout.clone(),
                    reason: "no layout_version".into(),
                })?;
            if version > u64::from(LAYOUT_VERSION) {
                return Err(StorageError::TooNew {
                    path: layout,
                    found: u32::try_from(version).unwrap_or(u32::MAX),
                    supported: LAYOUT_VERSION,
                });
            }
        } else if mode == OpenMode::ReadWrite {
            atomic_write(
                &layout,
                format!("{{\"layout_version\": {LAYOUT_VERSION}}}\n").as_bytes(),
            )?;
        }
        if mode == OpenMode::ReadWrite {
            for sub in ["market", "checkpoints"] {
                let p = dir.join(sub);
                std::fs::create_dir_all(&p).map_err(|e| StorageError::io(&p, &e))?;
            }
        }
        let mem = Connection::open_in_memory().map_err(|e| StorageError::db(dir, e))?;
        Ok(SharedStorage {
            dir: dir.to_path_buf(),
            mode,
            mem,
            results: OnceCell::new(),
        })
    }

    /// The results database file.
    pub fn results_path(&self) -> PathBuf {
        self.dir.join(SHARED_RESULTS_DB)
    }

    /// The directory of one market series.
    pub fn partition(&self, symbol: &str, timeframe: &str) -> PathBuf {
        self.dir
            .join("market")
            .join(format!("symbol={symbol}"))
            .join(format!("timeframe={timeframe}"))
    }

    /// The results database, opened on first use; `None` for a read-only open when no
    /// results were ever written.
    fn results(&self) -> Result<Option<&DbFile>, StorageError> {
        if self.results.get().is_none() {
            let path = self.results_path();
            let db = match self.mode {
                OpenMode::ReadOnly if !path.exists() => None,
                mode => Some(DbFile::open(&path, mode)?),
            };
            let _ = self.results.set(db);
        }
        Ok(self.results.get().and_then(Option::as_ref))
    }

    fn results_writer(&self) -> Result<&DbFile, StorageError> {
        self.require_write()?;
        self.results()?.ok_or_else(|| StorageError::OpenedReadOnly {
            path: self.results_path(),
        })
    }

    fn require_write(&self) -> Result<(), StorageError> {
        match self.mode {
            OpenMode::ReadWrite => Ok(()),
            OpenMode::ReadOnly => Err(StorageError::OpenedReadOnly { path: self.dir.clone() }),
        }
    }

    fn mem_err(&self, path: &Path) -> impl Fn(duckdb::Error) -> StorageError + '_ {
        let path = path.to_path_buf();
        move |e| StorageError::db(&path, e)
    }

    /// Removes temporary files of `file_name` left in `part` by a writer that crashed
    /// (only called while holding that file's lock, so no live writer owns them).
    fn remove_stale_temps(part: &Path, file_name: &str) {
        let prefix = format!(".{file_name}.tmp-");
        if let Ok(entries) = std::fs::read_dir(part) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with(&prefix) && is_temp_name(&name) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    /// Writes a series file: new rows appended into an in-memory staging table, old rows
    /// outside the new span copied in, the whole sorted into a temporary Parquet file that
    /// is then renamed over the old one.
    fn write_series(
        &self,
        part: &Path,
        file_name: &str,
        columns: &str,
        first_last: (i64, i64),
        append: impl FnOnce(&mut duckdb::Appender<'_>) -> duckdb::Result<()>,
    ) -> Result<(), StorageError> {
        self.require_write()?;
        std::fs::create_dir_all(part).map_err(|e| StorageError::io(part, &e))?;
        let target = part.join(file_name);
        let _lock = WriterLock::acquire(&target)?;
        Self::remove_stale_temps(part, file_name);
        let tmp = temp_path_for(&target);
        let err = self.mem_err(&target);
        let result = (|| {
            self.mem
                .execute_batch(&format!("CREATE OR REPLACE TABLE staging ({columns})"))
                .map_err(&err)?;
            {
                let mut app = self.mem.appender("staging").map_err(&err)?;
                append(&mut app).map_err(&err)?;
                app.flush().map_err(&err)?;
            }
            if target.exists() {
                let (first, last) = first_last;
                self.mem
                    .execute(
                        &format!(
                            "INSERT INTO staging SELECT * FROM read_parquet({}, hive_partitioning = false) WHERE ts_ms < ? OR ts_ms > ?",
                            quote_literal(&target)
                        ),
                        params![first, last],
                    )
                    .map_err(&err)?;
            }
            self.mem
                .execute_batch(&format!(
                    "COPY (SELECT * FROM staging ORDER BY ts_ms) TO {} (FORMAT PARQUET, COMPRESSION ZSTD)",
                    quote_literal(&tmp)
                ))
                .map_err(&err)?;
            commit_temp(&tmp, &target)
        })();
        let _ = self.mem.execute_batch("DROP TABLE IF EXISTS staging");
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    fn no_data(&self, what: &'static str, symbol: &str, timeframe: &str) -> StorageError {
        StorageError::NoData {
            location: self.dir.display().to_string(),
            what,
            symbol: symbol.to_string(),
            timeframe: timeframe.to_string(),
        }
    }

    fn count_span(&self, file: &Path) -> Result<(u64, i64, i64), StorageError> {
        self.mem
            .query_row(
                &format!("SELECT count(*), coalesce(min(ts_ms), 0), coalesce(max(ts_ms), 0) FROM read_parquet({}, hive_partitioning = false)", quote_literal(file)),
                [],
                |r| Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get(1)?, r.get(2)?)),
            )
            .map_err(self.mem_err(file))
    }

    fn checkpoint_file(&self, run_id: &str, generation: u32) -> (String, PathBuf) {
        let rel = format!("checkpoints/{run_id}/gen-{generation:010}.ckpt");
        let path = self.dir.join(&rel);
        (rel, path)
    }
}

/// The sub-directories of `dir` named `KEY=VALUE`, as `(VALUE, path)` sorted by value.
fn partitions(dir: &Path, key: &str) -> Result<Vec<(String, PathBuf)>, StorageError> {
    let prefix = format!("{key}=");
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(StorageError::io(dir, &e)),
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(value) = name.strip_prefix(&prefix) {
            if e.path().is_dir() && validate_name(if key == "symbol" { "symbol" } else { "timeframe" }, value).is_ok() {
                out.push((value.to_string(), e.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

impl Storage for SharedStorage {
    fn backend(&self) -> BackendKind {
        BackendKind::Shared
    }

    fn location(&self) -> &Path {
        &self.dir
    }

    fn write_bars(&mut self, symbol: &str, timeframe: &str, bars: &Bars) -> Result<usize, StorageError> {
        check_series(symbol, timeframe, Some(bars))?;
        let part = self.partition(symbol, timeframe);
        let columns = "ts_ms BIGINT, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE";
        self.write_series(&part, "bars.parquet", columns, span(&bars.timestamp_ms)?, |app| {
            for i in 0..bars.len() {
                app.append_row(params![
                    bars.timestamp_ms[i],
                    bars.open[i],
                    bars.high[i],
                    bars.low[i],
                    bars.close[i],
                    bars.volume[i]
                ])?;
            }
            Ok(())
        })?;
        Ok(bars.len())
    }

    fn write_funding(&mut self, symbol: &str, timeframe: &str, funding: &FundingRates) -> Result<usize, StorageError> {
        check_funding(symbol, timeframe, funding)?;
        let part = self.partition(symbol, timeframe);
        self.write_series(
            &part,
            "funding.parquet",
            "ts_ms BIGINT, rate DOUBLE",
            span(&funding.time_ms)?,
            |app| {
                for (t, r) in funding.time_ms.iter().zip(&funding.rate) {
                    app.append_row(params![t, r])?;
                }
                Ok(())
            },
        )?;
        Ok(funding.len())
    }

    fn read_bars(&self, symbol: &str, timeframe: &str, range: TimeRange) -> Result<Bars, StorageError> {
        check_series(symbol, timeframe, None)?;
        let file = self.partition(symbol, timeframe).join("bars.parquet");
        if !file.exists() {
            return Err(self.no_data("bars", symbol, timeframe));
        }
        let (lo, hi) = range.bounds();
        let err = self.mem_err(&file);
        let mut stmt = self
            .mem
            .prepare(&format!(
                "SELECT ts_ms, open, high, low, close, volume FROM read_parquet({}, hive_partitioning = false) WHERE ts_ms BETWEEN ? AND ? ORDER BY ts_ms",
                quote_literal(&file)
            ))
            .map_err(&err)?;
        let mut rows = stmt.query(params![lo, hi]).map_err(&err)?;
        let mut bars = Bars::default();
        while let Some(r) = rows.next().map_err(&err)? {
            bars.push(
                r.get(0).map_err(&err)?,
                r.get(1).map_err(&err)?,
                r.get(2).map_err(&err)?,
                r.get(3).map_err(&err)?,
                r.get(4).map_err(&err)?,
                r.get(5).map_err(&err)?,
            );
        }
        if bars.is_empty() {
            return Err(self.no_data("bars in that range", symbol, timeframe));
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
        let file = self.partition(symbol, timeframe).join("funding.parquet");
        if !file.exists() {
            return Ok(None);
        }
        let (lo, hi) = range.bounds();
        let err = self.mem_err(&file);
        let mut stmt = self
            .mem
            .prepare(&format!(
                "SELECT ts_ms, rate FROM read_parquet({}, hive_partitioning = false) WHERE ts_ms BETWEEN ? AND ? ORDER BY ts_ms",
                quote_literal(&file)
            ))
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![lo, hi], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?)))
            .map_err(&err)?;
        let mut out = FundingRates::default();
        for row in rows {
            let (t, r) = row.map_err(&err)?;
            out.time_ms.push(t);
            out.rate.push(r);
        }
        Ok(Some(out))
    }

    fn list_market(&self) -> Result<Vec<DatasetInfo>, StorageError> {
        let mut out = Vec::new();
        for (symbol, sdir) in partitions(&self.dir.join("market"), "symbol")? {
            for (timeframe, tdir) in partitions(&sdir, "timeframe")? {
                let bars = tdir.join("bars.parquet");
                if !bars.exists() {
                    continue;
                }
                let (n, first_ms, last_ms) = self.count_span(&bars)?;
                let funding_file = tdir.join("funding.parquet");
                let funding = if funding_file.exists() {
                    self.count_span(&funding_file)?.0
                } else {
                    0
                };
                out.push(DatasetInfo {
                    symbol: symbol.clone(),
                    timeframe,
                    bars: n,
                    first_ms,
                    last_ms,
                    funding,
                });
            }
        }
        Ok(out)
    }

    fn delete_market(&mut self, symbol: &str, timeframe: &str) -> Result<bool, StorageError> {
        check_series(symbol, timeframe, None)?;
        self.require_write()?;
        let part = self.partition(symbol, timeframe);
        let mut removed = false;
        for name in ["bars.parquet", "funding.parquet"] {
            let file = part.join(name);
            let _lock = match WriterLock::acquire(&file) {
                Ok(l) => l,
                Err(StorageError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            Self::remove_stale_temps(&part, name);
            match std::fs::remove_file(&file) {
                Ok(()) => removed = true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StorageError::io(&file, &e)),
            }
        }
        let _ = std::fs::remove_dir(&part);
        if let Some(sym_dir) = part.parent() {
            let _ = std::fs::remove_dir(sym_dir);
        }
        Ok(removed)
    }

    fn claim_writer(&mut self) -> Result<(), StorageError> {
        self.results_writer().map(|_| ())
    }

    fn create_run(&mut self, run: &RunRecord) -> Result<(), StorageError> {
        validate_name("run id", &run.run_id)?;
        let db = self.results_writer()?;
        db.create_run(run)?;
        db.publish_status(&run.run_id, None, false)
    }

    fn finish_run(&mut self, run_id: &str, status: RunStatus, ended_at_ms: i64) -> Result<(), StorageError> {
        let db = self.results_writer()?;
        db.finish_run(run_id, status, ended_at_ms)?;
        db.publish_status(run_id, None, false)
    }

    fn fail_run(&mut self, run_id: &str, error: &str, ended_at_ms: i64) -> Result<(), StorageError> {
        self.results_writer()?.fail_run(run_id, error, ended_at_ms)
    }

    fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, StorageError> {
        self.results()?.map_or(Ok(None), |db| db.get_run(run_id))
    }

    fn list_runs(&self) -> Result<Vec<RunRecord>, StorageError> {
        self.results()?.map_or(Ok(Vec::new()), |db| db.list_runs())
    }

    fn delete_run(&mut self, run_id: &str) -> Result<(), StorageError> {
        validate_name("run id", run_id)?;
        let db = self.results_writer()?;
        db.delete_run(run_id)?;
        db.publish_status(run_id, None, false)?;
        let dir = self.dir.join("checkpoints").join(run_id);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::io(&dir, &e)),
        }
    }

    fn record_generation(
        &mut self,
        stats: &GenerationRecord,
        individuals: &[IndividualRecord],
    ) -> Result<(), StorageError> {
        let db = self.results_writer()?;
        db.record_generation(stats, individuals)?;
        db.publish_status(&stats.run_id, None, false)
    }

    fn record_generations(&mut self, batch: &[GenerationWrite]) -> Result<(), StorageError> {
        check_batch(batch)?;
        let db = self.results_writer()?;
        // The payloads first, each synced and renamed into place, their directories synced
        // once; then the rows naming them in one transaction.
        let mut rels = Vec::with_capacity(batch.len());
        let mut dirs: Vec<PathBuf> = Vec::new();
        for w in batch {
            let (rel, path) = self.checkpoint_file(&w.checkpoint.run_id, w.checkpoint.generation);
            let parent = path.parent().unwrap_or(&self.dir).to_path_buf();
            if !dirs.contains(&parent) {
                std::fs::create_dir_all(&parent).map_err(|e| StorageError::io(&parent, &e))?;
                dirs.push(parent);
            }
            write_synced(&path, &w.checkpoint.payload)?;
            rels.push(rel);
        }
        for d in &dirs {
            sync_dir(d)?;
        }
        db.record_generations(batch, Some(&rels))?;
        publish_batch(db, batch)
    }

    fn complete_run(
        &mut self,
        run_id: &str,
        entries: &[HallOfFameRecord],
        ended_at_ms: i64,
    ) -> Result<(), StorageError> {
        let db = self.results_writer()?;
        db.complete_run(run_id, entries, ended_at_ms)?;
        db.publish_status(run_id, None, false)
    }

    fn read_generations(&self, run_id: &str) -> Result<Vec<GenerationRecord>, StorageError> {
        self.results()?.map_or(Ok(Vec::new()), |db| db.read_generations(run_id))
    }

    fn read_individuals(&self, run_id: &str, generation: Option<u32>) -> Result<Vec<IndividualRecord>, StorageError> {
        self.results()?
            .map_or(Ok(Vec::new()), |db| db.read_individuals(run_id, generation))
    }

    fn write_hall_of_fame(&mut self, run_id: &str, entries: &[HallOfFameRecord]) -> Result<(), StorageError> {
        self.results_writer()?.write_hall_of_fame(run_id, entries)
    }

    fn read_hall_of_fame(&self, run_id: &str) -> Result<Vec<HallOfFameRecord>, StorageError> {
        self.results()?
            .map_or(Ok(Vec::new()), |db| db.read_hall_of_fame(run_id))
    }

    fn write_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StorageError> {
        validate_name("run id", &checkpoint.run_id)?;
        let db = self.results_writer()?;
        let (rel, path) = self.checkpoint_file(&checkpoint.run_id, checkpoint.generation);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| StorageError::io(parent, &e))?;
        }
        atomic_write(&path, &checkpoint.payload)?;
        db.write_checkpoint_row(checkpoint, false, Some(&rel))
    }

    fn read_checkpoint(&self, run_id: &str, generation: Option<u32>) -> Result<Option<Checkpoint>, StorageError> {
        validate_name("run id", run_id)?;
        let Some(db) = self.results()? else { return Ok(None) };
        let Some(row) = db.checkpoint_row(run_id, generation)? else {
            return Ok(None);
        };
        let Some(rel) = row.file.clone() else {
            return Ok(Some(db.verified_inline(run_id, row)?));
        };
        let path = self.dir.join(&rel);
        let payload = std::fs::read(&path).map_err(|e| StorageError::Corrupt {
            path: path.clone(),
            reason: format!("checkpoint file recorded in the results database cannot be read: {e}"),
        })?;
        if payload.len() as u64 != row.bytes || checksum(&payload) != row.checksum {
            return Err(StorageError::Corrupt {
                path,
                reason: format!(
                    "checkpoint of run `{run_id}` generation {} fails its size or checksum",
                    row.generation
                ),
            });
        }
        Ok(Some(Checkpoint {
            run_id: run_id.to_string(),
            generation: row.generation,
            payload,
        }))
    }

    fn cache_get(&self, key: &FitnessKey) -> Result<Option<f64>, StorageError> {
        self.results()?.map_or(Ok(None), |db| db.cache_get(key))
    }

    fn cache_put(&mut self, entries: &[(FitnessKey, f64)]) -> Result<(), StorageError> {
        self.results_writer()?.cache_put(entries)
    }

    fn health_check(&mut self) -> Vec<HealthCheck> {
        health::scratch_checks(self)
    }
}

impl ScratchOps for SharedStorage {
    fn rolling_mean_close(&self, symbol: &str, timeframe: &str, window: usize) -> Result<Vec<f64>, StorageError> {
        let file = self.partition(symbol, timeframe).join("bars.parquet");
        let sql = format!(
            "SELECT avg(close) OVER (ORDER BY ts_ms ROWS BETWEEN {} PRECEDING AND CURRENT ROW) FROM read_parquet({}, hive_partitioning = false) ORDER BY ts_ms",
            window.saturating_sub(1),
            quote_literal(&file)
        );
        let err = self.mem_err(&file);
        let mut stmt = self.mem.prepare(&sql).map_err(&err)?;
        let rows = stmt.query_map([], |r| r.get::<_, f64>(0)).map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }
}
