//! Run results in PostgreSQL: runs, generations and their individuals (binary COPY, one transaction per generation), hall of fame, checkpoints, fitness cache.

use std::collections::BTreeMap;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use postgres::Row;

use super::super::records::{
    genome_hash, Checkpoint, FitnessKey, GenerationRecord, HallOfFameRecord, IndividualRecord, RunRecord, RunStatus,
};
use super::super::results::checksum;
use super::super::schema::now_ms;
use super::super::StorageError;
use super::PostgresStorage;

const RUN_COLUMNS: &str =
    "run_id, config_json, seed, data_fingerprint, code_version, status, started_at_ms, ended_at_ms";

fn as_i64(what: &str, v: u64) -> Result<i64, StorageError> {
    i64::try_from(v).map_err(|_| StorageError::InvalidInput(format!("{what} {v} is too large to store")))
}

impl PostgresStorage {
    fn run_from(&self, r: &Row) -> Result<RunRecord, StorageError> {
        let e = |e| self.err(e);
        let run_id: String = r.try_get(0).map_err(e)?;
        let status: String = r.try_get(5).map_err(e)?;
        let status = RunStatus::parse(&status)
            .ok_or_else(|| self.corrupt(format!("run `{run_id}` has unknown status `{status}`")))?;
        Ok(RunRecord {
            config_json: r.try_get(1).map_err(e)?,
            // Stored as BIGINT: the seed's bits, read back unchanged.
            seed: r.try_get::<_, i64>(2).map_err(e)? as u64,
            data_fingerprint: r.try_get(3).map_err(e)?,
            code_version: r.try_get(4).map_err(e)?,
            status,
            started_at_ms: r.try_get(6).map_err(e)?,
            ended_at_ms: r.try_get(7).map_err(e)?,
            run_id,
        })
    }

    pub(super) fn create_run_row(&self, run: &RunRecord) -> Result<(), StorageError> {
        let n = self
            .c()
            .execute(
                &format!(
                    "INSERT INTO runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (run_id) DO NOTHING"
                ),
                &[
                    &run.run_id,
                    &run.config_json,
                    &(run.seed as i64),
                    &run.data_fingerprint,
                    &run.code_version,
                    &run.status.as_str(),
                    &run.started_at_ms,
                    &run.ended_at_ms,
                ],
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(StorageError::InvalidInput(format!(
                "run `{}` already exists in {}",
                run.run_id, self.loc
            )));
        }
        Ok(())
    }

    pub(super) fn finish_run_row(&self, run_id: &str, status: RunStatus, ended_at_ms: i64) -> Result<(), StorageError> {
        let n = self
            .c()
            .execute(
                "UPDATE runs SET status = $1, ended_at_ms = $2, error = CASE WHEN $1 = 'failed' THEN error END
                 WHERE run_id = $3",
                &[&status.as_str(), &ended_at_ms, &run_id],
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(StorageError::InvalidInput(format!("no run `{run_id}` in {}", self.loc)));
        }
        Ok(())
    }

    pub(super) fn get_run_row(&self, run_id: &str) -> Result<Option<RunRecord>, StorageError> {
        let row = self
            .c()
            .query_opt(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id = $1"), &[&run_id])
            .map_err(|e| self.err(e))?;
        row.map(|r| self.run_from(&r)).transpose()
    }

    pub(super) fn list_run_rows(&self) -> Result<Vec<RunRecord>, StorageError> {
        let rows = self
            .c()
            .query(
                &format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY started_at_ms, run_id COLLATE \"C\""),
                &[],
            )
            .map_err(|e| self.err(e))?;
        rows.iter().map(|r| self.run_from(r)).collect()
    }

    pub(super) fn delete_run_rows(&self, run_id: &str) -> Result<(), StorageError> {
        self.in_tx(|tx| {
            for table in ["runs", "generations", "individuals", "hall_of_fame", "checkpoints"] {
                tx.execute(&format!("DELETE FROM {table} WHERE run_id = $1"), &[&run_id])
                    .map_err(|e| self.err(e))?;
            }
            Ok(())
        })
    }

