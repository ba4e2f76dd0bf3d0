//! Run overviews straight from PostgreSQL (`runs list` / `runs show` while a run writes: readers never wait for the writer), and the error of a failed run.

use super::super::records::{GenerationRecord, RunStatus};
use super::super::run_status::RunOverview;
use super::super::StorageError;
use super::PostgresStorage;

impl PostgresStorage {
    /// Marks a run failed with `error` (kept in `runs.error`).
    pub(super) fn fail_run_row(&self, run_id: &str, error: &str, ended_at_ms: i64) -> Result<(), StorageError> {
        let n = self
            .c()
            .execute(
                "UPDATE runs SET status = $1, ended_at_ms = $2, error = $3 WHERE run_id = $4",
                &[&RunStatus::Failed.as_str(), &ended_at_ms, &error, &run_id],
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(StorageError::InvalidInput(format!("no run `{run_id}` in {}", self.loc)));
        }
        Ok(())
    }

    /// Every run with its error and generations, oldest first, read in one snapshot (a
    /// repeatable-read transaction: a generation committed meanwhile is in all or none).
    pub fn run_overviews(&self) -> Result<Vec<RunOverview>, StorageError> {
        self.c()
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(|e| self.err(e))?;
        let result = self.read_overviews();
        let end = self
            .c()
            .batch_execute(if result.is_ok() { "COMMIT" } else { "ROLLBACK" });
        let runs = result?;
        end.map_err(|e| self.err(e))?;
        Ok(runs)
    }

    fn read_overviews(&self) -> Result<Vec<RunOverview>, StorageError> {
        let runs = self.list_run_rows()?;
        let errors = self
            .c()
            .query("SELECT run_id, error FROM runs WHERE error IS NOT NULL", &[])
            .map_err(|e| self.err(e))?;
        let errors: Vec<(String, String)> = errors
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(|e| self.err(e))?,
                    r.try_get(1).map_err(|e| self.err(e))?,
                ))
            })
            .collect::<Result<_, StorageError>>()?;
        runs.iter()
            .map(|run| {
                let generations: Vec<GenerationRecord> = self.read_generation_rows(&run.run_id)?;
                let error = errors.iter().find(|(id, _)| *id == run.run_id).map(|(_, e)| e.clone());
                Ok(RunOverview::new(run, &generations, error))
            })
            .collect()
    }
}
