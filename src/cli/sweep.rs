//! `evoflow sweep` (placeholder until implemented).

/// Flags of `evoflow sweep`.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {}

/// Runs `evoflow sweep`.
pub fn run(_args: SweepArgs) -> anyhow::Result<()> {
    anyhow::bail!("`evoflow sweep` is not implemented yet")
}
