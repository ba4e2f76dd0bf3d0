//! `evoflow data fetch`: Hyperliquid candles (and funding rates) into the configured storage, incrementally.

use std::io::IsTerminal;
use std::time::Duration;

use evoflow::fetch::{
    fetch_into, FetchConfig, FetchError, InfoClient, Progress, RetryPolicy, MAINNET_URL, TESTNET_URL,
};
use evoflow::market::{format_timestamp_ms, parse_timestamp_ms};
use evoflow::storage::{open_storage, OpenMode};
use indicatif::{ProgressBar, ProgressStyle};

use super::storage_args::StorageArgs;
use super::UsageError;

/// At most this many gaps are listed one by one.
const GAPS_LISTED: usize = 10;

/// Flags of `evoflow data fetch`.
#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    /// Hyperliquid coin, e.g. BTC; stored as the symbol (`evolve --symbol BTC`).
    #[arg(long)]
    pub coin: String,
    /// Candle interval (1m 3m 5m 15m 30m 1h 2h 4h 8h 12h 1d 3d 1w 1M); stored as the timeframe.
    #[arg(long)]
    pub interval: String,
    /// First candle open time to fetch (ISO-8601 or epoch), inclusive.
    #[arg(long, value_name = "TIME")]
    pub since: String,
    /// Last candle open time to fetch (ISO-8601 or epoch), inclusive. Default: now.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Also fetch the funding-rate history of the coin over the same range.
    #[arg(long)]
    pub funding: bool,
    /// Base URL of the info API (requests go to URL/info). Default: the public mainnet API.
    #[arg(long, value_name = "URL", conflicts_with = "testnet")]
    pub api_url: Option<String>,
    /// Use the public testnet API.
    #[arg(long)]
    pub testnet: bool,
    /// Tries per request (HTTP 429, 5xx, timeouts and dropped connections are retried).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub tries: u32,
    /// Timeout of one request in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    #[command(flatten)]
    pub storage: StorageArgs,
}

fn time_flag(flag: &str, text: &str) -> Result<i64, UsageError> {
    parse_timestamp_ms(text).map_err(|m| UsageError(format!("{flag} {text}: {m}")))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Shows progress: a bar on a terminal, otherwise a line per committed page.
struct Reporter {
    bar: Option<ProgressBar>,
    series: String,
}

impl Reporter {
    fn on(&mut self, event: Progress) {
        match event {
            Progress::Planned { what, ranges, expected } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                if ranges == 0 {
                    return;
                }
                if std::io::stderr().is_terminal() {
                    let bar = ProgressBar::new(expected);
                    let style = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/~{len} ({eta})")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> ");
                    bar.set_style(style);
                    bar.set_message(format!("{what} of {}", self.series));
                    self.bar = Some(bar);
                }
            }
            Progress::Committed { what, count, last_ms } => match &self.bar {
                Some(bar) => bar.inc(count as u64),
                None => eprintln!(
                    "stored {count} {what} of {} up to {}",
                    self.series,
                    format_timestamp_ms(last_ms)
                ),
            },
        }
    }
}

/// Runs `evoflow data fetch`.
pub fn run(args: FetchArgs) -> anyhow::Result<()> {
    let storage_config = args.storage.config()?;
    let now = now_ms();
    let since = time_flag("--since", &args.since)?;
    let until = args
        .until
        .as_deref()
        .map(|u| time_flag("--until", u))
        .transpose()?
        .unwrap_or(now);
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(UsageError(format!(
            "--timeout {}: must be a positive number of seconds",
            args.timeout
        ))
        .into());
    }
    let config = FetchConfig::new(&args.coin, &args.interval, since, until, args.funding)?;
    let api_url = match (&args.api_url, args.testnet) {
        (Some(url), _) => url.as_str(),
        (None, true) => TESTNET_URL,
        (None, false) => MAINNET_URL,
    };
    if !(api_url.starts_with("http://") || api_url.starts_with("https://")) {
        return Err(FetchError::Usage(format!("--api-url {api_url}: must start with http:// or https://")).into());
    }
    let policy = RetryPolicy {
        tries: args.tries,
        timeout: Duration::from_secs_f64(args.timeout),
        ..RetryPolicy::default()
    };
    let mut client = InfoClient::new(api_url, policy);
    let mut storage = open_storage(&storage_config, OpenMode::ReadWrite)?;
    let series = format!("{}/{}", config.coin, config.interval);
    let mut reporter = Reporter {
        bar: None,
        series: series.clone(),
    };
    let result = fetch_into(storage.as_mut(), &mut client, &config, now, &mut |e| reporter.on(e));
    if let Some(bar) = reporter.bar.take() {
        bar.finish_and_clear();
    }
    let report = result?;
    let location = format!("{} storage {}", storage.backend(), storage.location().display());
    let span = report
        .stored_span
        .map(|(a, b)| format!(" ({} .. {})", format_timestamp_ms(a), format_timestamp_ms(b)))
        .unwrap_or_default();
    println!(
        "fetched {} new bars of {series} into {location}; {} bars stored in the range{span}; {} requests",
        report.new_bars, report.stored_bars, report.requests
    );
    if report.open_dropped > 0 {
        println!("skipped {} still-open candle(s)", report.open_dropped);
    }
    if config.funding {
        println!("fetched {} new funding rates of {series}", report.new_funding);
    }
    for gap in report.gaps.iter().take(GAPS_LISTED) {
        eprintln!(
            "gap in {series}: no candles between {} and {} ({} missing)",
            format_timestamp_ms(gap.after_ms),
            format_timestamp_ms(gap.before_ms),
            gap.missing
        );
    }
    if report.gaps.len() > GAPS_LISTED {
        eprintln!("... and {} more gaps", report.gaps.len() - GAPS_LISTED);
    }
    if !report.gaps.is_empty() {
        println!("{} gap(s) in {series} (listed on stderr)", report.gaps.len());
    }
    Ok(())
}
