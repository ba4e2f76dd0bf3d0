//! `evoflow indicator` (placeholder until implemented).

/// Flags of `evoflow indicator`.
#[derive(clap::Args, Debug)]
pub struct IndicatorArgs {}

/// Runs `evoflow indicator`.
pub fn run(_args: IndicatorArgs) -> anyhow::Result<()> {
    anyhow::bail!("`evoflow indicator` is not implemented yet")
}
