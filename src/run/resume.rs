//! Reading a stored run to resume: its plan, status and latest checkpoint, checked against the request.

use evoflow_dataflows::{stop_reason, Checkpoint};

use super::{RunError, RunRequest};
use crate::evolution::EvolveSettings;
use crate::storage::{self, OpenMode, RunStatus, StorageConfig, StorageError};
use crate::strategy::Genome;

/// A stored run to continue: its plan (with the stopping rule given now), its status and its
/// latest checkpoint, decoded and as stored.
#[derive(Debug)]
pub struct ResumedRun {
    /// The stored plan, extended by the request's `--generations`/`--patience`.
    pub settings: EvolveSettings,
    /// The stored status: a `Completed` run is only printed again.
    pub status: RunStatus,
    /// The latest checkpoint.
    pub checkpoint: Checkpoint<Genome>,
    /// The checkpoint as stored, to tell whether it changed before this process took storage.
    pub checkpoint_payload: Vec<u8>,
    /// Set when another build of evoflow started the run.
    pub warning: Option<String>,
    /// The individuals stored so far: the trials before the checkpoint (the DSR's N and V)
    /// and, for a run already over, its final population.
    pub individuals: Vec<crate::storage::IndividualRecord>,
}

impl ResumedRun {
    /// Whether the run reached its stopping rule: complete, or killed after its last
    /// checkpoint. Its result is its last checkpoint's hall of fame; no generation is run.
    pub fn is_over(&self) -> bool {
        stop_reason(&self.settings.ga, &self.checkpoint.best_history).is_some()
    }
}

/// Between a run's bars source and its funding file in its stored data label.
pub const FUNDING_SEPARATOR: &str = " --funding ";

/// Where a stored run's market data came from, as its plan's data label names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredData {
    /// The bars.
    pub bars: StoredBars,
    /// The funding-rate file (`--funding`), if the run had one.
    pub funding: Option<String>,
}

/// Where a stored run's bars came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredBars {
    /// A series in storage (`--symbol S --timeframe T`).
    Series { symbol: String, timeframe: String },
    /// A file or embedded sample (`--data`).
    Source(String),
}

impl StoredData {
    /// Reads a data label: `storage:S/T` or a source, then ` --funding PATH` if any.
    pub fn parse(label: &str) -> StoredData {
        let (bars, funding) = match label.split_once(FUNDING_SEPARATOR) {
            Some((bars, funding)) => (bars, Some(funding.to_string())),
            None => (label, None),
        };
        let bars = match bars.strip_prefix("storage:").and_then(|st| st.split_once('/')) {
            Some((symbol, timeframe)) => StoredBars::Series {
                symbol: symbol.to_string(),
                timeframe: timeframe.to_string(),
            },
            None => StoredBars::Source(bars.to_string()),
        };
        StoredData { bars, funding }
    }
}

fn open_read_only(config: &StorageConfig) -> Result<Option<Box<dyn storage::Storage>>, RunError> {
    match storage::open_storage(config, OpenMode::ReadOnly) {
        Err(StorageError::NotFound { .. }) => Ok(None),
        opened => Ok(Some(opened?)),
    }
}

fn stored_settings(record: &storage::RunRecord) -> Result<EvolveSettings, RunError> {
    serde_json::from_str(&record.config_json).map_err(RunError::json(format!(
        "run {}: stored configuration is unreadable",
        record.run_id
    )))
}

/// The market data stored run `id` was started on; `None` when the run is not stored.
pub fn stored_data_source(config: &StorageConfig, id: &str) -> Result<Option<StoredData>, RunError> {
    let Some(s) = open_read_only(config)? else {
        return Ok(None);
    };
    let Some(record) = s.get_run(id)? else { return Ok(None) };
    Ok(Some(StoredData::parse(&stored_settings(&record)?.data)))
}

/// Whether run `id` is stored (a missing database holds no run).
pub fn run_is_stored(config: &StorageConfig, id: &str) -> Result<bool, RunError> {
    match open_read_only(config)? {
        None => Ok(false),
        Some(s) => Ok(s.get_run(id)?.is_some()),
    }
}

/// Reads run `id` to resume from storage, opened read-only (process 0 opens it for writing
/// only once every process has connected), and checks that this process was started for it:
/// the same market data (of fingerprint `data_fingerprint`), and with several processes the
/// flags of the original run (the other processes build their problem from their own flags).
pub fn read_resumed_run(
    config: &StorageConfig,
    id: &str,
    request: &RunRequest,
    data_fingerprint: &str,
    processes: usize,
) -> Result<ResumedRun, RunError> {
    let s = match storage::open_storage(config, OpenMode::ReadOnly) {
        Err(StorageError::NotFound { path, .. }) => {
            return Err(RunError::Request(format!(
                "--resume {id}: no such run ({} does not exist)",
                path.display()
            )))
        }
        opened => opened?,
    };
    let record = s
        .get_run(id)?
        .ok_or_else(|| RunError::Request(format!("--resume {id}: no such run in {}", s.location().display())))?;
    let stored = stored_settings(&record)?;
    let stored = request
        .resume_plan(&stored)
        .map_err(|e| RunError::Request(format!("--resume {id}: {e}")))?;
    stored
        .validate()
        .map_err(|e| RunError::Request(format!("--resume {id}: {e}")))?;
    if processes > 1 && stored != request.settings {
        return Err(RunError::Request(format!(
            "--resume {id} with several processes: give every process the flags of the original run (only \
             --generations may change); stored configuration: {}",
            record.config_json
        )));
    }
    if data_fingerprint != record.data_fingerprint {
        return Err(RunError::Request(format!(
            "--resume {id}: the market data differs from the run's ({}); pass the same --data",
            stored.data
        )));
    }
    let warning = (record.code_version != crate::BUILD).then(|| {
        format!(
            "run {id} was started by evoflow {} and resumes with {}: if the change touched how strategies are \
             scored, the resumed run will not match an uninterrupted one",
            record.code_version,
            crate::BUILD
        )
    });
    let stored_checkpoint = s
        .read_checkpoint(id, None)?
        .ok_or_else(|| RunError::Request(format!("--resume {id}: the run has no checkpoint")))?;
    let checkpoint = serde_json::from_slice(&stored_checkpoint.payload).map_err(RunError::json(format!(
        "run {id}: checkpoint of generation {} is unreadable",
        stored_checkpoint.generation
    )))?;
    let individuals = s.read_individuals(id, None)?;
    Ok(ResumedRun {
        settings: stored,
        status: record.status,
        checkpoint,
        checkpoint_payload: stored_checkpoint.payload,
        warning,
        individuals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_label_gives_back_its_bars_and_funding() {
        assert_eq!(
            StoredData::parse("storage:BTC/1h --funding /d/f.csv"),
            StoredData {
                bars: StoredBars::Series {
                    symbol: "BTC".into(),
                    timeframe: "1h".into()
                },
                funding: Some("/d/f.csv".into())
            }
        );
        assert_eq!(
            StoredData::parse("sample:goog-1d"),
            StoredData {
                bars: StoredBars::Source("sample:goog-1d".into()),
                funding: None
            }
        );
    }
}
