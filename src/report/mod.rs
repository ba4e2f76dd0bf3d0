//! Self-contained HTML (and PNG) reports of evolution runs and single backtests: SVG charts drawn in Rust, no network.
//!
//! [`run_report`] shows a run read back from storage ([`RunData::gather`]): equity of the top
//! strategies on the training and held-out bars against Buy & Hold, drawdown, best and mean
//! fitness by generation, each family's share by generation, the best strategy's trades on
//! the price chart with its trades table and parameters, and the overfitting figures when
//! the hall of fame has them. [`backtest_report`] is the one-strategy page of
//! `evoflow backtest --plot`. [`write_pngs`] rasterises the same charts.

mod charts;
mod error;
mod html;
mod png;
mod run_data;
mod scale;
mod svg;

pub use error::ReportError;
pub use png::{write_pngs, PngOutput};
pub use run_data::{validation_of, FamilyShares, RunData, StrategyRun};
pub use svg::{Chart, Series, Style, XAxis, MAX_POINTS};

use std::collections::BTreeMap;
use std::path::Path;

use crate::backtest::{BacktestConfig, BacktestReport, Stats, Trade, NUMERIC_FIELDS};
use crate::market::{format_timestamp_ms, MarketData};

use html::{gene, num, Page};

/// The strategies whose equity a run report draws, by default.
pub const DEFAULT_TOP: usize = 5;
/// Trades tables list at most this many trades (the chart shows them all).
pub const MAX_TRADE_ROWS: usize = 2000;

/// A finished report: the HTML document and its charts (for PNG output).
#[derive(Debug, Clone)]
pub struct Report {
    pub html: String,
    pub charts: Vec<Chart>,
}

