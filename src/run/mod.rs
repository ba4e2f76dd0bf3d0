//! Run lifecycle shared by the CLI and embedders: the stored run plan, resuming, storing generations, completing, and the validation at a run's end.

pub mod error;
pub mod lifecycle;
pub mod plan;
pub mod resume;
pub mod validation;
pub mod writer;

pub use error::RunError;
pub use lifecycle::{default_run_id, now_ms, Prepared, RunEnding, RunPlan, RunSummary};
pub use plan::{given_flags, plan_values, PlanError, RunRequest, STOPPING_FLAGS};
pub use resume::{
    read_resumed_run, run_is_stored, stored_data_source, ResumedRun, StoredBars, StoredData, FUNDING_SEPARATOR,
};
pub use writer::{record_generation, GenerationWriter, ReportSender};