    /// The generation's statistics and individuals in one transaction (a crash before the
    /// commit leaves the previous generations and nothing of this one).
    pub(super) fn record_generation_rows(
        &self,
        stats: &GenerationRecord,
        individuals: &[IndividualRecord],
    ) -> Result<(), StorageError> {
        if let Some(bad) = individuals
            .iter()
            .find(|i| i.run_id != stats.run_id || i.generation != stats.generation)
        {
            return Err(StorageError::InvalidInput(format!(
                "individual of run `{}` generation {} passed with generation {} of run `{}`",
                bad.run_id, bad.generation, stats.generation, stats.run_id
            )));
        }
        let generation = i64::from(stats.generation);
        let counts = [
            as_i64("evaluations", stats.evaluations)?,
            as_i64("cache hits", stats.cache_hits)?,
            as_i64("elapsed ms", stats.elapsed_ms)?,
        ];
        let trades = individuals
            .iter()
            .map(|i| as_i64("num_trades", i.num_trades))
            .collect::<Result<Vec<_>, _>>()?;
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            tx.execute(
                "DELETE FROM generations WHERE run_id = $1 AND generation = $2",
                &[&stats.run_id, &generation],
            )
            .map_err(e)?;
            tx.execute(
                "DELETE FROM individuals WHERE run_id = $1 AND generation = $2",
                &[&stats.run_id, &generation],
            )
            .map_err(e)?;
            tx.execute(
                "INSERT INTO generations VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &stats.run_id,
                    &generation,
                    &stats.best,
                    &stats.mean,
                    &stats.std,
                    &stats.diversity,
                    &counts[0],
                    &counts[1],
                    &counts[2],
                ],
            )
            .map_err(e)?;
            let rows = individuals
                .iter()
                .zip(&trades)
                .enumerate()
                .map(|(k, (i, t))| (i, generation, k as i32, *t));
            copy_individuals(tx, rows).map_err(e)?;
            Ok(())
        })
    }

    pub(super) fn read_generation_rows(&self, run_id: &str) -> Result<Vec<GenerationRecord>, StorageError> {
        let rows = self
            .c()
            .query(
                "SELECT run_id, generation, best, mean, std, diversity, evaluations, cache_hits, elapsed_ms
                 FROM generations WHERE run_id = $1 ORDER BY generation",
                &[&run_id],
            )
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                let e = |e| self.err(e);
                let f = |i: usize| r.try_get::<_, Option<f64>>(i).map(|v| v.unwrap_or(f64::NAN)).map_err(e);
                Ok(GenerationRecord {
                    run_id: r.try_get(0).map_err(e)?,
                    generation: self.unsigned("generation", r.try_get(1).map_err(e)?)?,
                    best: f(2)?,
                    mean: f(3)?,
                    std: f(4)?,
                    diversity: f(5)?,
                    evaluations: self.unsigned("evaluations", r.try_get(6).map_err(e)?)?,
                    cache_hits: self.unsigned("cache_hits", r.try_get(7).map_err(e)?)?,
                    elapsed_ms: self.unsigned("elapsed_ms", r.try_get(8).map_err(e)?)?,
                })
            })
            .collect()
    }

    pub(super) fn read_individual_rows(
        &self,
        run_id: &str,
        generation: Option<u32>,
    ) -> Result<Vec<IndividualRecord>, StorageError> {
        let (lo, hi) = generation.map_or((0i64, i64::from(u32::MAX)), |g| (i64::from(g), i64::from(g)));
        let rows = self
            .c()
            .query(
                "SELECT run_id, generation, seed_name, genome_json, genome_hash, fitness, sharpe, return_pct,
                        max_drawdown_pct, num_trades
                 FROM individuals WHERE run_id = $1 AND generation BETWEEN $2 AND $3 ORDER BY generation, ordinal",
                &[&run_id, &lo, &hi],
            )
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                let e = |e| self.err(e);
                let f = |i: usize| r.try_get::<_, Option<f64>>(i).map(|v| v.unwrap_or(f64::NAN)).map_err(e);
                Ok(IndividualRecord {
                    run_id: r.try_get(0).map_err(e)?,
                    generation: self.unsigned("generation", r.try_get(1).map_err(e)?)?,
                    seed_name: r.try_get(2).map_err(e)?,
                    genome_json: r.try_get(3).map_err(e)?,
                    genome_hash: r.try_get(4).map_err(e)?,
                    fitness: f(5)?,
                    sharpe: f(6)?,
                    return_pct: f(7)?,
                    max_drawdown_pct: f(8)?,
                    num_trades: self.unsigned("num_trades", r.try_get(9).map_err(e)?)?,
                })
            })
            .collect()
    }

    pub(super) fn write_hall_of_fame_rows(
        &self,
        run_id: &str,
        entries: &[HallOfFameRecord],
    ) -> Result<(), StorageError> {
        if let Some(bad) = entries.iter().find(|e| e.run_id != run_id) {
            return Err(StorageError::InvalidInput(format!(
                "hall-of-fame entry of run `{}` passed for run `{run_id}`",
                bad.run_id
            )));
        }
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            replace_hall_of_fame(tx, run_id, entries).map_err(e)
        })
    }

    pub(super) fn read_hall_of_fame_rows(&self, run_id: &str) -> Result<Vec<HallOfFameRecord>, StorageError> {
        let rows = self
            .c()
            .query(
                "SELECT run_id, rank, seed_name, genome_json, fitness, train_stats_json, test_stats_json,
                 coalesce(validation_json, 'null')
                 FROM hall_of_fame WHERE run_id = $1 ORDER BY rank, ordinal",
                &[&run_id],
            )
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                let e = |e| self.err(e);
                Ok(HallOfFameRecord {
                    run_id: r.try_get(0).map_err(e)?,
                    rank: self.unsigned("rank", r.try_get(1).map_err(e)?)?,
                    seed_name: r.try_get(2).map_err(e)?,
                    genome_json: r.try_get(3).map_err(e)?,
                    fitness: r.try_get::<_, Option<f64>>(4).map_err(e)?.unwrap_or(f64::NAN),
                    train_stats_json: r.try_get(5).map_err(e)?,
                    test_stats_json: r.try_get(6).map_err(e)?,
                    validation_json: r.try_get(7).map_err(e)?,
                })
            })
            .collect()
    }

    pub(super) fn write_checkpoint_row(&self, cp: &Checkpoint) -> Result<(), StorageError> {
        let (generation, bytes, sum) = (
            i64::from(cp.generation),
            as_i64("checkpoint size", cp.payload.len() as u64)?,
            checksum(&cp.payload),
        );
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            tx.execute(
                "DELETE FROM checkpoints WHERE run_id = $1 AND generation = $2",
                &[&cp.run_id, &generation],
            )
            .map_err(e)?;
            tx.execute(
                "INSERT INTO checkpoints VALUES ($1, $2, $3, $4, $5, $6)",
                &[&cp.run_id, &generation, &now_ms(), &cp.payload, &bytes, &sum],
            )
            .map_err(e)?;
            Ok(())
        })
    }

    pub(super) fn read_checkpoint_row(
        &self,
        run_id: &str,
        generation: Option<u32>,
    ) -> Result<Option<Checkpoint>, StorageError> {
        let (lo, hi) = generation.map_or((0i64, i64::from(u32::MAX)), |g| (i64::from(g), i64::from(g)));
        let row = self
            .c()
            .query_opt(
                "SELECT generation, payload, bytes, checksum FROM checkpoints
                 WHERE run_id = $1 AND generation BETWEEN $2 AND $3 ORDER BY generation DESC LIMIT 1",
                &[&run_id, &lo, &hi],
            )
            .map_err(|e| self.err(e))?;
        let Some(r) = row else { return Ok(None) };
        let e = |e| self.err(e);
        let generation: u32 = self.unsigned("generation", r.try_get(0).map_err(e)?)?;
        let payload: Vec<u8> = r.try_get(1).map_err(e)?;
        let bytes: i64 = r.try_get(2).map_err(e)?;
        let sum: String = r.try_get(3).map_err(e)?;
        if payload.len() as i64 != bytes || checksum(&payload) != sum {
            return Err(self.corrupt(format!(
                "checkpoint of run `{run_id}` generation {generation} fails its checksum"
            )));
        }
        Ok(Some(Checkpoint {
            run_id: run_id.to_string(),
            generation,
            payload,
        }))
    }

    pub(super) fn cache_get_row(&self, key: &FitnessKey) -> Result<Option<f64>, StorageError> {
        let row = self
            .c()
            .query_opt(
                "SELECT fitness FROM fitness_cache
                 WHERE data_fingerprint = $1 AND objective = $2 AND genome_hash = $3 AND genome_json = $4",
                &[
                    &key.data_fingerprint,
                    &key.objective,
                    &genome_hash(&key.genome_json),
                    &key.genome_json,
                ],
            )
            .map_err(|e| self.err(e))?;
        row.map(|r| r.try_get(0).map_err(|e| self.err(e))).transpose()
    }

    /// One multi-row upsert (arrays unnested server-side), last value winning per key.
    pub(super) fn cache_put_rows(&self, entries: &[(FitnessKey, f64)]) -> Result<(), StorageError> {
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
        type Columns<'a> = (Vec<&'a str>, Vec<&'a str>, Vec<&'a str>, Vec<&'a str>, Vec<f64>);
        let mut cols: Columns<'_> = Default::default();
        for ((fp, obj, hash), (json, f)) in &unique {
            cols.0.push(fp);
            cols.1.push(obj);
            cols.2.push(hash);
            cols.3.push(json);
            cols.4.push(*f);
        }
        let now = now_ms();
        self.in_tx(|tx| {
            tx.execute(
                "INSERT INTO fitness_cache
                 SELECT fp, obj, h, j, f, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[])
                   AS u(fp, obj, h, j, f)
                 ON CONFLICT (data_fingerprint, objective, genome_hash) DO UPDATE SET genome_json = excluded.genome_json,
                   fitness = excluded.fitness, created_at_ms = excluded.created_at_ms",
                &[&cols.0, &cols.1, &cols.2, &cols.3, &cols.4, &now],
            )
            .map_err(|e| self.err(e))?;
            Ok(())
        })
    }
}

