//! Batched results writes in PostgreSQL: several generations with their checkpoints in one transaction (one binary COPY of all their individuals), and a run's completion in one.

use super::super::batch::{check_batch, check_hall_of_fame, GenerationWrite};
use super::super::records::{HallOfFameRecord, RunStatus};
use super::super::results::checksum;
use super::super::schema::now_ms;
use super::super::StorageError;
use super::results::{copy_individuals, replace_hall_of_fame};
use super::PostgresStorage;

fn as_i64(what: &str, v: u64) -> Result<i64, StorageError> {
    i64::try_from(v).map_err(|_| StorageError::InvalidInput(format!("{what} {v} is too large to store")))
}

impl PostgresStorage {
    /// `batch` in one transaction: a crash before the commit leaves the generations committed
    /// before and nothing of these.
    pub(super) fn record_generations_rows(&self, batch: &[GenerationWrite]) -> Result<(), StorageError> {
        check_batch(batch)?;
        let mut counts = Vec::with_capacity(batch.len());
        for w in batch {
            let s = &w.stats;
            counts.push([
                as_i64("evaluations", s.evaluations)?,
                as_i64("cache hits", s.cache_hits)?,
                as_i64("elapsed ms", s.elapsed_ms)?,
                as_i64("checkpoint size", w.checkpoint.payload.len() as u64)?,
            ]);
            for i in &w.individuals {
                as_i64("num_trades", i.num_trades)?;
            }
        }
        let now = now_ms();
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            let del_gen = tx
                .prepare("DELETE FROM generations WHERE run_id = $1 AND generation = $2")
                .map_err(e)?;
            let del_ind = tx
                .prepare("DELETE FROM individuals WHERE run_id = $1 AND generation = $2")
                .map_err(e)?;
            let del_cp = tx
                .prepare("DELETE FROM checkpoints WHERE run_id = $1 AND generation = $2")
                .map_err(e)?;
            let ins_gen = tx
                .prepare("INSERT INTO generations VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .map_err(e)?;
            let ins_cp = tx
                .prepare("INSERT INTO checkpoints VALUES ($1, $2, $3, $4, $5, $6)")
                .map_err(e)?;
            for (w, c) in batch.iter().zip(&counts) {
                let s = &w.stats;
                let g = i64::from(s.generation);
                let cg = i64::from(w.checkpoint.generation);
                tx.execute(&del_gen, &[&s.run_id, &g]).map_err(e)?;
                tx.execute(&del_ind, &[&s.run_id, &g]).map_err(e)?;
                tx.execute(&del_cp, &[&s.run_id, &cg]).map_err(e)?;
                tx.execute(
                    &ins_gen,
                    &[
                        &s.run_id,
                        &g,
                        &s.best,
                        &s.mean,
                        &s.std,
                        &s.diversity,
                        &c[0],
                        &c[1],
                        &c[2],
                    ],
                )
                .map_err(e)?;
                tx.execute(
                    &ins_cp,
                    &[
                        &s.run_id,
                        &cg,
                        &now,
                        &w.checkpoint.payload,
                        &c[3],
                        &checksum(&w.checkpoint.payload),
                    ],
                )
                .map_err(e)?;
            }
            let rows = batch.iter().flat_map(|w| {
                let g = i64::from(w.stats.generation);
                w.individuals
                    .iter()
                    .enumerate()
                    .map(move |(k, i)| (i, g, k as i32, i.num_trades as i64))
            });
            copy_individuals(tx, rows).map_err(e)?;
            Ok(())
        })
    }

    /// The hall of fame and the `completed` status in one transaction.
    pub(super) fn complete_run_rows(
        &self,
        run_id: &str,
        entries: &[HallOfFameRecord],
        ended_at_ms: i64,
    ) -> Result<(), StorageError> {
        check_hall_of_fame(run_id, entries)?;
        self.in_tx(|tx| {
            let e = |e| self.err(e);
            let n = tx
                .execute(
                    "UPDATE runs SET status = $1, ended_at_ms = $2, error = NULL WHERE run_id = $3",
                    &[&RunStatus::Completed.as_str(), &ended_at_ms, &run_id],
                )
                .map_err(e)?;
            if n == 0 {
                return Err(StorageError::InvalidInput(format!("no run `{run_id}` in {}", self.loc)));
            }
            replace_hall_of_fame(tx, run_id, entries).map_err(e)
        })
    }
}
