//! `Stats`: backtesting.py 0.6's statistics, field for field, from accumulators filled during the simulation.
//!
//! Every formula below mirrors `backtesting/_stats.py::compute_stats` (version 0.6.6) with
//! `risk_free_rate = 0`. The strategy's indicator warm-up `w` (see
//! [`crate::strategy::Strategy::warmup`]) moves only `Buy & Hold Return [%]`, measured from the
//! close of bar `w` as backtesting.py does (`_indicator_warmup_nbars`), and `Alpha [%]`, which
//! uses it; every other statistic covers all bars, as in backtesting.py. Where
//! backtesting.py yields NaN or ±inf, the field is `None` (JSON `null`). Durations are in
//! seconds; drawdown and trade durations are rounded *up* to the resolution of the data period
//! (`_round_timedelta`: the median bar spacing's finest component, e.g. a day for daily bars,
//! an hour for hourly bars), means truncated to whole nanoseconds first, as pandas does.

use serde::{Deserialize, Serialize};

use super::calendar::ceil_to_unit;
use super::context::BacktestContext;

/// Backtest statistics with backtesting.py 0.6's definitions (see the module docs).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Stats {
    /// First and last bar time, ISO-8601 UTC.
    pub start: String,
    pub end: String,
    /// `End - Start` in seconds.
    pub duration_s: f64,
    /// Share of bars covered by closed trades, entry bar to exit bar inclusive (open trades
    /// do not count), in %.
    pub exposure_time_pct: f64,
    pub equity_final: f64,
    pub equity_peak: f64,
    /// Sum of the commissions of the closed trades (entry and exit).
    pub commissions: f64,
    pub return_pct: f64,
    pub buy_hold_return_pct: f64,
    pub return_ann_pct: Option<f64>,
    pub volatility_ann_pct: Option<f64>,
    pub cagr_pct: Option<f64>,
    pub sharpe_ratio: Option<f64>,
    pub sortino_ratio: Option<f64>,
    pub calmar_ratio: Option<f64>,
    pub alpha_pct: Option<f64>,
    pub beta: Option<f64>,
    pub max_drawdown_pct: f64,
    pub avg_drawdown_pct: Option<f64>,
    pub max_drawdown_duration_s: Option<f64>,
    pub avg_drawdown_duration_s: Option<f64>,
    pub num_trades: u64,
    pub win_rate_pct: Option<f64>,
    pub best_trade_pct: Option<f64>,
    pub worst_trade_pct: Option<f64>,
    pub avg_trade_pct: Option<f64>,
    pub max_trade_duration_s: Option<f64>,
    pub avg_trade_duration_s: Option<f64>,
    pub profit_factor: Option<f64>,
    pub expectancy_pct: Option<f64>,
    pub sqn: Option<f64>,
    pub kelly_criterion: Option<f64>,
}

/// The numeric fields of [`Stats`], in order (what `--maximize` and sweeps accept).
pub const NUMERIC_FIELDS: [&str; 30] = [
    "duration_s",
    "exposure_time_pct",
    "equity_final",
    "equity_peak",
    "commissions",
    "return_pct",
    "buy_hold_return_pct",
    "return_ann_pct",
    "volatility_ann_pct",
    "cagr_pct",
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "alpha_pct",
    "beta",
    "max_drawdown_pct",
    "avg_drawdown_pct",
    "max_drawdown_duration_s",
    "avg_drawdown_duration_s",
    "num_trades",
    "win_rate_pct",
    "best_trade_pct",
    "worst_trade_pct",
    "avg_trade_pct",
    "max_trade_duration_s",
    "avg_trade_duration_s",
    "profit_factor",
    "expectancy_pct",
    "sqn",
    "kelly_criterion",
];

