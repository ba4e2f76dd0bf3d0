//! Run results in a DuckDB file: runs, generations, individuals (appender), hall of fame, checkpoint rows, fitness cache.

use std::collections::BTreeMap;

use duckdb::{params, OptionalExt, Row};

use super::db::DbFile;
use super::records::{
    genome_hash, Checkpoint, FitnessKey, GenerationRecord, HallOfFameRecord, IndividualRecord, RunRecord, RunStatus,
};
use super::schema::now_ms;
use super::StorageError;

/// A stored checkpoint row: the payload is inline (local backend) or in `file` (shared backend).
#[derive(Debug, Clone)]
pub struct CheckpointRow {
    pub generation: u32,
    pub payload: Option<Vec<u8>>,
    pub file: Option<String>,
    pub bytes: u64,
    pub checksum: String,
}

/// Checksum stored with each checkpoint, checked when it is read back.
pub fn checksum(bytes: &[u8]) -> String {
    format!("fnv1a64:{:016x}", super::records::fnv1a64(bytes))
}

fn run_from_row(r: &Row<'_>) -> duckdb::Result<(RunRecord, String)> {
    let status: String = r.get(5)?;
    Ok((
        RunRecord {
            run_id: r.get(0)?,
            config_json: r.get(1)?,
            seed: r.get(2)?,
            data_fingerprint: r.get(3)?,
            code_version: r.get(4)?,
            status: RunStatus::Running,
            started_at_ms: r.get(6)?,
            ended_at_ms: r.get(7)?,
        },
        status,
    ))
}

fn f64_or_nan(r: &Row<'_>, i: usize) -> duckdb::Result<f64> {
    Ok(r.get::<_, Option<f64>>(i)?.unwrap_or(f64::NAN))
}

const RUN_COLUMNS: &str =
    "run_id, config_json, seed, data_fingerprint, code_version, status, started_at_ms, ended_at_ms";

impl DbFile {
    fn finish_runs(&self, rows: Vec<(RunRecord, String)>) -> Result<Vec<RunRecord>, StorageError> {
        rows.into_iter()
            .map(|(mut run, status)| {
                run.status = RunStatus::parse(&status).ok_or_else(|| StorageError::Corrupt {
                    path: self.path.clone(),
                    reason: format!("run `{}` has unknown status `{status}`", run.run_id),
                })?;
                Ok(run)
            })
            .collect()
    }

    /// Inserts a new run; an existing run id is an error.
    pub fn create_run(&self, run: &RunRecord) -> Result<(), StorageError> {
        self.require_write()?;
        if self.get_run(&run.run_id)?.is_some() {
            return Err(StorageError::InvalidInput(format!(
                "run `{}` already exists in {}",
                run.run_id,
                self.path.display()
            )));
        }
        self.conn
            .execute(
                &format!("INSERT INTO runs ({RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                params![
                    run.run_id,
                    run.config_json,
                    run.seed,
                    run.data_fingerprint,
                    run.code_version,
                    run.status.as_str(),
                    run.started_at_ms,
                    run.ended_at_ms
                ],
            )
            .map_err(|e| self.err(e))?;
        self.created_run(&run.run_id);
        Ok(())
    }

    /// Sets a run's final status and end time.
    pub fn finish_run(&self, run_id: &str, status: RunStatus, ended_at_ms: i64) -> Result<(), StorageError> {
        self.require_write()?;
        let n = self
            .conn
            .execute(
                "UPDATE runs SET status = ?, ended_at_ms = ? WHERE run_id = ?",
                params![status.as_str(), ended_at_ms, run_id],
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(StorageError::InvalidInput(format!(
                "no run `{run_id}` in {}",
                self.path.display()
            )));
        }
        Ok(())
    }

