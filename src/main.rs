//! The `evoflow` command-line interface: parses flags and dispatches to `cli::*`.

mod cli;

use clap::{Parser, Subcommand};

/// Evolves trading strategies with a genetic algorithm written as an iterative timely dataflow.
#[derive(Parser)]
#[command(name = "evoflow", version = evoflow::BUILD, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evolve trading strategies (the main job); runs on the embedded hourly sample by default.
    Evolve(Box<cli::evolve::EvolveArgs>),
    /// Backtest one strategy on market data and print its statistics.
    Backtest(cli::backtest::BacktestArgs),
    /// Backtest every point of a parameter grid on all cores and print the best.
    Sweep(cli::sweep::SweepArgs),
    /// Compute a technical indicator and print it as CSV.
    Indicator(cli::indicator::IndicatorArgs),
    /// List the strategy families (genetic seeds) and their genes.
    Seeds(cli::seeds::SeedsArgs),
    /// Import, list and export market data in the configured storage.
    Data(cli::data::DataArgs),
    /// Check that the configured storage works end to end.
    Health(cli::health::HealthArgs),
    /// Write a stored run's self-contained HTML report (equity, evolution, families, trades).
    Report(cli::report::ReportArgs),
    /// List stored runs or show one: status, error, times, per-generation wall time (also while a run writes).
    Runs(cli::runs::RunsArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Evolve(args) => cli::evolve::run(*args),
        Command::Backtest(args) => cli::backtest::run(args),
        Command::Sweep(args) => cli::sweep::run(args),
        Command::Indicator(args) => cli::indicator::run(args),
        Command::Seeds(args) => cli::seeds::run(args),
        Command::Data(args) => cli::data::run(args),
        Command::Health(args) => cli::health::run(args),
        Command::Report(args) => cli::report::run(args),
        Command::Runs(args) => cli::runs::run(args),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(cli::exit_code(&err));
    }
}