impl Stats {
    /// The value of a numeric field by its JSON key: `None` when the key is unknown or the
    /// value undefined. See [`NUMERIC_FIELDS`].
    pub fn get(&self, field: &str) -> Option<f64> {
        Some(match field {
            "duration_s" => self.duration_s,
            "exposure_time_pct" => self.exposure_time_pct,
            "equity_final" => self.equity_final,
            "equity_peak" => self.equity_peak,
            "commissions" => self.commissions,
            "return_pct" => self.return_pct,
            "buy_hold_return_pct" => self.buy_hold_return_pct,
            "return_ann_pct" => return self.return_ann_pct,
            "volatility_ann_pct" => return self.volatility_ann_pct,
            "cagr_pct" => return self.cagr_pct,
            "sharpe_ratio" => return self.sharpe_ratio,
            "sortino_ratio" => return self.sortino_ratio,
            "calmar_ratio" => return self.calmar_ratio,
            "alpha_pct" => return self.alpha_pct,
            "beta" => return self.beta,
            "max_drawdown_pct" => self.max_drawdown_pct,
            "avg_drawdown_pct" => return self.avg_drawdown_pct,
            "max_drawdown_duration_s" => return self.max_drawdown_duration_s,
            "avg_drawdown_duration_s" => return self.avg_drawdown_duration_s,
            "num_trades" => self.num_trades as f64,
            "win_rate_pct" => return self.win_rate_pct,
            "best_trade_pct" => return self.best_trade_pct,
            "worst_trade_pct" => return self.worst_trade_pct,
            "avg_trade_pct" => return self.avg_trade_pct,
            "max_trade_duration_s" => return self.max_trade_duration_s,
            "avg_trade_duration_s" => return self.avg_trade_duration_s,
            "profit_factor" => return self.profit_factor,
            "expectancy_pct" => return self.expectancy_pct,
            "sqn" => return self.sqn,
            "kelly_criterion" => return self.kelly_criterion,
            _ => return None,
        })
        .filter(|v| v.is_finite())
    }
}

