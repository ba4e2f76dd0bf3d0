//! The simulation: next-open fills, fractional sizing, commission, slippage, perp funding, equity marks.
//!
//! Rules (see also [`super::BacktestConfig`]):
//! * `targets[i]` (a fraction of equity in [-1, 1]; negative = short) is decided at the close
//!   of bar i and filled at the OPEN of bar i+1; the last bar's target is never filled. Only
//!   a *change* of target trades: an unchanged target keeps the units (no rebalancing drift),
//!   which is what an order-based backtester like backtesting.py does for a held position.
//! * Sizing: with `E = cash + units * open` (equity at the raw open), the new position has
//!   `units = t * E / (fill * (1 + commission))`, i.e. units × fill price plus the commission
//!   on those units equals |t| × E (from flat at t = 1: `E / (open * (1 + commission))`, the
//!   limit of backtesting.py's `buy()` for infinitely divisible units). The fill price is
//!   `open * (1 + bps/1e4)` for a buy and `open * (1 - bps/1e4)` for a sell; the trade
//!   direction is decided at the raw open, and a fill that slippage would turn around is skipped.
//! * Every fill pays `commission * |units traded| * fill price`.
//! * Funding (perps): each funding event is charged in the bar whose span `[time[j],
//!   time[j+1])` holds it, on the units held during that bar (after its open fill), with
//!   notional = units × that bar's OPEN (the last price known at the event time at bar
//!   resolution): a long pays `rate × notional`, a short receives it. It goes to cash, not to
//!   trade PnL. No funding data → no funding.
//! * Equity is marked at every close: `cash + units * close`. If it reaches 0 or below, the
//!   position is closed at that close and the equity stays 0 (backtesting.py's "out of money").
//! * `finalize_trades`: a position still open on the last bar is closed at that bar's open
//!   (backtesting.py re-runs its broker on the last bar, filling the close orders at its open),
//!   and the last equity mark is the resulting cash.
//! * Trades: lots are opened per fill and closed first-in-first-out; each closed piece is one
//!   [`Trade`] (backtesting.py's non-hedging accounting).

use super::context::BacktestContext;
use super::stats::{finish, DrawdownAcc, PeriodAcc, RunTotals, TradeAcc};
use super::trade::{Book, Closed, Lot};
use super::{BacktestConfig, BacktestError, Stats, Trade};

const NS_PER_MS: i64 = 1_000_000;

/// `ln(a / b)` for positive `a`, `b`, within 1e-15 of `(a / b).ln()` (absolute) and faster for
/// the ratios close to 1 that bar-to-bar equity returns are: with `u = (a - b) / (a + b)`,
/// `ln(a / b) = 2 atanh(u) = 2 (u + u^3/3 + u^5/5 + ...)`; for |u| <= 1/64 the terms after
/// u^9/9 are below 1e-19 relative. Other ratios (and zero or non-finite values) use `ln`.
#[inline(always)]
pub(crate) fn log_ratio(a: f64, b: f64) -> f64 {
    let u = (a - b) / (a + b);
    if u.abs() <= 1.0 / 64.0 {
        let u2 = u * u;
        // Horner with plain multiply-adds (`mul_add` is a slow library call without `+fma`).
        let p = ((((1.0 / 9.0) * u2 + 1.0 / 7.0) * u2 + 1.0 / 5.0) * u2 + 1.0 / 3.0) * u2 + 1.0;
        2.0 * u * p
    } else {
        (a / b).ln()
    }
}

/// A change of target position decided at the close of `bar` (filled at the next open).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetChange {
    pub bar: usize,
    pub target: f64,
}

/// What a simulation records besides the statistics (nothing on the fast path).
pub(crate) trait Recorder {
    /// Whether beta (and so alpha) is computed: the bar-to-bar equity log returns cost a
    /// division per bar, which the fitness of evolution never reads.
    const BETA: bool = true;
    /// Whether the average trade (a geometric mean: one logarithm per closed trade, which
    /// costs more than the rest of a trade's bookkeeping) is computed; the fitness never reads it.
    const AVERAGE_TRADE: bool = true;
    fn equity(&mut self, _bar: usize, _value: f64) {}
    fn equity_run(&mut self, _from: usize, _to: usize, _value: f64) {}
    fn trade(&mut self, _trade: Trade) {}
}

