//! `evoflow sweep`: backtests every point of a parameter grid on all cores and prints the best.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use evoflow::seeds::lookup;
use evoflow::sweep::{heatmap_csv, run_sweep, Constraint, GridAxis, SweepError, SweepSpec, DEFAULT_MAXIMIZE};

use super::backtest::CostArgs;
use super::market_args::MarketArgs;
use super::UsageError;

/// Flags of `evoflow sweep`.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub market: MarketArgs,
    /// Strategy name (see `evoflow seeds`).
    #[arg(long)]
    pub strategy: String,
    /// Grid axes `KEY=LO:HI:STEP` (one or more per flag, repeatable; the points are their cartesian product).
    #[arg(long = "grid", value_name = "KEY=LO:HI:STEP", required = true, num_args = 1..)]
    pub grid: Vec<String>,
    /// Only run points satisfying this comparison, e.g. `fast<slow` or `fast<=50` (repeatable).
    #[arg(long = "constraint", value_name = "A<B")]
    pub constraints: Vec<String>,
    /// The statistic to rank by, highest first (any numeric key of `backtest --json` stats).
    #[arg(long, default_value = DEFAULT_MAXIMIZE)]
    pub maximize: String,
    /// How many of the best points to print.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Write a CSV matrix of the ranked statistic over the first two grid keys.
    #[arg(long, value_name = "FILE.csv")]
    pub heatmap: Option<PathBuf>,
    /// Print one JSON object {"evaluated", "skipped", "maximize", "best": [{"params", "stats"}]}.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub costs: CostArgs,
}

/// Turns sweep-specification errors into usage errors (exit status 2).
fn spec_error(e: SweepError) -> anyhow::Error {
    if e.is_bad_spec() {
        UsageError(e.to_string()).into()
    } else {
        match e {
            SweepError::Strategy(s) => s.into(),
            other => anyhow::Error::new(other),
        }
    }
}

/// Runs `evoflow sweep`.
pub fn run(args: SweepArgs) -> anyhow::Result<()> {
    let config = args.costs.config()?;
    let strategy = lookup(&args.strategy)?;
    let axes = args
        .grid
        .iter()
        .map(|g| GridAxis::parse(g))
        .collect::<Result<Vec<_>, _>>()
        .map_err(spec_error)?;
    let keys: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
    let constraints = args
        .constraints
        .iter()
        .map(|c| Constraint::parse(c, &keys))
        .collect::<Result<Vec<_>, _>>()
        .map_err(spec_error)?;
    if args.heatmap.is_some() && axes.len() < 2 {
        return Err(UsageError("--heatmap needs at least two --grid keys".into()).into());
    }
    let data = args.market.load(None)?;
    if strategy.needs_funding() && data.funding.is_none() {
        return Err(evoflow::strategy::StrategyError::MissingFunding {
            strategy: strategy.name().to_string(),
        }
        .into());
    }
    let spec = SweepSpec {
        axes,
        constraints,
        maximize: args.maximize.clone(),
        top: args.top,
        config,
    };
    let result = run_sweep(&data, strategy, &spec).map_err(spec_error)?;

    if let Some(path) = &args.heatmap {
        let csv = heatmap_csv(&spec.axes, &result).unwrap_or_default();
        std::fs::write(path, csv).with_context(|| format!("writing --heatmap {}", path.display()))?;
    }
    if args.json {
        let best: Vec<serde_json::Value> = result
            .best
            .iter()
            .map(|p| {
                let params: serde_json::Map<String, serde_json::Value> = p
                    .params
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::json!(v)))
                    .collect();
                serde_json::json!({ "params": params, "stats": p.stats })
            })
            .collect();
        let out = serde_json::json!({
            "evaluated": result.evaluated,
            "skipped": result.skipped,
            "maximize": spec.maximize,
            "best": best,
        });
        println!("{out}");
        return Ok(());
    }
    println!(
        "{} on {}: {} points evaluated, {} skipped (invalid parameters); best {} by {}",
        strategy.name(),
        data.source,
        result.evaluated,
        result.skipped,
        result.best.len(),
        spec.maximize
    );
    let mut header = String::from("rank");
    for k in &keys {
        let _ = write!(header, " {k:>10}");
    }
    let cols = [
        spec.maximize.as_str(),
        "return_pct",
        "max_drawdown_pct",
        "num_trades",
        "win_rate_pct",
    ];
    for c in cols {
        let _ = write!(header, " {c:>18}");
    }
    println!("{header}");
    for (rank, p) in result.best.iter().enumerate() {
        let mut line = format!("{:>4}", rank + 1);
        for (_, v) in &p.params {
            let _ = write!(line, " {v:>10}");
        }
        for c in cols {
            match p.stats.get(c) {
                Some(v) if c == "num_trades" => {
                    let _ = write!(line, " {v:>18.0}");
                }
                Some(v) => {
                    let _ = write!(line, " {v:>18.6}");
                }
                None => {
                    let _ = write!(line, " {:>18}", "-");
                }
            }
        }
        println!("{line}");
    }
    Ok(())
}
