//! `evoflow data import|ls|export|rm`: market data in the configured storage.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use evoflow::market::{self, format_timestamp_ms, parse_timestamp_ms, Bars};
use evoflow::storage::{open_storage, DatasetInfo, OpenMode, TimeRange};

use super::storage_args::StorageArgs;
use super::UsageError;

/// Flags of `evoflow data`.
#[derive(clap::Args, Debug)]
pub struct DataArgs {
    #[command(subcommand)]
    pub command: DataCommand,
}

/// The `data` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum DataCommand {
    /// Import bars (CSV, Hyperliquid JSON, Parquet, DuckDB[#TABLE]) and/or funding rates into storage.
    Import(ImportArgs),
    /// List the stored series.
    Ls(LsArgs),
    /// Export a stored series to a .parquet or .csv file.
    Export(ExportArgs),
    /// Delete a stored series (bars and funding).
    Rm(RmArgs),
    /// Fetch Hyperliquid candles (and funding) into storage, asking only for what it lacks.
    Fetch(super::data_fetch::FetchArgs),
}

/// Flags of `evoflow data import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Bars file: .csv, .json (Hyperliquid candles), .parquet, or .duckdb[#TABLE].
    #[arg(value_name = "FILE", required_unless_present = "funding")]
    pub file: Option<PathBuf>,
    /// Funding rates to store with the series: Hyperliquid fundingHistory JSON or CSV `timestamp,rate`.
    #[arg(long, value_name = "FILE")]
    pub funding: Option<PathBuf>,
    /// Symbol to store under (A-Z a-z 0-9 _ - . @).
    #[arg(long)]
    pub symbol: String,
    /// Timeframe to store under, e.g. 1h or 1d.
    #[arg(long)]
    pub timeframe: String,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// Flags of `evoflow data ls`.
#[derive(clap::Args, Debug)]
pub struct LsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// Flags of `evoflow data export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    #[arg(long)]
    pub symbol: String,
    #[arg(long)]
    pub timeframe: String,
    /// Output file; the format follows the extension (.parquet or .csv).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// First timestamp to export (ISO-8601 or epoch), inclusive.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Last timestamp to export (ISO-8601 or epoch), inclusive.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// Flags of `evoflow data rm`.
#[derive(clap::Args, Debug)]
pub struct RmArgs {
    #[arg(long)]
    pub symbol: String,
    #[arg(long)]
    pub timeframe: String,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// Runs `evoflow data`.
pub fn run(args: DataArgs) -> anyhow::Result<()> {
    match args.command {
        DataCommand::Import(a) => import(a),
        DataCommand::Ls(a) => ls(a),
        DataCommand::Export(a) => export(a),
        DataCommand::Rm(a) => rm(a),
        DataCommand::Fetch(a) => super::data_fetch::run(a),
    }
}

fn import(args: ImportArgs) -> anyhow::Result<()> {
    let config = args.storage.config()?;
    evoflow::storage::validate_name("symbol", &args.symbol)?;
    evoflow::storage::validate_name("timeframe", &args.timeframe)?;
    let bars = args.file.as_deref().map(market::load_bars_file).transpose()?;
    let funding = args.funding.as_deref().map(market::load_funding_file).transpose()?;
    let mut storage = open_storage(&config, OpenMode::ReadWrite)?;
    let series = format!("{}/{}", args.symbol, args.timeframe);
    let location = storage.location().display().to_string();
    if let Some(bars) = &bars {
        // Announced before the write starts (the crash-safety test waits for this line).
        eprintln!(
            "writing {} bars of {series} to {} storage {location}",
            bars.len(),
            storage.backend()
        );
        let n = storage.write_bars(&args.symbol, &args.timeframe, bars)?;
        println!(
            "imported {n} bars of {series} ({} .. {}) into {} storage {location}",
            format_timestamp_ms(bars.timestamp_ms[0]),
            format_timestamp_ms(bars.timestamp_ms[n - 1]),
            storage.backend()
        );
    }
    if let Some(funding) = &funding {
        let n = storage.write_funding(&args.symbol, &args.timeframe, funding)?;
        println!(
            "imported {n} funding rates of {series} into {} storage {location}",
            storage.backend()
        );
    }
    Ok(())
}

fn ls(args: LsArgs) -> anyhow::Result<()> {
    let config = args.storage.config()?;
    let storage = open_storage(&config, OpenMode::ReadOnly)?;
    let sets: Vec<DatasetInfo> = storage.list_market()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&sets)?);
        return Ok(());
    }
    if sets.is_empty() {
        println!(
            "no market data in {} storage {}",
            storage.backend(),
            storage.location().display()
        );
        return Ok(());
    }
    println!(
        "{:<16} {:<9} {:>9} {:<22} {:<22} {:>8}",
        "SYMBOL", "TIMEFRAME", "BARS", "FIRST", "LAST", "FUNDING"
    );
    for s in sets {
        println!(
            "{:<16} {:<9} {:>9} {:<22} {:<22} {:>8}",
            s.symbol,
            s.timeframe,
            s.bars,
            format_timestamp_ms(s.first_ms),
            format_timestamp_ms(s.last_ms),
            s.funding
        );
    }
    Ok(())
}

