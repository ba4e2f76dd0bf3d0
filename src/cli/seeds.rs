//! `evoflow seeds` (placeholder until implemented).

/// Flags of `evoflow seeds`.
#[derive(clap::Args, Debug)]
pub struct SeedsArgs {}

/// Runs `evoflow seeds`.
pub fn run(_args: SeedsArgs) -> anyhow::Result<()> {
    anyhow::bail!("`evoflow seeds` is not implemented yet")
}
