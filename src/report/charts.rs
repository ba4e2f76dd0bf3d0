//! The report's charts, built from backtests and run records: equity against Buy & Hold, drawdown, price with trades, fitness, families.

use crate::backtest::{BacktestReport, Trade};
use crate::market::{format_timestamp_ms, Bars};
use crate::storage::GenerationRecord;

use super::run_data::FamilyShares;
use super::svg::{Candle, Chart, Marker, MarkerKind, Series, Style, XAxis, PALETTE};

const BUY_HOLD_COLOR: &str = "#000000";

fn times(bars: &Bars) -> impl Iterator<Item = f64> + '_ {
    bars.timestamp_ms.iter().map(|&t| t as f64)
}

/// Buy & Hold equity: `cash` invested at the first close (as the engine's Buy & Hold return).
pub fn buy_and_hold(bars: &Bars, cash: f64) -> Vec<f64> {
    let first = bars.close.first().copied().unwrap_or(1.0);
    bars.close.iter().map(|c| cash * c / first).collect()
}

/// Drawdown in % (0 at a new peak, negative below it).
pub fn drawdown_pct(equity: &[f64]) -> Vec<f64> {
    let mut peak = f64::NEG_INFINITY;
    equity
        .iter()
        .map(|&e| {
            peak = peak.max(e);
            if peak > 0.0 {
                100.0 * (e / peak - 1.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// Equity curves of several strategies on `bars`, with Buy & Hold of `cash` dashed.
pub fn equity_chart(id: &str, title: &str, bars: &Bars, runs: &[(String, &BacktestReport)], cash: f64) -> Chart {
    let mut chart = Chart::new(id, title, XAxis::Time, "equity");
    for (i, (label, report)) in runs.iter().enumerate() {
        let points = times(bars).zip(report.equity.iter().copied()).collect();
        chart.series.push(Series::new(
            label.clone(),
            PALETTE[i % PALETTE.len()],
            Style::Line,
            points,
        ));
    }
    let bh = times(bars).zip(buy_and_hold(bars, cash)).collect();
    chart
        .series
        .push(Series::new("Buy & Hold", BUY_HOLD_COLOR, Style::Dashed, bh));
    chart
}

/// Drawdown of each `(label, timestamps, equity)` curve, filled down from zero.
pub fn drawdown_chart(id: &str, title: &str, curves: &[(String, &Bars, &[f64])]) -> Chart {
    let mut chart = Chart::new(id, title, XAxis::Time, "drawdown %");
    chart.height = 220.0;
    for (i, (label, bars, equity)) in curves.iter().enumerate() {
        let points = times(bars).zip(drawdown_pct(equity)).collect();
        let color = if label.starts_with("Buy") {
            BUY_HOLD_COLOR
        } else {
            PALETTE[i % PALETTE.len()]
        };
        chart
            .series
            .push(Series::new(label.clone(), color, Style::Area, points));
    }
    chart
}

/// The price (candles, or the close when there are many bars) with each trade's entry and
/// exit; `rule` marks a bar (e.g. where the held-out bars start).
pub fn price_chart(id: &str, title: &str, bars: &Bars, trades: &[Trade], rule: Option<(usize, &str)>) -> Chart {
    let mut chart = Chart::new(id, title, XAxis::Time, "price");
    chart.height = 360.0;
    chart.candles = (0..bars.len())
        .map(|i| Candle {
            x: bars.timestamp_ms[i] as f64,
            open: bars.open[i],
            high: bars.high[i],
            low: bars.low[i],
            close: bars.close[i],
        })
        .collect();
    for t in trades {
        let side = if t.size > 0.0 { "long" } else { "short" };
        chart.markers.push(Marker {
            x: t.entry_time_ms as f64,
            y: t.entry_price,
            kind: if t.size > 0.0 {
                MarkerKind::LongEntry
            } else {
                MarkerKind::ShortEntry
            },
            title: format!(
                "{side} entry {} at {:.5} ({:+.2} %)",
                format_timestamp_ms(t.entry_time_ms),
                t.entry_price,
                t.return_pct
            ),
        });
        chart.markers.push(Marker {
            x: t.exit_time_ms as f64,
            y: t.exit_price,
            kind: MarkerKind::Exit,
            title: format!(
                "{side} exit {} at {:.5}, PnL {:.2}",
                format_timestamp_ms(t.exit_time_ms),
                t.exit_price,
                t.pnl
            ),
        });
    }
    if let Some((bar, label)) = rule {
        if let Some(&t) = bars.timestamp_ms.get(bar) {
            chart.rules.push((t as f64, label.to_string()));
        }
    }
    chart
}

/// Best and mean fitness by generation. Means pulled below the feasible floor by penalised
/// strategies would flatten the best curve, so the mean is drawn clipped at the floor.
pub fn fitness_chart(generations: &[GenerationRecord]) -> Chart {
    let mut chart = Chart::new(
        "fitness",
        "Best and mean fitness by generation",
        XAxis::Number("generation".into()),
        "fitness",
    );
    chart.height = 260.0;
    let floor = crate::evolution::FEASIBLE_FLOOR;
    let best = generations.iter().map(|g| (g.generation as f64, g.best)).collect();
    let clipped = generations.iter().any(|g| g.mean < floor);
    let mean = generations
        .iter()
        .map(|g| (g.generation as f64, g.mean.max(floor)))
        .collect();
    chart.series.push(Series::new("best", PALETTE[0], Style::Line, best));
    let name = if clipped {
        "mean (clipped at the penalty floor)"
    } else {
        "mean"
    };
    chart.series.push(Series::new(name, PALETTE[1], Style::Line, mean));
    chart
}

/// Each family's share of the population by generation, stacked to 100 %.
pub fn families_chart(families: &FamilyShares) -> Chart {
    let mut chart = Chart::new(
        "families",
        "Share of each family in the population by generation",
        XAxis::Number("generation".into()),
        "share %",
    );
    chart.height = 300.0;
    for (i, (name, shares)) in families.shares.iter().enumerate() {
        let points = families
            .generations
            .iter()
            .zip(shares)
            .map(|(g, s)| (*g as f64, 100.0 * s))
            .collect();
        chart.stacked.push(Series::new(
            name.clone(),
            PALETTE[i % PALETTE.len()],
            Style::Area,
            points,
        ));
    }
    chart
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawdown_and_buy_and_hold() {
        let dd = drawdown_pct(&[100.0, 110.0, 99.0, 120.0]);
        assert_eq!((dd[0], dd[1], dd[3]), (0.0, 0.0, 0.0));
        assert!((dd[2] + 10.0).abs() < 1e-12, "{dd:?}");
        let mut bars = Bars::default();
        bars.push(0, 1.0, 1.0, 1.0, 2.0, 0.0);
        bars.push(1, 1.0, 1.0, 1.0, 3.0, 0.0);
        assert_eq!(buy_and_hold(&bars, 10.0), vec![10.0, 15.0]);
    }
}
