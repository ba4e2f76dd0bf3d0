//! What `runs list` / `runs show` read: each run's status, error, start/end and per-generation wall time, published beside a DuckDB results file (readable while its writer holds it) or read from PostgreSQL directly.
//!
//! DuckDB lets no other process open a file while one writes it. So every change of a run in
//! the local and shared backends (created, a generation stored, finished, deleted) is also
//! published, after the database commit, as `RESULTS.runs/RUN_ID.json` beside the results
//! file (`evoflow.duckdb.runs/` or `SHARED/results.duckdb.runs/`), replaced by an atomic
//! rename: readers see the previous version or the next, never a torn one. The document is
//! rebuilt from the database at each change of the run itself; a stored batch of generations
//! adds them to the writer's last published document (what it just committed, without reading
//! it back). It never says more than was committed; a crash
//! between a commit and its publication leaves it one step behind. PostgreSQL readers never
//! wait for the writer and read the tables.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::db::DbFile;
use super::fsutil::{atomic_write, hostname, temp_path_for};
use super::records::{GenerationRecord, RunRecord, RunStatus};
use super::schema::now_ms;
use super::{BackendKind, OpenMode, StorageConfig, StorageError, SHARED_RESULTS_DB};

/// One run as readers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOverview {
    pub run_id: String,
    /// `running`, `completed`, `interrupted` or `failed`. A writer killed outright leaves
    /// `running` (see `writer`).
    pub status: RunStatus,
    /// Why a `failed` run failed.
    pub error: Option<String>,
    pub seed: u64,
    pub code_version: String,
    pub data_fingerprint: String,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    /// The writer that last published this document (`host:pid`; local and shared backends).
    pub writer: Option<String>,
    /// When this was last published (local and shared) or read (postgres).
    pub updated_at_ms: i64,
    /// The stored generations, in order.
    pub generations: Vec<GenerationTiming>,
}

/// One stored generation: its wall time and headline numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationTiming {
    pub generation: u32,
    /// Wall time of the generation in the evolution loop, in milliseconds.
    pub elapsed_ms: u64,
    /// Best and mean fitness (`None` when not finite).
    pub best: Option<f64>,
    pub mean: Option<f64>,
    pub evaluations: u64,
    pub cache_hits: u64,
}

impl GenerationTiming {
    fn from_record(g: &GenerationRecord) -> GenerationTiming {
        let finite = |v: f64| v.is_finite().then_some(v);
        GenerationTiming {
            generation: g.generation,
            elapsed_ms: g.elapsed_ms,
            best: finite(g.best),
            mean: finite(g.mean),
            evaluations: g.evaluations,
            cache_hits: g.cache_hits,
        }
    }
}

impl RunOverview {
    /// The overview of `run` with its stored `generations`.
    pub fn new(run: &RunRecord, generations: &[GenerationRecord], error: Option<String>) -> RunOverview {
        RunOverview {
            run_id: run.run_id.clone(),
            status: run.status,
            error,
            seed: run.seed,
            code_version: run.code_version.clone(),
            data_fingerprint: run.data_fingerprint.clone(),
            started_at_ms: run.started_at_ms,
            ended_at_ms: run.ended_at_ms,
            writer: None,
            updated_at_ms: now_ms(),
            generations: generations.iter().map(GenerationTiming::from_record).collect(),
        }
    }

    /// Sum of the generations' wall times, in milliseconds.
    pub fn generations_ms(&self) -> u64 {
        self.generations.iter().map(|g| g.elapsed_ms).sum()
    }
}

/// The directory where the run documents of the DuckDB results file `db` are published.
pub fn status_dir_for(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".runs");
    PathBuf::from(s)
}

fn status_file(dir: &Path, run_id: &str) -> PathBuf {
    dir.join(format!("{run_id}.json"))
}

fn read_doc(path: &Path) -> Result<RunOverview, StorageError> {
    let text = std::fs::read(path).map_err(|e| StorageError::io(path, &e))?;
    serde_json::from_slice(&text).map_err(|e| StorageError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("unreadable run status document: {e}"),
    })
}

