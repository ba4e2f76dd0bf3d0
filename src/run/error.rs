//! `RunError`: why a run could not start, resume or complete.

use crate::evolution::{EvaluationError, EvolveError};
use crate::storage::StorageError;
use evoflow_dataflows::DataflowError;

/// Why a run could not start, resume or complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The request does not fit: an unknown run, a plan flag that differs from the stored
    /// run's, other market data (the CLI exits 2).
    #[error("{0}")]
    Request(String),
    /// The settings are invalid.
    #[error(transparent)]
    Settings(#[from] EvolveError),
    /// Storage refused or failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The dataflow failed (a lost peer, a failed worker, an invalid checkpoint).
    #[error(transparent)]
    Dataflow(#[from] DataflowError),
    /// The hall of fame could not be scored.
    #[error(transparent)]
    Evaluation(#[from] EvaluationError),
    /// A stored value (configuration, checkpoint) is unreadable, or one could not be encoded.
    #[error("{context}: {source}")]
    Json {
        context: String,
        #[source]
        source: serde_json::Error,
    },
    /// The storage writer thread could not start.
    #[error("starting the storage writer thread: {0}")]
    WriterThread(#[source] std::io::Error),
    /// A generation could not be written: the run stopped storing there and is marked failed.
    #[error("writing the run to storage: {0}")]
    Write(#[source] Box<RunError>),
    /// Another process changed the run while this one started.
    #[error("{0}")]
    Conflict(String),
}

impl RunError {
    /// Whether the error is the user's input (flags, data, a run id), not a failure.
    pub fn is_bad_input(&self) -> bool {
        match self {
            RunError::Request(_) | RunError::Settings(_) => true,
            RunError::Storage(e) => e.is_bad_input(),
            RunError::Dataflow(e) => e.is_usage_error(),
            RunError::Write(inner) => inner.is_bad_input(),
            _ => false,
        }
    }

    pub(crate) fn json(context: impl Into<String>) -> impl FnOnce(serde_json::Error) -> RunError {
        let context = context.into();
        move |source| RunError::Json { context, source }
    }
}