impl Report {
    /// Writes the HTML document to `path`.
    pub fn write_html(&self, path: &Path) -> Result<(), ReportError> {
        std::fs::write(path, &self.html).map_err(|source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

fn label(s: &StrategyRun) -> String {
    format!("#{} {}", s.rank, s.seed)
}

/// The report of a run.
pub fn run_report(d: &RunData) -> Report {
    let bars = &d.data.bars;
    let train_bars = bars.slice(0..d.split);
    let test_bars = bars.slice(d.split..bars.len());
    let cash = d.settings.backtest.cash;
    let mut page = Page::default();

    page.section("Run");
    let ended = d.run.ended_at_ms.map(format_timestamp_ms).unwrap_or_else(|| "-".into());
    let rows = vec![
        vec!["run".into(), d.run.run_id.clone()],
        vec!["status".into(), d.run.status.as_str().into()],
        vec![
            "started / ended".into(),
            format!("{} / {ended}", format_timestamp_ms(d.run.started_at_ms)),
        ],
        vec![
            "market data".into(),
            format!("{} ({})", d.settings.data, d.run.data_fingerprint),
        ],
        vec![
            "bars".into(),
            format!(
                "{} ({} training, {} held out), {} to {}",
                bars.len(),
                d.split,
                bars.len() - d.split,
                bars.timestamp_ms
                    .first()
                    .map(|t| format_timestamp_ms(*t))
                    .unwrap_or_default(),
                bars.timestamp_ms
                    .last()
                    .map(|t| format_timestamp_ms(*t))
                    .unwrap_or_default()
            ),
        ],
        vec!["objective".into(), format!("{:?}", d.settings.objective).to_lowercase()],
        vec![
            "population × generations".into(),
            format!(
                "{} × {} (ran {}), seed {}",
                d.settings.ga.population,
                d.settings.ga.generations,
                d.generations.len(),
                d.run.seed
            ),
        ],
        vec![
            "costs".into(),
            format!(
                "cash {}, commission {} per fill, slippage {} bp",
                d.settings.backtest.cash, d.settings.backtest.commission, d.settings.backtest.slippage_bps
            ),
        ],
        vec!["evoflow".into(), d.run.code_version.clone()],
    ];
    page.table(&["", ""], &rows, 2, false);
    for note in &d.notes {
        page.text_class("note", note);
    }

    page.section("Top strategies");
    let rows: Vec<Vec<String>> = d
        .top
        .iter()
        .map(|s| {
            let (tr, te) = (&s.train.stats, s.test.as_ref().map(|t| &t.stats));
            vec![
                s.rank.to_string(),
                s.seed.clone(),
                num(Some(s.fitness), 4),
                num(tr.sharpe_ratio, 3),
                num(Some(tr.return_pct), 2),
                num(Some(tr.max_drawdown_pct), 2),
                tr.num_trades.to_string(),
                num(te.and_then(|t| t.sharpe_ratio), 3),
                num(te.map(|t| t.return_pct), 2),
                num(te.map(|t| t.max_drawdown_pct), 2),
                te.map(|t| t.num_trades.to_string()).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    page.table(
        &[
            "rank",
            "seed",
            "fitness",
            "Sharpe",
            "return %",
            "max DD %",
            "trades",
            "held-out Sharpe",
            "return %",
            "max DD %",
            "trades",
        ],
        &rows,
        2,
        false,
    );
    let train_runs: Vec<(String, &BacktestReport)> = d.top.iter().map(|s| (label(s), &s.train)).collect();
    page.chart(charts::equity_chart(
        "equity-train",
        "Equity on the training bars (fitness was measured here)",
        &train_bars,
        &train_runs,
        cash,
    ));
    let test_runs: Vec<(String, &BacktestReport)> = d
        .top
        .iter()
        .filter_map(|s| s.test.as_ref().map(|t| (label(s), t)))
        .collect();
    if test_runs.is_empty() {
        page.text("The run held no bars out (--test-fraction 0): there is no out-of-sample equity.");
    } else {
        page.chart(charts::equity_chart(
            "equity-test",
            "Equity on the held-out bars (never seen by the evolution)",
            &test_bars,
            &test_runs,
            cash,
        ));
    }
    let best = &d.top[0];
    let bh = charts::buy_and_hold(bars, cash);
    let mut curves: Vec<(String, &crate::market::Bars, &[f64])> =
        vec![(format!("{} training", label(best)), &train_bars, &best.train.equity)];
    if let Some(t) = &best.test {
        curves.push((format!("{} held out", label(best)), &test_bars, &t.equity));
    }
    curves.push(("Buy & Hold".into(), bars, &bh));
    page.chart(charts::drawdown_chart(
        "drawdown",
        "Drawdown of the best strategy",
        &curves,
    ));

    page.section("Evolution");
    page.chart(charts::fitness_chart(&d.generations));
    page.chart(charts::families_chart(&d.families));

    page.section(&format!("Best strategy: {}", best.seed));
    let rows: Vec<Vec<String>> = best.params.iter().map(|(k, v)| vec![k.clone(), gene(*v)]).collect();
    page.table(&["parameter", "value"], &rows, 1, false);
    let mut trades: Vec<(&str, Trade)> = best.train.trades.iter().map(|t| ("training", t.clone())).collect();
    if let Some(t) = &best.test {
        trades.extend(t.trades.iter().map(|t| {
            let mut t = t.clone();
            t.entry_bar += d.split;
            t.exit_bar += d.split;
            ("held out", t)
        }));
    }
    let all: Vec<Trade> = trades.iter().map(|(_, t)| t.clone()).collect();
    let rule = (d.split < bars.len()).then_some((d.split, "held-out bars start"));
    page.chart(charts::price_chart(
        "price",
        &format!(
            "Price and the trades of {} (▲ long, ▼ short entry, ■ exit)",
            label(best)
        ),
        bars,
        &all,
        rule,
    ));
    trades_table(&mut page, &trades);
    page.text("Statistics (backtesting.py's definitions) on the training and the held-out bars:");
    let mut parts = vec![("training", &best.train.stats)];
    if let Some(t) = &best.test {
        parts.push(("held out", &t.stats));
    }
    stats_table(&mut page, &parts);

    page.section("Overfitting");
    let with: Vec<&StrategyRun> = d.top.iter().filter(|s| s.validation.is_some()).collect();
    if with.is_empty() {
        page.text(
            "This run has no overfitting figures (Probabilistic and Deflated Sharpe Ratio, PBO) in its hall of fame; \
             compare the training and held-out columns above instead.",
        );
    } else {
        validation_table(&mut page, &with);
    }

    let (html, charts) = page.finish(
        &format!("evoflow run {}", d.run.run_id),
        &format!(
            "{} strategies from {} families on {}, objective {:?}",
            d.top.len(),
            d.families.shares.len(),
            d.settings.data,
            d.settings.objective
        ),
    );
    Report { html, charts }
}

/// One row per trade, with the part of the data it was made on.
fn trades_table(page: &mut Page, trades: &[(&str, Trade)]) {
    let rows: Vec<Vec<String>> = trades
        .iter()
        .take(MAX_TRADE_ROWS)
        .map(|(part, t)| {
            vec![
                part.to_string(),
                if t.size > 0.0 { "long" } else { "short" }.into(),
                format_timestamp_ms(t.entry_time_ms),
                format_timestamp_ms(t.exit_time_ms),
                format!("{:.4}", t.size),
                format!("{:.5}", t.entry_price),
                format!("{:.5}", t.exit_price),
                format!("{:.2}", t.pnl),
                format!("{:.2}", t.return_pct),
                (t.exit_bar - t.entry_bar).to_string(),
            ]
        })
        .collect();
    page.text(&format!(
        "{} closed trades{}:",
        trades.len(),
        if trades.len() > MAX_TRADE_ROWS {
            format!(" (the first {MAX_TRADE_ROWS} listed)")
        } else {
            String::new()
        }
    ));
    page.table(
        &[
            "part",
            "side",
            "entry",
            "exit",
            "size",
            "entry price",
            "exit price",
            "PnL",
            "return %",
            "bars",
        ],
        &rows,
        4,
        true,
    );
}

/// Every statistic, one column per part.
fn stats_table(page: &mut Page, parts: &[(&str, &Stats)]) {
    let values: Vec<serde_json::Value> = parts
        .iter()
        .map(|(_, s)| serde_json::to_value(s).unwrap_or_default())
        .collect();
    let rows: Vec<Vec<String>> = ["start", "end"]
        .into_iter()
        .chain(NUMERIC_FIELDS)
        .map(|key| {
            let mut row = vec![key.to_string()];
            for v in &values {
                row.push(match v.get(key) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Number(n)) => num(n.as_f64(), 4),
                    _ => "-".into(),
                });
            }
            row
        })
        .collect();
    let mut headers = vec!["statistic"];
    headers.extend(parts.iter().map(|(p, _)| *p));
    page.table(&headers, &rows, 1, false);
}

/// The overfitting figures: every scalar field of each entry's `validation_json`.
fn validation_table(page: &mut Page, entries: &[&StrategyRun]) {
    let mut keys: BTreeMap<String, ()> = BTreeMap::new();
    let flat: Vec<BTreeMap<String, String>> = entries
        .iter()
        .map(|s| {
            let mut m = BTreeMap::new();
            if let Some(v) = &s.validation {
                flatten("", v, &mut m);
            }
            for k in m.keys() {
                keys.insert(k.clone(), ());
            }
            m
        })
        .collect();
    let mut headers = vec!["figure".to_string()];
    headers.extend(entries.iter().map(|s| label(s)));
    let rows: Vec<Vec<String>> = keys
        .keys()
        .map(|k| {
            let mut row = vec![k.clone()];
            row.extend(flat.iter().map(|m| m.get(k).cloned().unwrap_or_else(|| "-".into())));
            row
        })
        .collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    page.table(&headers, &rows, 1, false);
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        serde_json::Value::Array(items) if items.len() > 8 => {
            out.insert(prefix.to_string(), format!("[{} values]", items.len()));
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        serde_json::Value::Number(n) => {
            out.insert(prefix.to_string(), num(n.as_f64(), 4));
        }
        serde_json::Value::Null => {
            out.insert(prefix.to_string(), "-".into());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string().trim_matches('"').to_string());
        }
    }
}

/// The page of `evoflow backtest --plot`: one strategy's equity against Buy & Hold, its
/// drawdown, its trades on the price chart, its trades and statistics.
pub fn backtest_report(
    strategy: &str,
    params: &[(String, f64)],
    data: &MarketData,
    config: &BacktestConfig,
    report: &BacktestReport,
) -> Report {
    let bars = &data.bars;
    let name = format!(
        "{strategy}({})",
        params
            .iter()
            .map(|(k, v)| format!("{k}={}", gene(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut page = Page::default();
    page.section("Equity");
    page.chart(charts::equity_chart(
        "equity",
        "Equity against Buy & Hold",
        bars,
        &[(strategy.to_string(), report)],
        config.cash,
    ));
    let bh = charts::buy_and_hold(bars, config.cash);
    page.chart(charts::drawdown_chart(
        "drawdown",
        "Drawdown",
        &[
            (strategy.to_string(), bars, &report.equity),
            ("Buy & Hold".into(), bars, &bh),
        ],
    ));
    page.section("Trades");
    page.chart(charts::price_chart(
        "price",
        "Price and trades (▲ long, ▼ short entry, ■ exit)",
        bars,
        &report.trades,
        None,
    ));
    let trades: Vec<(&str, Trade)> = report.trades.iter().map(|t| ("all", t.clone())).collect();
    trades_table(&mut page, &trades);
    page.section("Parameters and statistics");
    let rows: Vec<Vec<String>> = params.iter().map(|(k, v)| vec![k.clone(), gene(*v)]).collect();
    page.table(&["parameter", "value"], &rows, 1, false);
    stats_table(&mut page, &[("value", &report.stats)]);
    let (html, charts) = page.finish(
        &format!("evoflow backtest: {name}"),
        &format!(
            "{} ({} bars); cash {}, commission {}, slippage {} bp",
            data.source,
            bars.len(),
            config.cash,
            config.commission,
            config.slippage_bps
        ),
    );
    Report { html, charts }
}