fn parse_bound(flag: &str, text: Option<&str>) -> anyhow::Result<Option<i64>> {
    text.map(|t| parse_timestamp_ms(t).map_err(|m| anyhow::Error::from(UsageError(format!("{flag} {t}: {m}")))))
        .transpose()
}

fn export(args: ExportArgs) -> anyhow::Result<()> {
    let config = args.storage.config()?;
    let ext = args
        .out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext != "parquet" && ext != "csv" {
        return Err(UsageError(format!(
            "--out {}: the file must end in .parquet or .csv",
            args.out.display()
        ))
        .into());
    }
    let range = TimeRange {
        start_ms: parse_bound("--from", args.from.as_deref())?,
        end_ms: parse_bound("--to", args.to.as_deref())?,
    };
    let storage = open_storage(&config, OpenMode::ReadOnly)?;
    let bars = storage.read_bars(&args.symbol, &args.timeframe, range)?;
    if ext == "csv" {
        write_csv(&args.out, &bars)?;
    } else {
        write_parquet(&args.out, &bars)?;
    }
    println!(
        "exported {} bars of {}/{} to {}",
        bars.len(),
        args.symbol,
        args.timeframe,
        args.out.display()
    );
    Ok(())
}

/// CSV `timestamp,open,high,low,close,volume` with ISO-8601 UTC times and shortest
/// round-trip decimals, so `data import` reads back the same bars.
fn write_csv(out: &Path, bars: &Bars) -> anyhow::Result<()> {
    let file = std::fs::File::create(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let mut w = std::io::BufWriter::new(file);
    let write_err = |e: std::io::Error| anyhow::anyhow!("{}: cannot write: {e}", out.display());
    writeln!(w, "timestamp,open,high,low,close,volume").map_err(write_err)?;
    for i in 0..bars.len() {
        writeln!(
            w,
            "{},{},{},{},{},{}",
            format_timestamp_ms(bars.timestamp_ms[i]),
            bars.open[i],
            bars.high[i],
            bars.low[i],
            bars.close[i],
            bars.volume[i]
        )
        .map_err(write_err)?;
    }
    w.flush().map_err(write_err)
}

/// Parquet with `timestamp` as a TIMESTAMP column and DOUBLE prices and volume.
fn write_parquet(out: &Path, bars: &Bars) -> anyhow::Result<()> {
    let ctx = || format!("{}: cannot write Parquet", out.display());
    let conn = duckdb::Connection::open_in_memory().with_context(ctx)?;
    conn.execute_batch(
        "CREATE TABLE export (ts_ms BIGINT, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE)",
    )
    .with_context(ctx)?;
    {
        let mut app = conn.appender("export").with_context(ctx)?;
        for i in 0..bars.len() {
            app.append_row(duckdb::params![
                bars.timestamp_ms[i],
                bars.open[i],
                bars.high[i],
                bars.low[i],
                bars.close[i],
                bars.volume[i]
            ])
            .with_context(ctx)?;
        }
        app.flush().with_context(ctx)?;
    }
    let path = out.display().to_string().replace('\'', "''");
    conn.execute_batch(&format!(
        "COPY (SELECT epoch_ms(ts_ms) AS timestamp, open, high, low, close, volume FROM export ORDER BY ts_ms)
         TO '{path}' (FORMAT PARQUET)"
    ))
    .with_context(ctx)?;
    Ok(())
}

fn rm(args: RmArgs) -> anyhow::Result<()> {
    let config = args.storage.config()?;
    let mut storage = open_storage(&config, OpenMode::ReadWrite)?;
    if storage.delete_market(&args.symbol, &args.timeframe)? {
        println!(
            "deleted {}/{} from {} storage {}",
            args.symbol,
            args.timeframe,
            storage.backend(),
            storage.location().display()
        );
        Ok(())
    } else {
        Err(UsageError(format!(
            "no series {}/{} in {}",
            args.symbol,
            args.timeframe,
            storage.location().display()
        ))
        .into())
    }
}
