//! Run lifecycle shared by the CLI and embedders: the stored run plan, and the validation at a run's end.

pub mod plan;
pub mod validation;

pub use plan::{given_flags, plan_values, PlanError, RunRequest, STOPPING_FLAGS};