    /// One run, if stored.
    pub fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, StorageError> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?"),
                params![run_id],
                run_from_row,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(self.finish_runs(row.into_iter().collect())?.pop())
    }

    /// All runs, oldest first.
    pub fn list_runs(&self) -> Result<Vec<RunRecord>, StorageError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {RUN_COLUMNS} FROM runs ORDER BY started_at_ms, run_id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], run_from_row).map_err(|e| self.err(e))?;
        let rows = rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))?;
        self.finish_runs(rows)
    }

    /// Deletes a run and everything stored under it, in one transaction.
    pub fn delete_run(&self, run_id: &str) -> Result<(), StorageError> {
        self.forget_created(run_id);
        self.in_transaction(|conn| {
            for table in ["runs", "generations", "individuals", "hall_of_fame", "checkpoints"] {
                conn.execute(&format!("DELETE FROM {table} WHERE run_id = ?"), params![run_id])
                    .map_err(|e| self.err(e))?;
            }
            Ok(())
        })
    }

    /// Stores a generation's statistics and its individuals in one transaction, replacing
    /// what a previous attempt stored for that generation (so a resumed run rewrites it).
    pub fn record_generation(
        &self,
        stats: &GenerationRecord,
        individuals: &[IndividualRecord],
    ) -> Result<(), StorageError> {
        self.forget_created(&stats.run_id);
        if let Some(bad) = individuals
            .iter()
            .find(|i| i.run_id != stats.run_id || i.generation != stats.generation)
        {
            return Err(StorageError::InvalidInput(format!(
                "individual of run `{}` generation {} passed with generation {} of run `{}`",
                bad.run_id, bad.generation, stats.generation, stats.run_id
            )));
        }
        self.in_transaction(|conn| {
            let key = params![stats.run_id, stats.generation];
            conn.execute("DELETE FROM generations WHERE run_id = ? AND generation = ?", key)
                .map_err(|e| self.err(e))?;
            conn.execute("DELETE FROM individuals WHERE run_id = ? AND generation = ?", key)
                .map_err(|e| self.err(e))?;
            conn.execute(
                "INSERT INTO generations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params![
                    stats.run_id,
                    stats.generation,
                    stats.best,
                    stats.mean,
                    stats.std,
                    stats.diversity,
                    stats.evaluations,
                    stats.cache_hits,
                    stats.elapsed_ms
                ],
            )
            .map_err(|e| self.err(e))?;
            let mut app = conn.appender("individuals").map_err(|e| self.err(e))?;
            for i in individuals {
                app.append_row(params![
                    i.run_id,
                    i.generation,
                    i.seed_name,
                    i.genome_json,
                    i.genome_hash,
                    i.fitness,
                    i.sharpe,
                    i.return_pct,
                    i.max_drawdown_pct,
                    i.num_trades
                ])
                .map_err(|e| self.err(e))?;
            }
            app.flush().map_err(|e| self.err(e))
        })
    }

    /// A run's generation statistics in generation order.
    pub fn read_generations(&self, run_id: &str) -> Result<Vec<GenerationRecord>, StorageError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT run_id, generation, best, mean, std, diversity, evaluations, cache_hits, elapsed_ms
                 FROM generations WHERE run_id = ? ORDER BY generation",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![run_id], |r| {
                Ok(GenerationRecord {
                    run_id: r.get(0)?,
                    generation: r.get(1)?,
                    best: f64_or_nan(r, 2)?,
                    mean: f64_or_nan(r, 3)?,
                    std: f64_or_nan(r, 4)?,
                    diversity: f64_or_nan(r, 5)?,
                    evaluations: r.get(6)?,
                    cache_hits: r.get(7)?,
                    elapsed_ms: r.get(8)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// A run's individuals (of one generation, or all), in generation then insertion order.
    pub fn read_individuals(
        &self,
        run_id: &str,
        generation: Option<u32>,
    ) -> Result<Vec<IndividualRecord>, StorageError> {
        let (lo, hi) = generation.map_or((0i64, i64::from(u32::MAX)), |g| (i64::from(g), i64::from(g)));
        let mut stmt = self
            .conn
            .prepare(
                "SELECT run_id, generation, seed_name, genome_json, genome_hash, fitness, sharpe, return_pct,
                        max_drawdown_pct, num_trades
                 FROM individuals WHERE run_id = ? AND generation BETWEEN ? AND ? ORDER BY generation, rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![run_id, lo, hi], |r| {
                Ok(IndividualRecord {
                    run_id: r.get(0)?,
                    generation: r.get(1)?,
                    seed_name: r.get(2)?,
                    genome_json: r.get(3)?,
                    genome_hash: r.get(4)?,
                    fitness: f64_or_nan(r, 5)?,
                    sharpe: f64_or_nan(r, 6)?,
                    return_pct: f64_or_nan(r, 7)?,
                    max_drawdown_pct: f64_or_nan(r, 8)?,
                    num_trades: r.get(9)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Replaces a run's hall of fame.
    pub fn write_hall_of_fame(&self, run_id: &str, entries: &[HallOfFameRecord]) -> Result<(), StorageError> {
        if let Some(bad) = entries.iter().find(|e| e.run_id != run_id) {
            return Err(StorageError::InvalidInput(format!(
                "hall-of-fame entry of run `{}` passed for run `{run_id}`",
                bad.run_id
            )));
        }
        self.in_transaction(|conn| {
            conn.execute("DELETE FROM hall_of_fame WHERE run_id = ?", params![run_id])
                .map_err(|e| self.err(e))?;
            let mut app = conn.appender("hall_of_fame").map_err(|e| self.err(e))?;
            for h in entries {
                app.append_row(params![
                    h.run_id,
                    h.rank,
                    h.seed_name,
                    h.genome_json,
                    h.fitness,
                    h.train_stats_json,
                    h.test_stats_json,
                    h.validation_json
                ])
                .map_err(|e| self.err(e))?;
            }
            app.flush().map_err(|e| self.err(e))
        })
    }

    /// A run's hall of fame, best rank first.
    pub fn read_hall_of_fame(&self, run_id: &str) -> Result<Vec<HallOfFameRecord>, StorageError> {
        // A version 1 file opened read-only has no validation column: its rows read `null`.
        let has_validation: bool = self
            .conn
            .query_row(
                "SELECT count(*) > 0 FROM information_schema.columns
                 WHERE table_name = 'hall_of_fame' AND column_name = 'validation_json'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let validation = if has_validation {
            "coalesce(validation_json, 'null')"
        } else {
            "'null'"
        };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT run_id, rank, seed_name, genome_json, fitness, train_stats_json, test_stats_json, {validation}
                 FROM hall_of_fame WHERE run_id = ? ORDER BY rank"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![run_id], |r| {
                Ok(HallOfFameRecord {
                    run_id: r.get(0)?,
                    rank: r.get(1)?,
                    seed_name: r.get(2)?,
                    genome_json: r.get(3)?,
                    fitness: f64_or_nan(r, 4)?,
                    train_stats_json: r.get(5)?,
                    test_stats_json: r.get(6)?,
                    validation_json: r.get(7)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Stores the row of a checkpoint (payload inline, or the name of the file holding it),
    /// replacing an earlier one for the same run and generation.
    pub fn write_checkpoint_row(&self, cp: &Checkpoint, inline: bool, file: Option<&str>) -> Result<(), StorageError> {
        self.forget_created(&cp.run_id);
        let sum = checksum(&cp.payload);
        let payload: Option<&[u8]> = if inline { Some(&cp.payload) } else { None };
        self.in_transaction(|conn| {
            conn.execute(
                "DELETE FROM checkpoints WHERE run_id = ? AND generation = ?",
                params![cp.run_id, cp.generation],
            )
            .map_err(|e| self.err(e))?;
            conn.execute(
                "INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, ?)",
                params![
                    cp.run_id,
                    cp.generation,
                    now_ms(),
                    payload,
                    file,
                    cp.payload.len() as u64,
                    sum
                ],
            )
            .map_err(|e| self.err(e))?;
            Ok(())
        })
    }

    /// The checkpoint row of a generation, or of the latest generation when `None`.
    pub fn checkpoint_row(&self, run_id: &str, generation: Option<u32>) -> Result<Option<CheckpointRow>, StorageError> {
        let (lo, hi) = generation.map_or((0i64, i64::from(u32::MAX)), |g| (i64::from(g), i64::from(g)));
        self.conn
            .query_row(
                "SELECT generation, payload, file, bytes, checksum FROM checkpoints
                 WHERE run_id = ? AND generation BETWEEN ? AND ? ORDER BY generation DESC LIMIT 1",
                params![run_id, lo, hi],
                |r| {
                    Ok(CheckpointRow {
                        generation: r.get(0)?,
                        payload: r.get(1)?,
                        file: r.get(2)?,
                        bytes: r.get(3)?,
                        checksum: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Verifies an inline checkpoint against its stored size and checksum.
    pub fn verified_inline(&self, run_id: &str, row: CheckpointRow) -> Result<Checkpoint, StorageError> {
        let payload = row.payload.unwrap_or_default();
        if payload.len() as u64 != row.bytes || checksum(&payload) != row.checksum {
            return Err(StorageError::Corrupt {
                path: self.path.clone(),
                reason: format!(
                    "checkpoint of run `{run_id}` generation {} fails its checksum",
                    row.generation
                ),
            });
        }
        Ok(Checkpoint {
            run_id: run_id.to_string(),
            generation: row.generation,
            payload,
        })
    }

    /// A cached fitness.
    pub fn cache_get(&self, key: &FitnessKey) -> Result<Option<f64>, StorageError> {
        self.conn
            .query_row(
                "SELECT fitness FROM fitness_cache
                 WHERE data_fingerprint = ? AND objective = ? AND genome_hash = ? AND genome_json = ?",
                params![
                    key.data_fingerprint,
                    key.objective,
                    genome_hash(&key.genome_json),
                    key.genome_json
                ],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Stores fitnesses (the last value wins for a repeated key), in one transaction.
    pub fn cache_put(&self, entries: &[(FitnessKey, f64)]) -> Result<(), StorageError> {
        let mut unique: BTreeMap<(&str, &str, String), (&str, f64)> = BTreeMap::new();
        for (k, f) in entries {
            if !f.is_finite() {
                return Err(StorageError::InvalidInput(format!(
                    "fitness {f} is not finite; it cannot be cached"
                )));
            }
            unique.insert(
                (
                    k.data_fingerprint.as_str(),
                    k.objective.as_str(),
                    genome_hash(&k.genome_json),
                ),
                (k.genome_json.as_str(), *f),
            );
        }
        let now = now_ms();
        self.in_transaction(|conn| {
            let mut stmt = conn
                .prepare(
                    "INSERT INTO fitness_cache VALUES (?, ?, ?, ?, ?, ?)
                     ON CONFLICT DO UPDATE SET genome_json = excluded.genome_json, fitness = excluded.fitness,
                     created_at_ms = excluded.created_at_ms",
                )
                .map_err(|e| self.err(e))?;
            for ((fp, obj, hash), (json, f)) in &unique {
                stmt.execute(params![fp, obj, hash, json, f, now])
                    .map_err(|e| self.err(e))?;
            }
            Ok(())
        })
    }
}
