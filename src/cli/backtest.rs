//! `evoflow backtest`: runs one strategy on market data and prints its statistics (table or JSON).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use evoflow::backtest::{BacktestConfig, BacktestContext, BacktestError, BacktestReport, Stats};
use evoflow::market::format_timestamp_ms;
use evoflow::seeds::lookup;
use evoflow::strategy::{parse_param_assignments, resolve_params, Strategy, StrategyError};

use super::market_args::MarketArgs;
use super::UsageError;

/// Flags of `evoflow backtest`.
#[derive(clap::Args, Debug)]
pub struct BacktestArgs {
    #[command(flatten)]
    pub market: MarketArgs,
    /// Strategy name (see `evoflow seeds`).
    #[arg(long)]
    pub strategy: String,
    /// A strategy parameter, e.g. `--param fast=10` (repeatable); missing ones take defaults.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    #[command(flatten)]
    pub costs: CostArgs,
    /// Print one JSON object {"strategy", "params", "stats"} instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write the equity curve as CSV `timestamp,equity` (one row per bar).
    #[arg(long, value_name = "FILE.csv")]
    pub equity: Option<PathBuf>,
    /// Write the closed trades as CSV.
    #[arg(long, value_name = "FILE.csv")]
    pub trades: Option<PathBuf>,
    /// Write a self-contained HTML page: equity against Buy & Hold, drawdown, trades on the price.
    #[arg(long, value_name = "FILE.html")]
    pub plot: Option<PathBuf>,
}

/// Cash and trading-cost flags shared by `backtest` and `sweep`.
#[derive(clap::Args, Debug, Clone)]
pub struct CostArgs {
    /// Starting cash.
    #[arg(long, default_value_t = 10_000.0, allow_negative_numbers = true)]
    pub cash: f64,
    /// Commission as a fraction of traded notional per fill (0.001 = 0.1 %).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub commission: f64,
    /// Slippage against the trader per fill, in basis points of the open.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub slippage_bps: f64,
    /// Close a position still open at the end (at the last bar's open) so it counts in the trade stats.
    #[arg(long)]
    pub finalize_trades: bool,
}

impl CostArgs {
    /// The validated backtest configuration; a bad value is a usage error naming its flag.
    pub fn config(&self) -> anyhow::Result<BacktestConfig> {
        let config = BacktestConfig {
            cash: self.cash,
            commission: self.commission,
            slippage_bps: self.slippage_bps,
            finalize_trades: self.finalize_trades,
        };
        config.validate().map_err(|e| match e {
            BacktestError::InvalidConfig { field, value, reason } => {
                UsageError(format!("--{} {value}: {reason}", field.replace('_', "-")))
            }
            other => UsageError(other.to_string()),
        })?;
        Ok(config)
    }
}

/// Looks up a strategy and resolves `--param` flags into its genome, warning about clamps.
pub fn strategy_and_genome(name: &str, params: &[String]) -> anyhow::Result<(&'static dyn Strategy, Vec<f64>)> {
    let strategy = lookup(name)?;
    let assignments = parse_param_assignments(params)?;
    let resolved = resolve_params(strategy, &assignments)?;
    for clamp in &resolved.clamps {
        eprintln!("warning: {clamp}");
    }
    Ok((strategy, resolved.genome))
}

/// Runs `evoflow backtest`.
pub fn run(args: BacktestArgs) -> anyhow::Result<()> {
    let config = args.costs.config()?;
    let (strategy, genome) = strategy_and_genome(&args.strategy, &args.params)?;
    let data = args.market.load(None)?;
    if strategy.needs_funding() && data.funding.is_none() {
        return Err(StrategyError::MissingFunding {
            strategy: strategy.name().to_string(),
        }
        .into());
    }
    let targets = strategy.signal(&data, &genome)?;
    let warmup = strategy.warmup(&data, &genome);
    let report = BacktestContext::new(&data)
        .and_then(|ctx| ctx.run(&targets, &config, warmup))
        .with_context(|| format!("backtesting `{}` on {}", strategy.name(), data.source))?;

    if let Some(path) = &args.equity {
        std::fs::write(path, equity_csv(&data.bars.timestamp_ms, &report))
            .with_context(|| format!("writing --equity {}", path.display()))?;
    }
    if let Some(path) = &args.trades {
        std::fs::write(path, trades_csv(&report)).with_context(|| format!("writing --trades {}", path.display()))?;
    }
    if let Some(path) = &args.plot {
        let named: Vec<(String, f64)> = strategy
            .genes()
            .iter()
            .map(|g| g.name.to_string())
            .zip(genome.iter().copied())
            .collect();
        evoflow::report::backtest_report(strategy.name(), &named, &data, &config, &report).write_html(path)?;
    }
    let params: serde_json::Map<String, serde_json::Value> = strategy
        .genes()
        .iter()
        .zip(&genome)
        .map(|(g, &v)| (g.name.to_string(), serde_json::json!(v)))
        .collect();
    if args.json {
        let out = serde_json::json!({ "strategy": strategy.name(), "params": params, "stats": report.stats });
        println!("{out}");
    } else {
        let params: Vec<String> = strategy
            .genes()
            .iter()
            .zip(&genome)
            .map(|(g, v)| format!("{}={v}", g.name))
            .collect();
        println!("{} on {} ({})", strategy.name(), data.source, params.join(", "));
        print!("{}", stats_table(&report.stats));
    }
    Ok(())
}

/// The statistics as an aligned two-column table.
pub fn stats_table(stats: &Stats) -> String {
    let value = serde_json::to_value(stats).unwrap_or_default();
    let mut out = String::new();
    if let serde_json::Value::Object(map) = value {
        // serde_json's map is sorted; print in the struct's field order instead.
        let order = ["start", "end"].into_iter().chain(evoflow::backtest::NUMERIC_FIELDS);
        let width = order.clone().map(str::len).max().unwrap_or(0);
        for key in order {
            let text = match map.get(key) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => format_number(key, n.as_f64().unwrap_or(f64::NAN)),
                _ => "-".to_string(),
            };
            let _ = writeln!(out, "{key:<width$}  {text:>24}");
        }
    }
    out
}

/// Integers (counts, whole durations) without decimals, other values with 6 significant decimals.
fn format_number(key: &str, v: f64) -> String {
    if key == "num_trades" || (key.ends_with("_s") && v.fract() == 0.0) {
        format!("{v:.0}")
    } else {
        format!("{v:.6}")
    }
}

/// `timestamp,equity` rows.
fn equity_csv(ts: &[i64], report: &BacktestReport) -> String {
    let mut out = String::from("timestamp,equity\n");
    for (t, e) in ts.iter().zip(&report.equity) {
        let _ = writeln!(out, "{},{e}", format_timestamp_ms(*t));
    }
    out
}

/// One row per closed trade.
fn trades_csv(report: &BacktestReport) -> String {
    let mut out =
        String::from("entry_bar,exit_bar,entry_time,exit_time,size,entry_price,exit_price,pnl,commission,return_pct\n");
    for t in &report.trades {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            t.entry_bar,
            t.exit_bar,
            format_timestamp_ms(t.entry_time_ms),
            format_timestamp_ms(t.exit_time_ms),
            t.size,
            t.entry_price,
            t.exit_price,
            t.pnl,
            t.commission,
            t.return_pct
        );
    }
    out
}