/// The fast path records nothing.
pub(crate) struct NoRecord;
impl Recorder for NoRecord {}

/// Records nothing and skips what evolution's fitness never reads: every statistic but beta,
/// alpha and the average trade (all `None`) is the same, bit for bit, as with [`NoRecord`].
pub(crate) struct FitnessOnly;
impl Recorder for FitnessOnly {
    const BETA: bool = false;
    const AVERAGE_TRADE: bool = false;
}

/// The full path keeps the equity curve and the trade list.
#[derive(Default)]
pub(crate) struct FullRecord {
    pub equity: Vec<f64>,
    pub trades: Vec<Trade>,
}

impl Recorder for FullRecord {
    #[inline]
    fn equity(&mut self, _bar: usize, value: f64) {
        self.equity.push(value);
    }
    fn equity_run(&mut self, from: usize, to: usize, value: f64) {
        self.equity.extend(std::iter::repeat_n(value, to - from));
    }
    fn trade(&mut self, trade: Trade) {
        self.trades.push(trade);
    }
}

/// Simulation state and the accumulators of every statistic.
struct Sim<'c, 'a, R: Recorder> {
    ctx: &'c BacktestContext<'a>,
    rec: R,
    commission: f64,
    slippage: f64,
    cash: f64,
    units: f64,
    book: Book,
    /// Equity at the previous close.
    e_prev: f64,
    peak: f64,
    /// Last bar with drawdown exactly 0.
    last_zero: usize,
    /// Lowest equity since `last_zero` (the drawdown depth is `1 - min / peak`).
    seg_min: f64,
    max_dd: f64,
    drawdowns: DrawdownAcc,
    periods: PeriodAcc,
    /// Equity at the end of the last resampling period seen (None before the first).
    e_period: Option<f64>,
    cov_xy: f64,
    trades: TradeAcc,
    funding_cursor: usize,
    ruined: bool,
}

impl<'c, 'a, R: Recorder> Sim<'c, 'a, R> {
    fn new(ctx: &'c BacktestContext<'a>, config: &BacktestConfig, rec: R) -> Self {
        let cash = config.cash;
        let mut sim = Sim {
            ctx,
            rec,
            commission: config.commission,
            slippage: config.slippage(),
            cash,
            units: 0.0,
            book: Book::default(),
            e_prev: cash,
            peak: cash,
            last_zero: 0,
            seg_min: f64::INFINITY,
            max_dd: 0.0,
            drawdowns: DrawdownAcc::default(),
            periods: PeriodAcc::default(),
            e_period: None,
            cov_xy: 0.0,
            trades: TradeAcc::default(),
            funding_cursor: 0,
            ruined: false,
        };
        // Bar 0: nothing can be filled yet; equity = cash, drawdown 0.
        if ctx.calendar.group_end[0] {
            sim.e_period = Some(cash);
        }
        sim.rec.equity(0, cash);
        sim
    }

    /// Marks the equity `e` at the close of `bar` into every statistic.
    #[inline(always)]
    fn mark(&mut self, bar: usize, e: f64) {
        if e >= self.peak {
            if bar > self.last_zero + 1 {
                self.close_drawdown(bar);
            }
            self.peak = e;
            self.last_zero = bar;
            self.seg_min = f64::INFINITY;
        } else if e < self.seg_min {
            self.seg_min = e;
        }
        // Bar-to-bar equity log return, for beta (`np.log(equity[1:] / equity[:-1])`).
        if R::BETA {
            let x = log_ratio(e, self.e_prev);
            self.cov_xy += x * self.ctx.yc[bar];
        }
        if self.ctx.calendar.group_end[bar] {
            self.period_end(e);
        }
        self.e_prev = e;
        self.rec.equity(bar, e);
    }

