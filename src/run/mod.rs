//! Run lifecycle shared by the CLI and embedders: the stored run plan.

pub mod plan;

pub use plan::{given_flags, plan_values, PlanError, RunRequest, STOPPING_FLAGS};