/// Replaces run `run_id`'s hall of fame with `entries` (binary COPY) inside transaction `tx`.
pub(super) fn replace_hall_of_fame(
    tx: &mut postgres::Transaction<'_>,
    run_id: &str,
    entries: &[HallOfFameRecord],
) -> Result<(), postgres::Error> {
    tx.execute("DELETE FROM hall_of_fame WHERE run_id = $1", &[&run_id])?;
    let sink = tx.copy_in(
        "COPY hall_of_fame (run_id, rank, ordinal, seed_name, genome_json, fitness, train_stats_json,
             test_stats_json, validation_json) FROM STDIN (FORMAT binary)",
    )?;
    let t = Type::TEXT;
    let types = [
        t.clone(),
        Type::INT8,
        Type::INT4,
        t.clone(),
        t.clone(),
        Type::FLOAT8,
        t.clone(),
        t.clone(),
        t,
    ];
    let mut w = BinaryCopyInWriter::new(sink, &types);
    for (k, h) in entries.iter().enumerate() {
        let (rank, ordinal) = (i64::from(h.rank), k as i32);
        w.write(&[
            &h.run_id,
            &rank,
            &ordinal,
            &h.seed_name,
            &h.genome_json,
            &h.fitness,
            &h.train_stats_json,
            &h.test_stats_json,
            &h.validation_json,
        ])?;
    }
    w.finish()?;
    Ok(())
}

