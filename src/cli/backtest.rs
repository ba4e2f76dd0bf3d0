//! `evoflow backtest` (placeholder until implemented).

/// Flags of `evoflow backtest`.
#[derive(clap::Args, Debug)]
pub struct BacktestArgs {}

/// Runs `evoflow backtest`.
pub fn run(_args: BacktestArgs) -> anyhow::Result<()> {
    anyhow::bail!("`evoflow backtest` is not implemented yet")
}