    #[inline]
    fn period_end(&mut self, e: f64) {
        if let Some(prev) = self.e_period {
            // pandas pct_change: x / x.shift() - 1
            self.periods.add(e / prev - 1.0);
        }
        self.e_period = Some(e);
    }

    /// The drawdown period from `last_zero` to `bar` (which ends it).
    #[cold]
    fn close_drawdown(&mut self, bar: usize) {
        self.drawdown_ended(bar, self.seg_min, self.peak);
    }

    /// The drawdown period from `last_zero` to `bar`, with its lowest equity and its peak.
    #[cold]
    #[inline(never)]
    fn drawdown_ended(&mut self, bar: usize, seg_min: f64, peak: f64) {
        let ts = &self.ctx.data.bars.timestamp_ms;
        let depth = 1.0 - seg_min / peak;
        self.max_dd = self.max_dd.max(depth);
        self.drawdowns.add(depth, (ts[bar] - ts[self.last_zero]) * NS_PER_MS);
    }

    /// Bars `from..to` with no fill while flat: the equity equals the previous close's.
    fn flat_run(&mut self, from: usize, to: usize) {
        if from >= to {
            return;
        }
        let e = self.e_prev;
        if e >= self.peak {
            self.last_zero = to - 1;
        }
        let ctx = self.ctx;
        let first = ctx.next_group_end[from] as usize;
        if first < to {
            self.period_end(e);
            let rest = ctx.group_end_prefix[to] - ctx.group_end_prefix[first + 1];
            self.periods.add_zeros(rest as u64);
        }
        // Equity log returns are exactly 0: nothing to add for beta.
        self.rec.equity_run(from, to, e);
    }

    /// Bars `from..to` with no fill while holding a position (funding may be due).
    fn held_run(&mut self, from: usize, to: usize) {
        let ctx = self.ctx;
        let close = &ctx.data.bars.close;
        let mut j = from;
        while j < to {
            let fund_bar = self.next_funding_bar(j);
            let stop = fund_bar.min(to);
            if !self.held_bars(j, stop) {
                return;
            }
            if stop == to {
                return;
            }
            self.apply_funding(stop);
            let e = self.cash + self.units * close[stop];
            if e <= 0.0 {
                self.ruin(stop);
                return;
            }
            self.mark(stop, e);
            j = stop + 1;
        }
    }

    /// The hot loop: bars `from..to` holding a constant position with nothing else due.
    /// Does exactly what [`Sim::mark`] does per bar, with the running values in locals (so
    /// they stay in registers). Returns false if the account was ruined.
    #[inline(always)]
    fn held_bars(&mut self, from: usize, to: usize) -> bool {
        let ctx = self.ctx;
        let close = &ctx.data.bars.close[from..to];
        let yc = &ctx.yc[from..to];
        let group_end = &ctx.calendar.group_end[from..to];
        let (units, cash) = (self.units, self.cash);
        let (mut peak, mut seg_min, mut e_prev, mut cov) = (self.peak, self.seg_min, self.e_prev, self.cov_xy);
        for (k, ((&c, &y), &end)) in close.iter().zip(yc).zip(group_end).enumerate() {
            let bar = from + k;
            let e = cash + units * c;
            if e <= 0.0 {
                (self.peak, self.seg_min, self.e_prev, self.cov_xy) = (peak, seg_min, e_prev, cov);
                self.ruin(bar);
                return false;
            }
            if e >= peak {
                if bar > self.last_zero + 1 {
                    self.drawdown_ended(bar, seg_min, peak);
                }
                peak = e;
                self.last_zero = bar;
                seg_min = f64::INFINITY;
            } else if e < seg_min {
                seg_min = e;
            }
            if R::BETA {
                cov += log_ratio(e, e_prev) * y;
            }
            if end {
                self.period_end(e);
            }
            e_prev = e;
            self.rec.equity(bar, e);
        }
        (self.peak, self.seg_min, self.e_prev, self.cov_xy) = (peak, seg_min, e_prev, cov);
        true
    }

