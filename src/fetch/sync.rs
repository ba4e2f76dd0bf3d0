//! The incremental fetch: asks the API only for what storage lacks and commits page by page, in time order.

use serde_json::json;

use super::client::InfoClient;
use super::pages::{candle_page, funding_page, CANDLE_PAGE_CAP, FUNDING_PAGE_CAP};
use super::plan::{find_gaps, missing_ranges, Gap, Range};
use super::{FetchConfig, FetchError};
use crate::market::format_timestamp_ms;
use crate::storage::{Storage, StorageError, TimeRange};

/// Hyperliquid pays funding every hour.
const FUNDING_PERIOD_MS: i64 = 3_600_000;
/// The least time between two funding rows: a minute under the period, as the rows' times
/// wander by some milliseconds around the hour.
const FUNDING_STEP_MS: i64 = FUNDING_PERIOD_MS - 60_000;

/// What the fetch tells its caller as it goes (for a progress bar or log lines).
pub enum Progress<'a> {
    /// About to fetch `ranges` of `what` (`candles` or `funding`), about `expected` entries.
    Planned {
        what: &'a str,
        ranges: usize,
        expected: u64,
    },
    /// A page of `count` entries up to `last_ms` was committed to storage.
    Committed { what: &'a str, count: usize, last_ms: i64 },
}

/// What a fetch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FetchReport {
    /// Candles newly written (closed ones only).
    pub new_bars: usize,
    /// Still-open candles that were served and not stored.
    pub open_dropped: usize,
    /// Funding rates newly written.
    pub new_funding: usize,
    /// Candles stored in `[since, until]` after the fetch, and their first and last open time.
    pub stored_bars: usize,
    pub stored_span: Option<(i64, i64)>,
    /// Holes in the stored candles of `[since, until]`.
    pub gaps: Vec<Gap>,
    /// HTTP requests sent (retries included).
    pub requests: u64,
}

/// Describes one request for errors and retry notes.
fn describe(client: &InfoClient, kind: &str, config: &FetchConfig, range: Range) -> String {
    let interval = if kind == "candleSnapshot" {
        format!(" {}", config.interval)
    } else {
        String::new()
    };
    format!(
        "{kind} {}{interval} {}..{} (POST {})",
        config.coin,
        format_timestamp_ms(range.start_ms),
        format_timestamp_ms(range.end_ms),
        client.url()
    )
}

/// The first and last stored time of `times`, if any.
fn span(times: &[i64]) -> Option<(i64, i64)> {
    Some((*times.first()?, *times.last()?))
}

fn stored_candle_times(storage: &dyn Storage, config: &FetchConfig) -> Result<Vec<i64>, FetchError> {
    let range = TimeRange::between(config.since_ms, config.until_ms);
    match storage.read_bars(&config.coin, &config.interval, range) {
        Ok(bars) => Ok(bars.timestamp_ms),
        Err(StorageError::NoData { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Fetches the candles (and, with `config.funding`, the funding rates) of
/// `[since, until]` that storage lacks, writing each page as it arrives, so that an
/// interrupted fetch keeps what it committed and the next one continues after it.
/// `now_ms` decides which candles are still open.
pub fn fetch_into(
    storage: &mut dyn Storage,
    client: &mut InfoClient,
    config: &FetchConfig,
    now_ms: i64,
    progress: &mut dyn FnMut(Progress),
) -> Result<FetchReport, FetchError> {
    let mut report = FetchReport::default();
    let before = span(&stored_candle_times(storage, config)?);
    let ranges = missing_ranges(config.since_ms, config.until_ms, before, config.interval_ms);
    let expected: i64 = ranges
        .iter()
        .map(|r| (r.end_ms - r.start_ms) / config.interval_ms + 1)
        .sum();
    progress(Progress::Planned {
        what: "candles",
        ranges: ranges.len(),
        expected: expected.max(0) as u64,
    });
    let mut served_total = 0;
    let mut first_request = None;
    for range in &ranges {
        let mut start = range.start_ms;
        loop {
            let page_range = Range {
                start_ms: start,
                end_ms: range.end_ms,
            };
            let request = describe(client, "candleSnapshot", config, page_range);
            first_request.get_or_insert_with(|| request.clone());
            let body = json!({"type": "candleSnapshot", "req": {"coin": config.coin, "interval": config.interval,
                                "startTime": start, "endTime": range.end_ms}});
            let text = client.post(&request, &body)?;
            let page = candle_page(&request, &text, (start, range.end_ms), config.interval_ms, now_ms)?;
            served_total += page.served;
            report.open_dropped += page.open_dropped;
            if !page.closed.is_empty() {
                let n = storage.write_bars(&config.coin, &config.interval, &page.closed)?;
                report.new_bars += n;
                progress(Progress::Committed {
                    what: "candles",
                    count: n,
                    last_ms: page.closed.timestamp_ms[n - 1],
                });
            }
            let Some(last) = page.last_open_ms else { break };
            if page.served < CANDLE_PAGE_CAP || last >= range.end_ms {
                break;
            }
            if last < start {
                return Err(FetchError::Malformed {
                    request,
                    message: format!("a full page ends before its startTime {start}"),
                });
            }
            start = last + 1;
        }
    }
    if before.is_none() && served_total == 0 {
        if let Some(request) = first_request {
            return Err(FetchError::Empty { request });
        }
    }
    if config.funding {
        fetch_funding(storage, client, config, progress, &mut report)?;
    }
    let times = stored_candle_times(storage, config)?;
    report.stored_bars = times.len();
    report.stored_span = span(&times);
    report.gaps = find_gaps(&times, config.interval_ms);
    report.requests = client.requests();
    Ok(report)
}

fn fetch_funding(
    storage: &mut dyn Storage,
    client: &mut InfoClient,
    config: &FetchConfig,
    progress: &mut dyn FnMut(Progress),
    report: &mut FetchReport,
) -> Result<(), FetchError> {
    let window = TimeRange::between(config.since_ms, config.until_ms);
    let stored = storage
        .read_funding(&config.coin, &config.interval, window)?
        .and_then(|f| span(&f.time_ms));
    let ranges = missing_ranges(config.since_ms, config.until_ms, stored, FUNDING_STEP_MS);
    let expected: i64 = ranges
        .iter()
        .map(|r| (r.end_ms - r.start_ms) / FUNDING_PERIOD_MS + 1)
        .sum();
    progress(Progress::Planned {
        what: "funding",
        ranges: ranges.len(),
        expected: expected.max(0) as u64,
    });
    for range in &ranges {
        let mut start = range.start_ms;
        loop {
            let page_range = Range {
                start_ms: start,
                end_ms: range.end_ms,
            };
            let request = describe(client, "fundingHistory", config, page_range);
            let body =
                json!({"type": "fundingHistory", "coin": config.coin, "startTime": start, "endTime": range.end_ms});
            let text = client.post(&request, &body)?;
            let page = funding_page(&request, &text, (start, range.end_ms))?;
            if !page.rates.is_empty() {
                let n = storage.write_funding(&config.coin, &config.interval, &page.rates)?;
                report.new_funding += n;
                progress(Progress::Committed {
                    what: "funding",
                    count: n,
                    last_ms: page.rates.time_ms[n - 1],
                });
            }
            let Some(last) = page.last_ms else { break };
            if page.served < FUNDING_PAGE_CAP || last >= range.end_ms {
                break;
            }
            if last < start {
                return Err(FetchError::Malformed {
                    request,
                    message: format!("a full page ends before its startTime {start}"),
                });
            }
            start = last + 1;
        }
    }
    Ok(())
}
