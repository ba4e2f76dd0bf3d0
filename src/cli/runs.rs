//! `evoflow runs list [--json]` and `evoflow runs show ID [--json]`: stored runs with their status, error, start/end and per-generation wall time, also while a run is being written.

use evoflow::storage::{read_run_overview, read_run_overviews, RunOverview};

use super::storage_args::StorageArgs;
use super::UsageError;

/// Flags of `evoflow runs`.
#[derive(clap::Args, Debug)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: RunsCommand,
}

/// The `runs` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum RunsCommand {
    /// List the stored runs, oldest first: id, status, start, end, generations, wall time.
    List {
        /// Print a JSON array of run objects (as `runs show --json` prints one).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Show one run: status (with the error of a failed run), times, and every stored
    /// generation's wall time, best and mean fitness, evaluations and cache hits.
    Show {
        /// The run id (see `evoflow runs list`).
        id: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

/// Runs `evoflow runs`.
pub fn run(args: RunsArgs) -> anyhow::Result<()> {
    match args.command {
        RunsCommand::List { json, storage } => {
            let runs = read_run_overviews(&storage.config()?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&runs)?);
            } else {
                print_list(&runs);
            }
        }
        RunsCommand::Show { id, json, storage } => {
            let config = storage.config()?;
            let run = read_run_overview(&config, &id)?
                .ok_or_else(|| UsageError(format!("no run `{id}` in the {} storage", config.backend)))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&run)?);
            } else {
                print_run(&run);
            }
        }
    }
    Ok(())
}

/// A UTC time in milliseconds as `2026-12-07 11:02:03Z`.
fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn opt_time(ms: Option<i64>) -> String {
    ms.map(time).unwrap_or_else(|| "-".into())
}

fn print_list(runs: &[RunOverview]) {
    if runs.is_empty() {
        println!("no runs stored");
        return;
    }
    println!(
        "{:<32} {:<11} {:<21} {:<21} {:>5} {:>10}",
        "run", "status", "started", "ended", "gens", "gen wall s"
    );
    for r in runs {
        println!(
            "{:<32} {:<11} {:<21} {:<21} {:>5} {:>10.1}",
            r.run_id,
            r.status.as_str(),
            time(r.started_at_ms),
            opt_time(r.ended_at_ms),
            r.generations.len(),
            r.generations_ms() as f64 / 1000.0
        );
        if let Some(e) = &r.error {
            println!("    error: {e}");
        }
    }
}

fn fmt_fitness(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_else(|| "-".into())
}

fn print_run(r: &RunOverview) {
    println!("run       {}", r.run_id);
    println!("status    {}", r.status.as_str());
    if let Some(e) = &r.error {
        println!("error     {e}");
    }
    println!("started   {}", time(r.started_at_ms));
    println!("ended     {}", opt_time(r.ended_at_ms));
    println!("seed      {}", r.seed);
    println!("version   {}", r.code_version);
    println!("data      {}", r.data_fingerprint);
    if let Some(w) = &r.writer {
        println!("writer    {w}");
    }
    println!(
        "{} generations, {:.1} s in the evolution loop",
        r.generations.len(),
        r.generations_ms() as f64 / 1000.0
    );
    if r.generations.is_empty() {
        return;
    }
    println!();
    println!(
        "{:>5} {:>10} {:>10} {:>10} {:>7} {:>6}",
        "gen", "wall ms", "best", "mean", "evals", "hits"
    );
    for g in &r.generations {
        println!(
            "{:>5} {:>10} {:>10} {:>10} {:>7} {:>6}",
            g.generation,
            g.elapsed_ms,
            fmt_fitness(g.best),
            fmt_fitness(g.mean),
            g.evaluations,
            g.cache_hits
        );
    }
}