    /// The first bar >= `bar` with funding due (`usize::MAX` if none).
    #[inline]
    fn next_funding_bar(&mut self, bar: usize) -> usize {
        let f = &self.ctx.funding;
        while self.funding_cursor < f.len() && f[self.funding_cursor].0 < bar {
            self.funding_cursor += 1;
        }
        f.get(self.funding_cursor).map_or(usize::MAX, |&(b, _)| b)
    }

    /// Charges the funding due in `bar` on the units held (long pays a positive rate).
    fn apply_funding(&mut self, bar: usize) {
        if self.next_funding_bar(bar) == bar {
            let rate = self.ctx.funding[self.funding_cursor].1;
            self.cash -= rate * self.units * self.ctx.data.bars.open[bar];
            self.funding_cursor += 1;
        }
    }

    /// A bar with a fill (`target`) and/or the end-of-run close (`finalize`).
    fn special_bar(&mut self, bar: usize, target: Option<f64>, finalize: bool) {
        let open = self.ctx.data.bars.open[bar];
        if let Some(t) = target {
            self.fill(bar, open, t);
        }
        if finalize && self.units != 0.0 {
            self.fill(bar, open, 0.0);
        }
        if self.units != 0.0 {
            self.apply_funding(bar);
        }
        let e = self.cash + self.units * self.ctx.data.bars.close[bar];
        if e <= 0.0 {
            self.ruin(bar);
        } else {
            self.mark(bar, e);
        }
    }

    /// Moves the position to target fraction `t` at `open` (see the module docs).
    fn fill(&mut self, bar: usize, open: f64, t: f64) {
        let q = self.units;
        let c = self.commission;
        let (new_units, price) = if t == 0.0 {
            if q == 0.0 {
                return;
            }
            (
                0.0,
                if q > 0.0 {
                    open * (1.0 - self.slippage)
                } else {
                    open * (1.0 + self.slippage)
                },
            )
        } else {
            let e = self.cash + q * open;
            let reference = t * e / (open * (1.0 + c));
            if reference == q {
                return;
            }
            let dir = if reference > q { 1.0 } else { -1.0 };
            let price = open * (1.0 + dir * self.slippage);
            let u = t * e / (price * (1.0 + c));
            if (u - q) * dir <= 0.0 {
                return;
            }
            (u, price)
        };
        let delta = new_units - q;
        self.cash -= delta * price + delta.abs() * price * c;
        let flips = new_units == 0.0 || (q != 0.0 && new_units.signum() != q.signum());
        if flips {
            let mut closed = std::mem::take(&mut self.book);
            closed.close_all(price, bar, |x| self.closed(x));
            self.book = closed;
            if new_units != 0.0 {
                self.book.open(Lot {
                    units: new_units,
                    price,
                    bar,
                });
            }
        } else if new_units.abs() > q.abs() {
            self.book.open(Lot {
                units: delta,
                price,
                bar,
            });
        } else {
            let mut book = std::mem::take(&mut self.book);
            book.reduce(delta.abs(), price, bar, |x| self.closed(x));
            self.book = book;
        }
        self.units = new_units;
    }

    /// Accounts a closed piece of a lot as a trade (backtesting.py's Trade.pl / pl_pct).
    fn closed(&mut self, x: Closed) {
        let size = x.units.abs();
        let commission = size * x.exit_price * self.commission + size * x.entry_price * self.commission;
        let pnl = x.units * (x.exit_price - x.entry_price) - commission;
        let ret = x.units.signum() * (x.exit_price / x.entry_price - 1.0) - commission / (size * x.entry_price);
        let ts = &self.ctx.data.bars.timestamp_ms;
        let (t0, t1) = (ts[x.entry_bar], ts[x.exit_bar]);
        self.trades.add(
            pnl,
            ret,
            commission,
            x.entry_bar,
            x.exit_bar,
            (t1 - t0) * NS_PER_MS,
            R::AVERAGE_TRADE,
        );
        self.rec.trade(Trade {
            size: x.units,
            entry_bar: x.entry_bar,
            exit_bar: x.exit_bar,
            entry_time_ms: t0,
            exit_time_ms: t1,
            entry_price: x.entry_price,
            exit_price: x.exit_price,
            pnl,
            commission,
            return_pct: ret * 100.0,
        });
    }