/// A finite value, else `None`.
fn fin(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Drawdown periods: backtesting.py's `compute_drawdown_duration_peaks`. With `dd = 1 -
/// equity / cummax(equity)`, the bars with `dd == 0` plus the last bar split the curve;
/// each gap of at least one bar between consecutive split bars `a < b` is a drawdown period
/// lasting `time[b] - time[a]` whose depth is `max(dd[a..=b])`.
#[derive(Debug, Default, Clone)]
pub(crate) struct DrawdownAcc {
    pub count: u64,
    pub depth_sum: f64,
    pub dur_max_ns: i64,
    /// pandas sums timedelta nanoseconds as float64.
    pub dur_sum_ns: f64,
}

impl DrawdownAcc {
    pub fn add(&mut self, depth: f64, dur_ns: i64) {
        self.count += 1;
        self.depth_sum += depth;
        self.dur_max_ns = self.dur_max_ns.max(dur_ns);
        self.dur_sum_ns += dur_ns as f64;
    }
}

/// Returns of equity resampled to calendar periods (`resample(freq).last().pct_change()`).
#[derive(Debug, Default, Clone)]
pub(crate) struct PeriodAcc {
    pub count: u64,
    pub sum: f64,
    pub sum_sq: f64,
    /// `sum(ln(1 + r))` over the returns.
    pub log_sum: f64,
    /// Some `1 + r <= 0` (then backtesting.py's geometric mean is 0).
    pub non_positive: bool,
    /// `sum(min(r, 0)^2)`.
    pub down_sq: f64,
}

impl PeriodAcc {
    #[inline]
    pub fn add(&mut self, r: f64) {
        self.count += 1;
        self.sum += r;
        self.sum_sq += r * r;
        let g = 1.0 + r;
        if g > 0.0 {
            self.log_sum += g.ln();
        } else {
            self.non_positive = true;
        }
        if r < 0.0 {
            self.down_sq += r * r;
        }
    }

    /// Adds `k` returns that are exactly 0 (flat equity): they only count.
    #[inline]
    pub fn add_zeros(&mut self, k: u64) {
        self.count += k;
    }
}

/// Closed-trade statistics.
#[derive(Debug, Clone)]
pub(crate) struct TradeAcc {
    pub count: u64,
    pub wins: u64,
    pub best: f64,
    pub worst: f64,
    pub ret_sum: f64,
    pub ret_pos_sum: f64,
    pub ret_neg_sum: f64,
    pub ret_log_sum: f64,
    pub ret_non_positive: bool,
    /// Welford running mean and squared deviations of the PnL.
    pub pnl_mean: f64,
    pub pnl_m2: f64,
    pub pnl_pos_sum: f64,
    pub pnl_pos_count: u64,
    pub pnl_neg_sum: f64,
    pub pnl_neg_count: u64,
    pub dur_max_ns: i64,
    pub dur_sum_ns: f64,
    pub commissions: f64,
    /// Bars covered by the union of closed trades' `[entry, exit]` ranges.
    pub covered: u64,
    /// The current merged range of covered bars (trades close in entry order).
    pub cover_from: usize,
    pub cover_to: usize,
    pub cover_open: bool,
}

impl Default for TradeAcc {
    fn default() -> Self {
        TradeAcc {
            count: 0,
            wins: 0,
            best: f64::NEG_INFINITY,
            worst: f64::INFINITY,
            ret_sum: 0.0,
            ret_pos_sum: 0.0,
            ret_neg_sum: 0.0,
            ret_log_sum: 0.0,
            ret_non_positive: false,
            pnl_mean: 0.0,
            pnl_m2: 0.0,
            pnl_pos_sum: 0.0,
            pnl_pos_count: 0,
            pnl_neg_sum: 0.0,
            pnl_neg_count: 0,
            dur_max_ns: 0,
            dur_sum_ns: 0.0,
            commissions: 0.0,
            covered: 0,
            cover_from: 0,
            cover_to: 0,
            cover_open: false,
        }
    }
}

impl TradeAcc {
    /// Adds a closed trade: PnL, return (a fraction), commission, bars and duration; with
    /// `log_return` also its log return (for the average trade).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        pnl: f64,
        ret: f64,
        commission: f64,
        entry_bar: usize,
        exit_bar: usize,
        dur_ns: i64,
        log_return: bool,
    ) {
        self.count += 1;
        if pnl > 0.0 {
            self.wins += 1;
            self.pnl_pos_sum += pnl;
            self.pnl_pos_count += 1;
        } else if pnl < 0.0 {
            self.pnl_neg_sum += pnl;
            self.pnl_neg_count += 1;
        }
        let delta = pnl - self.pnl_mean;
        self.pnl_mean += delta / self.count as f64;
        self.pnl_m2 += delta * (pnl - self.pnl_mean);
        self.best = self.best.max(ret);
        self.worst = self.worst.min(ret);
        self.ret_sum += ret;
        if ret > 0.0 {
            self.ret_pos_sum += ret;
        } else if ret < 0.0 {
            self.ret_neg_sum += ret;
        }
        if log_return {
            let g = 1.0 + ret;
            if g > 0.0 {
                self.ret_log_sum += g.ln();
            } else {
                self.ret_non_positive = true;
            }
        }
        self.dur_max_ns = self.dur_max_ns.max(dur_ns);
        self.dur_sum_ns += dur_ns as f64;
        self.commissions += commission;
        // Exposure: `have_position[EntryBar:ExitBar + 1] = 1` for every closed trade.
        if self.cover_open && entry_bar <= self.cover_to {
            self.cover_to = self.cover_to.max(exit_bar);
        } else {
            if self.cover_open {
                self.covered += (self.cover_to - self.cover_from + 1) as u64;
            }
            self.cover_from = entry_bar;
            self.cover_to = exit_bar;
            self.cover_open = true;
        }
    }

    fn covered_bars(&self) -> u64 {
        self.covered
            + if self.cover_open {
                (self.cover_to - self.cover_from + 1) as u64
            } else {
                0
            }
    }
}

/// Everything the simulation accumulated, turned into [`Stats`] by [`finish`].
#[derive(Debug, Clone)]
pub(crate) struct RunTotals {
    pub equity_final: f64,
    pub equity_peak: f64,
    /// Largest `dd` over all bars.
    pub max_dd: f64,
    pub drawdowns: DrawdownAcc,
    /// backtesting.py's degenerate case: no drawdown period but a drawdown on the last bar
    /// alone (`dd[-1]`); its "durations" are then not times, reported as `None`.
    pub lone_last_dd: Option<f64>,
    pub periods: PeriodAcc,
    /// `sum(x * yc)` over bars, x the equity log return (for beta).
    pub cov_xy: f64,
    pub trades: TradeAcc,
    /// Whether the trades' log-return sum was accumulated (else the average trade is `None`).
    pub average_trade: bool,
}

