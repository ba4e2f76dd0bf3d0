//! Batched results writes for the DuckDB backends: several generations with their checkpoints in one transaction (one commit, one fsync), and a run's completion (hall of fame and status) in one.

use duckdb::params;

use super::db::DbFile;
use super::records::{Checkpoint, GenerationRecord, HallOfFameRecord, IndividualRecord, RunStatus};
use super::results::checksum;
use super::schema::now_ms;
use super::StorageError;

/// What a handle stored of a run it created: the newest generation and checkpoint.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stored {
    generation: Option<u32>,
    checkpoint: Option<u32>,
}

impl Stored {
    /// Whether generations (or, with `checkpoint`, checkpoints) `from..` may have rows already.
    fn may_hold(&self, checkpoint: bool, from: u32) -> bool {
        let newest = if checkpoint { self.checkpoint } else { self.generation };
        newest.is_some_and(|newest| from <= newest)
    }
}

/// One generation as the writer stores it: its statistics, its individuals and the checkpoint
/// the run resumes from after it (normally of the next generation).
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationWrite {
    pub stats: GenerationRecord,
    pub individuals: Vec<IndividualRecord>,
    pub checkpoint: Checkpoint,
}

/// Checks that every record of `batch` belongs to its generation's run and generation.
pub fn check_batch(batch: &[GenerationWrite]) -> Result<(), StorageError> {
    for w in batch {
        let s = &w.stats;
        if let Some(bad) = w
            .individuals
            .iter()
            .find(|i| i.run_id != s.run_id || i.generation != s.generation)
        {
            return Err(StorageError::InvalidInput(format!(
                "individual of run `{}` generation {} passed with generation {} of run `{}`",
                bad.run_id, bad.generation, s.generation, s.run_id
            )));
        }
        if w.checkpoint.run_id != s.run_id {
            return Err(StorageError::InvalidInput(format!(
                "checkpoint of run `{}` passed with generation {} of run `{}`",
                w.checkpoint.run_id, s.generation, s.run_id
            )));
        }
        super::validate_name("run id", &s.run_id)?;
    }
    Ok(())
}

/// The `(run, generation)` pairs as spans `(run, first, last)` of consecutive generations,
/// one per distinct pair (a batch normally gives one span).
fn ranges<'a>(pairs: impl Iterator<Item = (&'a String, u32)>) -> Vec<(&'a str, u32, u32)> {
    let mut sorted: Vec<(&str, u32)> = pairs.map(|(r, g)| (r.as_str(), g)).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut spans: Vec<(&str, u32, u32)> = Vec::new();
    for (run, g) in sorted {
        match spans.last_mut() {
            Some((r, _, last)) if *r == run && last.checked_add(1) == Some(g) => *last = g,
            _ => spans.push((run, g, g)),
        }
    }
    spans
}

/// A generation as the schema's `INTEGER`. Parameters are bound with their column's exact
/// type: DuckDB prepares a statement again on every execution whose parameter types differ
/// from those it was prepared with (a `u32` binds as `UINTEGER`, `None` as the NULL type),
/// which made planning most of the writer's time.
pub(crate) fn integer(generation: u32) -> Result<i32, StorageError> {
    i32::try_from(generation)
        .map_err(|_| StorageError::InvalidInput(format!("generation {generation} is beyond the schema's INTEGER")))
}

/// Checks that hall-of-fame `entries` belong to `run_id`.
pub fn check_hall_of_fame(run_id: &str, entries: &[HallOfFameRecord]) -> Result<(), StorageError> {
    match entries.iter().find(|e| e.run_id != run_id) {
        Some(bad) => Err(StorageError::InvalidInput(format!(
            "hall-of-fame entry of run `{}` passed for run `{run_id}`",
            bad.run_id
        ))),
        None => Ok(()),
    }
}

