//! `evoflow report`: writes a stored run's self-contained HTML report (and its charts as PNG).

use std::path::{Path, PathBuf};

use anyhow::Context;
use evoflow::market::{self, DataSpec, MarketData};
use evoflow::report::{run_report, write_pngs, RunData, DEFAULT_TOP};
use evoflow::storage::{open_storage, OpenMode, Storage, TimeRange};

use super::storage_args::StorageArgs;
use super::UsageError;

/// Flags of `evoflow report`.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// The run to report (its id is printed by `evolve` and listed by `evoflow health --json`).
    pub run_id: String,
    /// Where to write the HTML report.
    #[arg(long, value_name = "FILE.html")]
    pub out: PathBuf,
    /// Also write every chart as DIR/<chart>.png.
    #[arg(long, value_name = "DIR")]
    pub png: Option<PathBuf>,
    /// How many of the best strategies to draw.
    #[arg(long, default_value_t = DEFAULT_TOP)]
    pub top: usize,
    /// The run's bars, when the run's own source (its `data` setting) no longer reads them.
    #[arg(long, value_name = "PATH|sample:NAME")]
    pub data: Option<String>,
    /// The run's funding rates, if it was run with --funding.
    #[arg(long, value_name = "FILE")]
    pub funding: Option<PathBuf>,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// Runs `evoflow report`.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    if args.top == 0 {
        return Err(UsageError("--top must be at least 1".into()).into());
    }
    evoflow::storage::validate_name("run id", &args.run_id)?;
    let config = args.storage.config()?;
    let storage = open_storage(&config, OpenMode::ReadOnly)?;
    let run = storage
        .get_run(&args.run_id)?
        .ok_or_else(|| UsageError(format!("no run `{}` in {}", args.run_id, storage.location().display())))?;
    let source: String = match &args.data {
        Some(d) => d.clone(),
        None => serde_json::from_str::<serde_json::Value>(&run.config_json)?
            .get("data")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                UsageError(format!(
                    "run `{}` does not say its market data; pass --data",
                    args.run_id
                ))
            })?,
    };
    // The stored label names the funding file too (` --funding PATH`); --funding wins.
    let (source, stored_funding) = match source.split_once(evoflow::run::FUNDING_SEPARATOR) {
        Some((bars, funding)) => (bars.to_string(), Some(PathBuf::from(funding))),
        None => (source, None),
    };
    let funding = args.funding.clone().or(stored_funding);
    let data = load_run_data(storage.as_ref(), &source, funding.as_deref()).with_context(|| {
        format!(
            "reading the market data of run `{}` ({source}); pass --data to read it elsewhere",
            args.run_id
        )
    })?;
    write_run_report(
        storage.as_ref(),
        &args.run_id,
        &data,
        &args.out,
        args.png.as_deref(),
        args.top,
    )?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

/// Reads bars named like a run's `data` setting: `storage:SYMBOL/TIMEFRAME` from `storage`,
/// otherwise a sample or a file.
fn load_run_data(storage: &dyn Storage, source: &str, funding: Option<&Path>) -> anyhow::Result<MarketData> {
    if let Some(series) = source.strip_prefix("storage:") {
        let (symbol, timeframe) = series
            .split_once('/')
            .ok_or_else(|| UsageError(format!("`{source}` is not storage:SYMBOL/TIMEFRAME")))?;
        let mut data = storage.read_market(symbol, timeframe, TimeRange::all())?;
        if let Some(path) = funding {
            data.funding = Some(market::load_funding_file(path)?);
        }
        return Ok(data);
    }
    Ok(market::load(&DataSpec::parse(source), funding)?)
}

/// Writes the report of run `run_id` (read from `storage`, backtested on `data`) to `out`,
/// and its charts as PNG to `png` when given. `evolve --report` calls it at the end of a run.
pub fn write_run_report(
    storage: &dyn Storage,
    run_id: &str,
    data: &MarketData,
    out: &Path,
    png: Option<&Path>,
    top: usize,
) -> anyhow::Result<()> {
    let gathered = RunData::gather(storage, run_id, data, top)?;
    let report = run_report(&gathered);
    report.write_html(out)?;
    if let Some(dir) = png {
        let written = write_pngs(&report.charts, dir)?;
        if written.font_faces == 0 {
            eprintln!(
                "warning: no fonts found on this system: the PNG charts have no text (install fonts-dejavu-core)"
            );
        }
        eprintln!("wrote {} charts to {}", written.files.len(), dir.display());
    }
    Ok(())
}