/// `geometric_mean(returns)`: `exp(mean(ln(1 + r))) - 1`, 0 when some `1 + r <= 0`, NaN when empty.
fn geometric_mean(count: u64, log_sum: f64, non_positive: bool) -> f64 {
    if count == 0 {
        f64::NAN
    } else if non_positive {
        0.0
    } else {
        (log_sum / count as f64).exp() - 1.0
    }
}

/// `x or np.nan`: NaN for a zero denominator.
fn or_nan(x: f64) -> f64 {
    if x == 0.0 {
        f64::NAN
    } else {
        x
    }
}

/// Computes the statistics from the run's totals (backtesting.py's formulas, documented inline).
pub(crate) fn finish(ctx: &BacktestContext<'_>, cash: f64, warmup: usize, t: &RunTotals) -> Stats {
    let bars = &ctx.data.bars;
    let n = bars.len();
    let ts = &bars.timestamp_ms;
    let duration_ms = ts[n - 1] - ts[0];
    let unit = ctx.calendar.round_unit_ns;
    let round_s = |ns: i64| ceil_to_unit(ns, unit) as f64 / 1e9;
    // pandas' mean of timedeltas: float64 sum / count, truncated to whole nanoseconds.
    let mean_s = |sum: f64, count: u64| round_s((sum / count as f64) as i64);

    let equity0 = cash;
    let return_pct = (t.equity_final - equity0) / equity0 * 100.0;
    // Buy & Hold from the close of the warm-up's last bar: `(c[-1] - c[w]) / c[w] * 100`.
    let bh = ctx.buy_hold_return_pct(warmup);

    // "Daily" returns: equity resampled to calendar days (weeks / months / years for weekly /
    // monthly / yearly data), last value per period, percentage change between consecutive
    // periods. Annualised with N = annual_trading_days (252, or 365 when weekends trade):
    //   gmean  = exp(mean(ln(1 + r))) - 1
    //   Return (Ann.)     = (1 + gmean)^N - 1
    //   Volatility (Ann.) = sqrt((var(r, ddof=1) + (1 + gmean)^2)^N - (1 + gmean)^(2N))
    let p = &t.periods;
    let big_n = ctx.calendar.annual_trading_days;
    let gmean = geometric_mean(p.count, p.log_sum, p.non_positive);
    let ann = (1.0 + gmean).powf(big_n) - 1.0;
    let var = if p.count >= 2 {
        let k = p.count as f64;
        (p.sum_sq - p.sum * p.sum / k) / (k - 1.0)
    } else {
        f64::NAN
    };
    let vol_pct = ((var + (1.0 + gmean).powi(2)).powf(big_n) - (1.0 + gmean).powf(2.0 * big_n)).sqrt() * 100.0;
    let ann_pct = ann * 100.0;

    // CAGR over calendar time: years = (days + seconds / 86400) / 365.25 of End - Start
    // (whole seconds; sub-second parts are dropped like Timedelta.seconds does).
    let total_s = duration_ms.div_euclid(1000);
    let years = (total_s.div_euclid(86_400) as f64 + total_s.rem_euclid(86_400) as f64 / 86_400.0) / 365.25;
    let cagr = if years != 0.0 {
        ((t.equity_final / equity0).powf(1.0 / years) - 1.0) * 100.0
    } else {
        f64::NAN
    };

    // Sharpe = Return (Ann.) / Volatility (Ann.); Sortino = annualised return / (sqrt(mean(
    // min(r, 0)^2)) * sqrt(N)); Calmar = annualised return / max drawdown.
    let sharpe = ann_pct / or_nan(vol_pct);
    let downside = if p.count == 0 {
        f64::NAN
    } else {
        (p.down_sq / p.count as f64).sqrt()
    };
    let sortino = ann / (downside * big_n.sqrt());
    let calmar = ann / or_nan(t.max_dd);

    // Beta = cov(equity log returns, market log returns) / var(market log returns), over
    // bar-to-bar log returns of the equity and of the close; Alpha = Return - Beta * B&H.
    let beta = if n >= 3 { t.cov_xy / ctx.syy } else { f64::NAN };
    let alpha = return_pct - beta * bh;

    let dd = &t.drawdowns;
    let (avg_dd, max_dd_dur, avg_dd_dur) = if dd.count > 0 {
        (
            -(dd.depth_sum / dd.count as f64) * 100.0,
            Some(round_s(dd.dur_max_ns)),
            Some(mean_s(dd.dur_sum_ns, dd.count)),
        )
    } else {
        (t.lone_last_dd.map_or(f64::NAN, |d| -d * 100.0), None, None)
    };

    let tr = &t.trades;
    let k = tr.count;
    let kf = k as f64;
    let (win_rate, best, worst, avg_trade, max_tdur, avg_tdur, expectancy) = if k == 0 {
        (f64::NAN, f64::NAN, f64::NAN, f64::NAN, None, None, f64::NAN)
    } else {
        (
            tr.wins as f64 / kf,
            tr.best * 100.0,
            tr.worst * 100.0,
            if t.average_trade {
                geometric_mean(k, tr.ret_log_sum, tr.ret_non_positive) * 100.0
            } else {
                f64::NAN
            },
            Some(round_s(tr.dur_max_ns)),
            Some(mean_s(tr.dur_sum_ns, k)),
            tr.ret_sum / kf * 100.0,
        )
    };
    // Profit factor = sum of positive returns / |sum of negative returns| (NaN without losers).
    let profit_factor = if k == 0 {
        f64::NAN
    } else {
        tr.ret_pos_sum / or_nan(tr.ret_neg_sum.abs())
    };
    // SQN = sqrt(#trades) * mean(PnL) / std(PnL, ddof=1).
    let pnl_std = if k >= 2 {
        (tr.pnl_m2 / (kf - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    let sqn = kf.sqrt() * tr.pnl_mean / or_nan(pnl_std);
    // Kelly = W - (1 - W) / (mean winning PnL / mean losing |PnL|).
    let mean_pos = if tr.pnl_pos_count > 0 {
        tr.pnl_pos_sum / tr.pnl_pos_count as f64
    } else {
        f64::NAN
    };
    let mean_neg = if tr.pnl_neg_count > 0 {
        tr.pnl_neg_sum / tr.pnl_neg_count as f64
    } else {
        f64::NAN
    };
    let kelly = win_rate - (1.0 - win_rate) / (mean_pos / -mean_neg);

    Stats {
        start: ctx.start.clone(),
        end: ctx.end.clone(),
        duration_s: duration_ms as f64 / 1000.0,
        exposure_time_pct: tr.covered_bars() as f64 / n as f64 * 100.0,
        equity_final: t.equity_final,
        equity_peak: t.equity_peak,
        commissions: tr.commissions,
        return_pct,
        buy_hold_return_pct: bh,
        return_ann_pct: fin(ann_pct),
        volatility_ann_pct: fin(vol_pct),
        cagr_pct: fin(cagr),
        sharpe_ratio: fin(sharpe),
        sortino_ratio: fin(sortino),
        calmar_ratio: fin(calmar),
        alpha_pct: fin(alpha),
        beta: fin(beta),
        max_drawdown_pct: -t.max_dd * 100.0,
        avg_drawdown_pct: fin(avg_dd),
        max_drawdown_duration_s: max_dd_dur,
        avg_drawdown_duration_s: avg_dd_dur,
        num_trades: k,
        win_rate_pct: fin(win_rate * 100.0),
        best_trade_pct: fin(best),
        worst_trade_pct: fin(worst),
        avg_trade_pct: fin(avg_trade),
        max_trade_duration_s: max_tdur,
        avg_trade_duration_s: avg_tdur,
        profit_factor: fin(profit_factor),
        expectancy_pct: fin(expectancy),
        sqn: fin(sqn),
        kelly_criterion: fin(kelly),
    }
}