    /// Equity fell to 0 or below at the close of `bar`: close everything at that close
    /// (commission charged), equity 0 from here on; later period returns are undefined
    /// (0 / 0) and dropped, and beta is undefined.
    #[cold]
    fn ruin(&mut self, bar: usize) {
        let close = self.ctx.data.bars.close[bar];
        let mut book = std::mem::take(&mut self.book);
        book.close_all(close, bar, |x| self.closed(x));
        self.units = 0.0;
        self.cash = 0.0;
        self.ruined = true;
        self.mark(bar, 0.0);
        let next_end = self.ctx.next_group_end[bar] as usize;
        if !self.ctx.calendar.group_end[bar] && next_end < self.ctx.len() {
            // The period holding the ruin ends at 0 too: its return is -1.
            self.period_end(0.0);
        }
        let n = self.ctx.len();
        if bar + 1 < n {
            self.seg_min = 0.0;
            self.rec.equity_run(bar + 1, n, 0.0);
        }
        self.cov_xy = f64::NAN;
    }

    /// Final bookkeeping (the drawdown still open at the last bar) and the statistics.
    fn finish(mut self, cash0: f64, warmup: usize) -> (Stats, R) {
        let n = self.ctx.len();
        let last = n - 1;
        let mut lone_last_dd = None;
        if self.last_zero < last {
            let depth = 1.0 - self.seg_min / self.peak;
            self.max_dd = self.max_dd.max(depth);
            if last > self.last_zero + 1 {
                let ts = &self.ctx.data.bars.timestamp_ms;
                self.drawdowns.add(depth, (ts[last] - ts[self.last_zero]) * NS_PER_MS);
            } else if self.drawdowns.count == 0 {
                lone_last_dd = Some(depth);
            }
        }
        let totals = RunTotals {
            equity_final: self.e_prev,
            equity_peak: self.peak,
            max_dd: self.max_dd,
            drawdowns: self.drawdowns,
            lone_last_dd,
            periods: self.periods,
            cov_xy: if R::BETA { self.cov_xy } else { f64::NAN },
            average_trade: R::AVERAGE_TRADE,
            trades: self.trades,
        };
        (finish(self.ctx, cash0, warmup, &totals), self.rec)
    }
}

/// Runs the simulation over the target changes (decision bars strictly increasing);
/// `warmup` is the strategy's indicator warm-up (it moves Buy & Hold and Alpha only).
pub(crate) fn simulate<R: Recorder>(
    ctx: &BacktestContext<'_>,
    changes: impl IntoIterator<Item = TargetChange>,
    config: &BacktestConfig,
    warmup: usize,
    rec: R,
) -> Result<(Stats, R), BacktestError> {
    config.validate()?;
    let n = ctx.len();
    let mut sim = Sim::new(ctx, config, rec);
    let last = n - 1;
    let mut changes = changes.into_iter();
    let mut bar = 1; // next bar to process
    let mut prev_decision: Option<usize> = None;
    while bar <= last && !sim.ruined {
        // The next fill: a change decided at bar d fills at d + 1 (never after the last bar).
        let next = match changes.next() {
            None => None,
            Some(ch) => {
                if !(ch.target.is_finite() && (-1.0..=1.0).contains(&ch.target)) {
                    return Err(BacktestError::InvalidTarget {
                        bar: ch.bar,
                        value: ch.target,
                    });
                }
                if prev_decision.is_some_and(|p| ch.bar <= p) {
                    return Err(BacktestError::UnorderedChanges { bar: ch.bar });
                }
                prev_decision = Some(ch.bar);
                (ch.bar < last).then_some(ch)
            }
        };
        let fill_bar = next.map_or(last, |ch| ch.bar + 1);
        if sim.units == 0.0 {
            sim.flat_run(bar, fill_bar);
        } else {
            sim.held_run(bar, fill_bar);
        }
        if sim.ruined {
            break;
        }
        let finalize = config.finalize_trades && fill_bar == last;
        sim.special_bar(fill_bar, next.map(|ch| ch.target), finalize);
        bar = fill_bar + 1;
        if next.is_none() {
            break;
        }
    }
    Ok(sim.finish(config.cash, warmup))
}