/// Appends `rows` (an individual with its generation, its ordinal in the generation and its
/// number of trades) to `individuals` with one binary `COPY`.
pub(super) fn copy_individuals<'r>(
    tx: &mut postgres::Transaction<'_>,
    rows: impl Iterator<Item = (&'r IndividualRecord, i64, i32, i64)>,
) -> Result<(), postgres::Error> {
    let sink = tx.copy_in(
        "COPY individuals (run_id, generation, ordinal, seed_name, genome_json, genome_hash, fitness, sharpe,
         return_pct, max_drawdown_pct, num_trades) FROM STDIN (FORMAT binary)",
    )?;
    let (t, f8) = (Type::TEXT, Type::FLOAT8);
    let types = [
        t.clone(),
        Type::INT8,
        Type::INT4,
        t.clone(),
        t.clone(),
        t,
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8,
        Type::INT8,
    ];
    let mut w = BinaryCopyInWriter::new(sink, &types);
    for (i, generation, ordinal, trades) in rows {
        w.write(&[
            &i.run_id,
            &generation,
            &ordinal,
            &i.seed_name,
            &i.genome_json,
            &i.genome_hash,
            &i.fitness,
            &i.sharpe,
            &i.return_pct,
            &i.max_drawdown_pct,
            &trades,
        ])?;
    }
    w.finish()?;
    Ok(())
}