impl DbFile {
    /// Stores `batch` in one transaction, replacing earlier attempts at its generations and
    /// checkpoints. A checkpoint's payload is inline, or in the file named by `files[i]`
    /// (written and synced before this is called).
    pub(crate) fn record_generations(
        &self,
        batch: &[GenerationWrite],
        files: Option<&[String]>,
    ) -> Result<(), StorageError> {
        check_batch(batch)?;
        if files.is_some_and(|f| f.len() != batch.len()) {
            return Err(StorageError::InvalidInput("one checkpoint file per generation".into()));
        }
        let now = now_ms();
        self.in_transaction(|conn| {
            let e = |e| self.err(e);
            // Earlier attempts at the batch's generations (a resumed run's): one statement per
            // table and run of consecutive generations (normally the whole batch). A run this
            // handle created has none beyond what it stored itself (it holds the writer lock).
            let created = self.created.lock().ok();
            let earlier = |run: &str, from: u32, checkpoint: bool| {
                created
                    .as_ref()
                    .and_then(|c| c.get(run))
                    .is_none_or(|s| s.may_hold(checkpoint, from))
            };
            let gens = ranges(batch.iter().map(|w| (&w.stats.run_id, w.stats.generation)));
            let cps = ranges(batch.iter().map(|w| (&w.checkpoint.run_id, w.checkpoint.generation)));
            for (table, spans, checkpoint) in [
                ("generations", &gens, false),
                ("individuals", &gens, false),
                ("checkpoints", &cps, true),
            ] {
                let spans: Vec<_> = spans
                    .iter()
                    .filter(|(run, from, _)| earlier(run, *from, checkpoint))
                    .collect();
                if spans.is_empty() {
                    continue;
                }
                let sql = format!("DELETE FROM {table} WHERE run_id = ? AND generation BETWEEN ? AND ?");
                let mut delete = conn.prepare_cached(&sql).map_err(e)?;
                for (run_id, from, to) in spans {
                    delete
                        .execute(params![run_id, integer(*from)?, integer(*to)?])
                        .map_err(e)?;
                }
            }
            let mut ins_gen = conn
                .prepare_cached("INSERT INTO generations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .map_err(e)?;
            // Inline payload or file: NULL is written in the SQL, never bound (see `integer`).
            let mut ins_inline = conn
                .prepare_cached("INSERT INTO checkpoints VALUES (?, ?, ?, ?, NULL, ?, ?)")
                .map_err(e)?;
            let mut ins_file = conn
                .prepare_cached("INSERT INTO checkpoints VALUES (?, ?, ?, NULL, ?, ?, ?)")
                .map_err(e)?;
            for (k, w) in batch.iter().enumerate() {
                let s = &w.stats;
                let cp = &w.checkpoint;
                ins_gen
                    .execute(params![
                        s.run_id,
                        integer(s.generation)?,
                        s.best,
                        s.mean,
                        s.std,
                        s.diversity,
                        s.evaluations,
                        s.cache_hits,
                        s.elapsed_ms
                    ])
                    .map_err(e)?;
                let (bytes, sum) = (cp.payload.len() as u64, checksum(&cp.payload));
                let generation = integer(cp.generation)?;
                match files.map(|f| f[k].as_str()) {
                    None => ins_inline.execute(params![cp.run_id, generation, now, &cp.payload[..], bytes, sum]),
                    Some(file) => ins_file.execute(params![cp.run_id, generation, now, file, bytes, sum]),
                }
                .map_err(e)?;
            }
            let mut app = conn.appender("individuals").map_err(e)?;
            for i in batch.iter().flat_map(|w| &w.individuals) {
                app.append_row(params![
                    i.run_id,
                    integer(i.generation)?,
                    i.seed_name,
                    i.genome_json,
                    i.genome_hash,
                    i.fitness,
                    i.sharpe,
                    i.return_pct,
                    i.max_drawdown_pct,
                    i.num_trades
                ])
                .map_err(e)?;
            }
            drop(created);
            app.flush().map_err(e)
        })?;
        self.stored_batch(batch);
        Ok(())
    }

    /// Remembers that `run_id` was created by this handle, with nothing stored yet.
    pub(crate) fn created_run(&self, run_id: &str) {
        if let Ok(mut c) = self.created.lock() {
            c.insert(run_id.to_string(), Stored::default());
        }
    }

    /// Forgets that `run_id` was created by this handle (a write other than
    /// [`Self::record_generations`] may have stored rows its batches would have to replace).
    pub(crate) fn forget_created(&self, run_id: &str) {
        if let Ok(mut c) = self.created.lock() {
            c.remove(run_id);
        }
    }

    /// Notes the committed `batch` for the runs this handle created.
    fn stored_batch(&self, batch: &[GenerationWrite]) {
        if let Ok(mut c) = self.created.lock() {
            for w in batch {
                if let Some(s) = c.get_mut(&w.stats.run_id) {
                    s.generation = s.generation.max(Some(w.stats.generation));
                }
                if let Some(s) = c.get_mut(&w.checkpoint.run_id) {
                    s.checkpoint = s.checkpoint.max(Some(w.checkpoint.generation));
                }
            }
        }
    }

    /// Replaces the hall of fame of `run_id` and marks it completed at `ended_at_ms`, in one
    /// transaction.
    pub(crate) fn complete_run(
        &self,
        run_id: &str,
        entries: &[HallOfFameRecord],
        ended_at_ms: i64,
    ) -> Result<(), StorageError> {
        check_hall_of_fame(run_id, entries)?;
        self.in_transaction(|conn| {
            let e = |e| self.err(e);
            let n = conn
                .execute(
                    "UPDATE runs SET status = ?, ended_at_ms = ? WHERE run_id = ?",
                    params![RunStatus::Completed.as_str(), ended_at_ms, run_id],
                )
                .map_err(e)?;
            if n == 0 {
                return Err(StorageError::InvalidInput(format!(
                    "no run `{run_id}` in {}",
                    self.path.display()
                )));
            }
            conn.execute("DELETE FROM hall_of_fame WHERE run_id = ?", params![run_id])
                .map_err(e)?;
            let mut app = conn.appender("hall_of_fame").map_err(e)?;
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
                .map_err(e)?;
            }
            app.flush().map_err(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn consecutive_generations_make_one_span_per_run() {
        let (a, b) = ("a".to_string(), "b".to_string());
        let pairs = [(&a, 3), (&a, 4), (&a, 5), (&a, 7), (&b, 1), (&a, 4)];
        assert_eq!(ranges(pairs.into_iter()), vec![("a", 3, 5), ("a", 7, 7), ("b", 1, 1)]);
        assert_eq!(ranges(std::iter::empty()), vec![]);
    }
}
