//! `evoflow data` (placeholder until implemented).

/// Flags of `evoflow data`.
#[derive(clap::Args, Debug)]
pub struct DataArgs {}

/// Runs `evoflow data`.
pub fn run(_args: DataArgs) -> anyhow::Result<()> {
    anyhow::bail!("`evoflow data` is not implemented yet")
}