impl DbFile {
    /// Publishes run `run_id` as committed in this database (`error` for a failed run; the
    /// error already published is kept otherwise); removes its document when the run is gone.
    /// `durable` fsyncs it (the ends of a run); per-generation updates are only renamed.
    pub(crate) fn publish_status(&self, run_id: &str, error: Option<&str>, durable: bool) -> Result<(), StorageError> {
        let dir = status_dir_for(&self.path);
        let path = status_file(&dir, run_id);
        let Some(run) = self.get_run(run_id)? else {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StorageError::io(&path, &e)),
                _ => Ok(()),
            };
        };
        let error = match (error, run.status) {
            (Some(e), _) => Some(e.to_string()),
            (None, RunStatus::Failed) => read_doc(&path).ok().and_then(|d| d.error),
            (None, _) => None,
        };
        let mut doc = RunOverview::new(&run, &self.read_generations(run_id)?, error);
        doc.writer = Some(format!("{}:{}", hostname(), std::process::id()));
        self.write_status(&dir, &path, doc, durable)
    }

    /// Publishes run `run_id` after a committed batch of `generations` (consecutive, in order,
    /// replacing any stored from the first of them on): the last published document with
    /// them, or the document read from the database when this writer published none of that
    /// run.
    pub(crate) fn publish_generations(
        &self,
        run_id: &str,
        generations: &[&GenerationRecord],
    ) -> Result<(), StorageError> {
        let cached = self
            .published
            .lock()
            .ok()
            .and_then(|mut p| p.take())
            .filter(|doc| doc.run_id == run_id);
        let (Some(mut doc), Some(first)) = (cached, generations.first()) else {
            return self.publish_status(run_id, None, false);
        };
        let last = generations.last().map_or(first.generation, |g| g.generation);
        doc.generations
            .retain(|g| g.generation < first.generation || g.generation > last);
        doc.generations
            .extend(generations.iter().map(|g| GenerationTiming::from_record(g)));
        doc.generations.sort_by_key(|g| g.generation);
        doc.updated_at_ms = now_ms();
        let dir = status_dir_for(&self.path);
        let path = status_file(&dir, run_id);
        self.write_status(&dir, &path, doc, false)
    }

    /// Writes `doc` as the status document `path` in `dir` (synced when `durable`) and keeps
    /// it as the last published.
    fn write_status(&self, dir: &Path, path: &Path, doc: RunOverview, durable: bool) -> Result<(), StorageError> {
        let path = path.to_path_buf();
        std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, &e))?;
        let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| StorageError::InvalidInput(e.to_string()))?;
        if durable {
            atomic_write(&path, &bytes)?;
        } else {
            let tmp = temp_path_for(&path);
            if let Err(e) = std::fs::write(&tmp, &bytes) {
                let _ = std::fs::remove_file(&tmp);
                return Err(StorageError::io(&path, &e));
            }
            std::fs::rename(&tmp, &path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                StorageError::io(&path, &e)
            })?;
        }
        if let Ok(mut p) = self.published.lock() {
            *p = Some(doc);
        }
        Ok(())
    }

    /// Marks a run failed with `error` and publishes it (kept in its status document).
    pub(crate) fn fail_run(&self, run_id: &str, error: &str, ended_at_ms: i64) -> Result<(), StorageError> {
        self.finish_run(run_id, RunStatus::Failed, ended_at_ms)?;
        self.publish_status(run_id, Some(error), true)
    }

    /// Every run of this database, with the errors their documents keep.
    fn overviews(&self) -> Result<Vec<RunOverview>, StorageError> {
        let dir = status_dir_for(&self.path);
        self.list_runs()?
            .into_iter()
            .map(|run| {
                let doc = read_doc(&status_file(&dir, &run.run_id)).ok();
                let mut o = RunOverview::new(&run, &self.read_generations(&run.run_id)?, None);
                if let Some(d) = doc {
                    o.error = d.error;
                    o.writer = d.writer;
                }
                Ok(o)
            })
            .collect()
    }
}

/// Where a backend's readers find runs.
enum Source {
    /// A DuckDB results file and its published documents.
    Duck(PathBuf),
    Postgres,
}

fn source(config: &StorageConfig) -> Result<Source, StorageError> {
    match config.backend {
        BackendKind::Local => Ok(Source::Duck(config.db_path.clone())),
        BackendKind::Shared => match &config.shared_dir {
            Some(dir) => Ok(Source::Duck(dir.join(SHARED_RESULTS_DB))),
            None => Err(StorageError::Config("the shared backend needs a directory".into())),
        },
        BackendKind::Postgres => Ok(Source::Postgres),
    }
}

/// The published documents in `dir`, skipping temporary files.
fn read_docs(dir: &Path) -> Result<Vec<RunOverview>, StorageError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StorageError::io(dir, &e)),
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        out.push(read_doc(&e.path())?);
    }
    Ok(out)
}

/// Every run of the configured storage, oldest first. Works while a run is being written:
/// the local and shared backends answer from the published documents while the writer holds
/// the database (and merge in runs stored before documents were published when it does not);
/// PostgreSQL is read directly.
pub fn read_run_overviews(config: &StorageConfig) -> Result<Vec<RunOverview>, StorageError> {
    let mut runs = match source(config)? {
        Source::Postgres => {
            let url = config
                .pg_url
                .as_ref()
                .ok_or_else(|| StorageError::Config("the postgres backend needs --pg-url".into()))?;
            super::PostgresStorage::open(url, OpenMode::ReadOnly)?.run_overviews()?
        }
        Source::Duck(db) => {
            let mut docs = read_docs(&status_dir_for(&db))?;
            for run in duck_overviews(&db, docs.is_empty())? {
                if !docs.iter().any(|d| d.run_id == run.run_id) {
                    docs.push(run);
                }
            }
            docs
        }
    };
    runs.sort_by(|a, b| (a.started_at_ms, &a.run_id).cmp(&(b.started_at_ms, &b.run_id)));
    Ok(runs)
}

/// The runs stored in DuckDB file `db`, or none while a live writer holds it (its runs are
/// published). A missing file holds no runs unless `must_exist`.
fn duck_overviews(db: &Path, must_exist: bool) -> Result<Vec<RunOverview>, StorageError> {
    if !db.exists() && !must_exist {
        return Ok(Vec::new());
    }
    match DbFile::open(db, OpenMode::ReadOnly) {
        Ok(file) => file.overviews(),
        // DuckDB's own lock: a live writer has the file open.
        Err(StorageError::InUse { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// One run, if stored (see [`read_run_overviews`]).
pub fn read_run_overview(config: &StorageConfig, run_id: &str) -> Result<Option<RunOverview>, StorageError> {
    super::validate_name("run id", run_id)?;
    if let Source::Duck(db) = source(config)? {
        let path = status_file(&status_dir_for(&db), run_id);
        if path.exists() {
            return read_doc(&path).map(Some);
        }
    }
    Ok(read_run_overviews(config)?.into_iter().find(|r| r.run_id == run_id))
}
