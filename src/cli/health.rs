//! `evoflow health` (placeholder until implemented).

/// Flags of `evoflow health`.
#[derive(clap::Args, Debug)]
pub struct HealthArgs {}

/// Runs `evoflow health`.
pub fn run(_args: HealthArgs) -> anyhow::Result<()> {
    anyhow::bail!("`evoflow health` is not implemented yet")
}