/// The target changes of a target vector (validated: one finite value in [-1, 1] per bar).
pub(crate) fn changes_of(targets: &[f64], bars: usize) -> Result<Vec<TargetChange>, BacktestError> {
    if targets.len() != bars {
        return Err(BacktestError::TargetLength {
            got: targets.len(),
            bars,
        });
    }
    // Branch-free passes (vectorised): the check, then "differs from the previous bar" as bit
    // masks per 64 bars; only the changes run scalar code. `!=` sees -0.0 and 0.0 as one value.
    let valid = targets
        .chunks(64)
        .all(|c| c.iter().fold(true, |ok, &t| ok & (-1.0..=1.0).contains(&t)));
    if !valid {
        let (bar, &value) = targets
            .iter()
            .enumerate()
            .find(|(_, t)| !(t.is_finite() && (-1.0..=1.0).contains(*t)))
            .expect("an invalid target");
        return Err(BacktestError::InvalidTarget { bar, value });
    }
    let mut out = Vec::new();
    let mut previous = 0.0;
    for (block, chunk) in targets.chunks(64).enumerate() {
        let mut differs = 0u64;
        for (k, &t) in chunk.iter().enumerate() {
            let before = if k == 0 { previous } else { chunk[k - 1] };
            differs |= u64::from(t != before) << k;
        }
        while differs != 0 {
            let k = differs.trailing_zeros() as usize;
            differs &= differs - 1;
            out.push(TargetChange {
                bar: block * 64 + k,
                target: chunk[k],
            });
        }
        previous = chunk[chunk.len() - 1];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{changes_of, log_ratio, TargetChange};

    /// The plain definition of `changes_of`.
    fn changes_naive(targets: &[f64]) -> Vec<TargetChange> {
        let mut out = Vec::new();
        let mut current = 0.0;
        for (bar, &t) in targets.iter().enumerate() {
            if t != current {
                out.push(TargetChange { bar, target: t });
                current = t;
            }
        }
        out
    }

    #[test]
    fn changes_of_equals_the_plain_scan() {
        let mut state = 5u64;
        for len in [0, 1, 2, 63, 64, 65, 127, 128, 129, 1000] {
            for levels in [2u64, 3, 7] {
                let targets: Vec<f64> = (0..len)
                    .map(|i| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        match (state >> 33) % (levels + 2) {
                            0 if i % 5 == 0 => -0.0,
                            k => (k % levels) as f64 / levels as f64 - 0.5,
                        }
                    })
                    .collect();
                let got = changes_of(&targets, len).unwrap();
                let want = changes_naive(&targets);
                assert_eq!(got.len(), want.len(), "len {len}");
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!((g.bar, g.target.to_bits()), (w.bar, w.target.to_bits()), "len {len}");
                }
            }
        }
        let bad = [0.0, 0.5, f64::NAN, 2.0];
        assert!(matches!(
            changes_of(&bad, 4),
            Err(crate::backtest::BacktestError::InvalidTarget { bar: 2, .. })
        ));
    }

    #[test]
    fn log_ratio_agrees_with_ln() {
        let mut worst: f64 = 0.0;
        for k in 1..20_000 {
            let r = 0.5 + k as f64 * 5e-5; // ratios 0.50005 .. 1.5
            let b = 10_000.0 + k as f64;
            let a = b * r;
            let want = (a / b).ln();
            let got = log_ratio(a, b);
            // `(a / b).ln()` itself carries the rounding of `a / b` (~1e-16 absolute).
            worst = worst.max((got - want).abs());
        }
        assert!(worst < 1e-15, "worst absolute difference {worst:e}");
        assert_eq!(log_ratio(5.0, 5.0), 0.0);
        assert_eq!(log_ratio(0.0, 5.0), f64::NEG_INFINITY);
        assert!(log_ratio(0.0, 0.0).is_nan());
    }
}
