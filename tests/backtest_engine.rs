//! Engine rules on hand-made bars: sizing, commission, slippage, shorts, fractional targets, funding, last bar, finalize.

use evoflow::backtest::{
    run_backtest, run_backtest_stats, BacktestConfig, BacktestContext, BacktestError, TargetChange,
};
use evoflow::market::sample::load_sample;
use evoflow::market::{Bars, FundingRates, MarketData};

const DAY: i64 = 86_400_000;
/// 2024-01-01, a Monday.
const T0: i64 = 1_704_067_200_000;

/// Daily bars (weekdays only, so 252-day annualisation) with the given opens and closes.
fn bars(opens: &[f64], closes: &[f64]) -> MarketData {
    let mut b = Bars::with_capacity(opens.len());
    let mut day = 0;
    for (&o, &c) in opens.iter().zip(closes) {
        while day % 7 >= 5 {
            day += 1;
        }
        b.push(T0 + day * DAY, o, o.max(c), o.min(c), c, 1000.0);
        day += 1;
    }
    MarketData::new("test", b)
}

fn cfg(commission: f64, slippage_bps: f64, finalize: bool) -> BacktestConfig {
    BacktestConfig {
        cash: 10_000.0,
        commission,
        slippage_bps,
        finalize_trades: finalize,
    }
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

macro_rules! assert_near {
    ($a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        assert!(
            near(a, b),
            "{} = {a} but expected {} = {b}",
            stringify!($a),
            stringify!($b)
        );
    }};
}

#[test]
fn full_equity_entry_uses_the_sizing_formula() {
    let data = bars(
        &[100.0, 100.0, 104.0, 108.0, 110.0],
        &[100.0, 102.0, 106.0, 109.0, 111.0],
    );
    let c = 0.001;
    let r = run_backtest(&data, &[1.0, 1.0, 1.0, 1.0, 1.0], &cfg(c, 0.0, false)).unwrap();
    // Decided at the close of bar 0, filled at the open of bar 1.
    let units = 10_000.0 / (100.0 * (1.0 + c));
    assert_near!(r.equity[0], 10_000.0);
    // units * price + commission = all the equity: cash is 0 after the fill.
    assert_near!(r.equity[1], units * 102.0);
    assert_near!(r.equity[4], units * 111.0);
    // Open trade: not in the trade statistics, not in the trade list.
    assert_eq!(r.stats.num_trades, 0);
    assert!(r.trades.is_empty());
}

#[test]
fn commission_is_charged_on_entry_and_exit() {
    let data = bars(
        &[100.0, 100.0, 105.0, 110.0, 111.0],
        &[100.0, 101.0, 106.0, 112.0, 113.0],
    );
    let c = 0.002;
    let r = run_backtest(&data, &[1.0, 1.0, 0.0, 0.0, 0.0], &cfg(c, 0.0, false)).unwrap();
    let units = 10_000.0 / (100.0 * (1.0 + c));
    let commission = units * 100.0 * c + units * 110.0 * c;
    let pnl = units * (110.0 - 100.0) - commission;
    assert_eq!(r.trades.len(), 1);
    let t = &r.trades[0];
    assert_eq!((t.entry_bar, t.exit_bar), (1, 3));
    assert_near!(t.size, units);
    assert_near!(t.commission, commission);
    assert_near!(t.pnl, pnl);
    assert_near!(
        t.return_pct,
        (110.0 / 100.0 - 1.0 - commission / (units * 100.0)) * 100.0
    );
    assert_near!(r.stats.equity_final, 10_000.0 + pnl);
    assert_near!(r.stats.commissions, commission);
    assert_eq!(r.stats.num_trades, 1);
    // Exposure: bars 1..=3 of 5.
    assert_near!(r.stats.exposure_time_pct, 60.0);
}

#[test]
fn slippage_moves_fills_against_the_trader() {
    let data = bars(&[100.0, 100.0, 105.0, 110.0], &[100.0, 101.0, 106.0, 112.0]);
    let bps = 10.0;
    let r = run_backtest(&data, &[1.0, 0.0, 0.0, 0.0], &cfg(0.0, bps, false)).unwrap();
    let t = &r.trades[0];
    assert_near!(t.entry_price, 100.0 * 1.001);
    assert_near!(t.exit_price, 105.0 * 0.999);
    let units = 10_000.0 / (100.0 * 1.001);
    assert_near!(t.size, units);
    assert_near!(r.stats.equity_final, units * 105.0 * 0.999);
}

#[test]
fn short_positions_profit_when_the_price_falls() {
    let data = bars(&[100.0, 100.0, 95.0, 90.0, 90.0], &[100.0, 98.0, 92.0, 91.0, 90.0]);
    let (c, bps) = (0.001, 5.0);
    let r = run_backtest(&data, &[-1.0, 0.0, 0.0, 0.0, 0.0], &cfg(c, bps, false)).unwrap();
    let sell = 100.0 * (1.0 - 5e-4);
    let units = -10_000.0 / (sell * (1.0 + c));
    let buy = 95.0 * (1.0 + 5e-4);
    let t = &r.trades[0];
    assert_near!(t.size, units);
    assert_near!(t.entry_price, sell);
    assert_near!(t.exit_price, buy);
    let commission = units.abs() * buy * c + units.abs() * sell * c;
    assert_near!(t.pnl, units * (buy - sell) - commission);
    assert!(t.pnl > 0.0);
    // While short: cash = 10000 + |units| * sell - commission; equity = cash + units * close.
    let cash = 10_000.0 - units * sell - units.abs() * sell * c;
    assert_near!(r.equity[1], cash + units * 98.0);
    assert_near!(r.stats.equity_final, 10_000.0 + t.pnl);
}

#[test]
fn fractional_target_changes_resize_with_fifo_lots() {
    let opens = [100.0, 100.0, 120.0, 90.0, 100.0, 100.0];
    let closes = [100.0, 110.0, 100.0, 95.0, 100.0, 100.0];
    let data = bars(&opens, &closes);
    let r = run_backtest(&data, &[0.5, 1.0, 0.25, 0.25, 0.0, 0.0], &cfg(0.0, 0.0, false)).unwrap();
    // Bar 1: 0.5 of 10000 at 100 -> 50 units, cash 5000.
    let u1 = 50.0;
    assert_near!(r.equity[1], 5_000.0 + u1 * 110.0);
    // Bar 2: equity at open 5000 + 50*120 = 11000 -> 1.0 => 91.666 units; buys 41.666 more at 120.
    let e2 = 5_000.0 + u1 * 120.0;
    let u2 = e2 / 120.0;
    assert_near!(r.equity[2], u2 * 100.0);
    // Bar 3: equity at open u2*90 -> 0.25 => units; sells the difference FIFO (the 50-unit lot first).
    let e3 = u2 * 90.0;
    let u3 = 0.25 * e3 / 90.0;
    let sold = u2 - u3;
    assert!(sold > u1);
    // Closed pieces: all of lot 1 (50 @ 100), then part of lot 2 (@ 120); bar 5 closes the rest.
    assert_eq!(r.trades.len(), 3);
    assert_near!(r.trades[0].size, u1);
    assert_near!(r.trades[0].entry_price, 100.0);
    assert_eq!((r.trades[0].entry_bar, r.trades[0].exit_bar), (1, 3));
    assert_near!(r.trades[1].size, sold - u1);
    assert_near!(r.trades[1].entry_price, 120.0);
    assert_eq!((r.trades[1].entry_bar, r.trades[1].exit_bar), (2, 3));
    assert_near!(r.trades[2].size, u3);
    assert_eq!((r.trades[2].entry_bar, r.trades[2].exit_bar), (2, 5));
    assert_near!(r.equity[3], e3 - u3 * 90.0 + u3 * 95.0);
    let final_cash = e3 - u3 * 90.0 + u3 * 100.0;
    assert_near!(r.stats.equity_final, final_cash);
    let pnl: f64 = r.trades.iter().map(|t| t.pnl).sum();
    assert_near!(10_000.0 + pnl, final_cash);
}

#[test]
fn flipping_from_long_to_short_closes_then_opens() {
    let data = bars(
        &[100.0, 100.0, 110.0, 100.0, 100.0],
        &[100.0, 105.0, 108.0, 100.0, 100.0],
    );
    let r = run_backtest(&data, &[1.0, -1.0, -1.0, 0.0, 0.0], &cfg(0.0, 0.0, false)).unwrap();
    assert_eq!(r.trades.len(), 2);
    assert!(r.trades[0].size > 0.0 && r.trades[1].size < 0.0);
    let e2 = 10_000.0 / 100.0 * 110.0;
    assert_near!(r.trades[1].size, -e2 / 110.0);
    assert_near!(r.stats.equity_final, e2 + e2 / 110.0 * (110.0 - 100.0));
}

fn with_funding(mut data: MarketData, times: Vec<i64>, rates: Vec<f64>) -> MarketData {
    data.funding = Some(FundingRates {
        time_ms: times,
        rate: rates,
    });
    data
}

#[test]
fn funding_is_paid_long_and_received_short() {
    let opens = [100.0, 100.0, 110.0, 120.0, 120.0];
    let closes = [100.0, 105.0, 115.0, 118.0, 120.0];
    let base = bars(&opens, &closes);
    let ts = base.bars.timestamp_ms.clone();
    let rate = 0.001;
    // One event inside bar 2's span (charged at bar 2's open price), one before the data.
    let data = with_funding(base.clone(), vec![ts[0] - DAY, ts[2] + 8 * 3_600_000], vec![0.5, rate]);
    for side in [1.0, -1.0] {
        let targets = [side, side, side, side, side];
        let plain = run_backtest(&base, &targets, &cfg(0.0, 0.0, false)).unwrap();
        let funded = run_backtest(&data, &targets, &cfg(0.0, 0.0, false)).unwrap();
        let units = side * 10_000.0 / 100.0;
        let payment = rate * units * opens[2];
        assert_near!(funded.equity[1], plain.equity[1]);
        assert_near!(funded.equity[2], plain.equity[2] - payment);
        assert_near!(funded.stats.equity_final, plain.stats.equity_final - payment);
        if side > 0.0 {
            assert!(payment > 0.0, "a long pays a positive rate");
        } else {
            assert!(payment < 0.0, "a short receives a positive rate");
        }
        // Flat: nothing to pay.
        let flat = run_backtest(&data, &[0.0; 5], &cfg(0.0, 0.0, false)).unwrap();
        assert_near!(flat.stats.equity_final, 10_000.0);
        // Fast path agrees.
        assert_eq!(
            run_backtest_stats(&data, &targets, &cfg(0.0, 0.0, false)).unwrap(),
            funded.stats
        );
    }
}

#[test]
fn the_last_bars_signal_is_never_filled() {
    let data = bars(&[100.0, 100.0, 105.0, 110.0], &[100.0, 101.0, 106.0, 112.0]);
    let r = run_backtest(&data, &[0.0, 0.0, 0.0, 1.0], &cfg(0.001, 0.0, true)).unwrap();
    assert!(r.trades.is_empty());
    assert!(r.equity.iter().all(|&e| e == 10_000.0));
    assert_eq!(r.stats.exposure_time_pct, 0.0);
}

#[test]
fn finalize_closes_at_the_last_open_and_counts_the_trade() {
    let data = bars(&[100.0, 100.0, 105.0, 110.0], &[100.0, 101.0, 106.0, 112.0]);
    let targets = [1.0; 4];
    let off = run_backtest(&data, &targets, &cfg(0.0, 0.0, false)).unwrap();
    let on = run_backtest(&data, &targets, &cfg(0.0, 0.0, true)).unwrap();
    let units = 10_000.0 / 100.0;
    assert_eq!(off.stats.num_trades, 0);
    assert_near!(off.stats.equity_final, units * 112.0);
    assert_eq!(on.stats.num_trades, 1);
    assert_eq!((on.trades[0].entry_bar, on.trades[0].exit_bar), (1, 3));
    assert_near!(on.trades[0].exit_price, 110.0);
    assert_near!(on.stats.equity_final, units * 110.0);
    assert_near!(on.stats.exposure_time_pct, 75.0);
    assert_eq!(off.stats.exposure_time_pct, 0.0);
}

#[test]
fn bad_targets_and_config_are_errors() {
    let data = bars(&[100.0, 100.0, 105.0], &[100.0, 101.0, 106.0]);
    let ok = cfg(0.0, 0.0, false);
    assert!(matches!(
        run_backtest(&data, &[0.0, 1.0], &ok),
        Err(BacktestError::TargetLength { got: 2, bars: 3 })
    ));
    assert!(matches!(
        run_backtest(&data, &[0.0, f64::NAN, 0.0], &ok),
        Err(BacktestError::InvalidTarget { bar: 1, .. })
    ));
    assert!(matches!(
        run_backtest(&data, &[0.0, 1.5, 0.0], &ok),
        Err(BacktestError::InvalidTarget { .. })
    ));
    assert!(run_backtest(&data, &[0.0; 3], &BacktestConfig { cash: -1.0, ..ok }).is_err());
    assert!(run_backtest(&data, &[0.0; 3], &BacktestConfig { commission: 0.5, ..ok }).is_err());
    let empty = MarketData::new("empty", Bars::default());
    assert!(matches!(run_backtest(&empty, &[], &ok), Err(BacktestError::NoBars)));
    let longer = bars(&[100.0; 6], &[100.0; 6]);
    let ctx = BacktestContext::new(&longer).unwrap();
    let unordered = [
        TargetChange { bar: 1, target: 1.0 },
        TargetChange { bar: 1, target: 0.0 },
    ];
    assert!(matches!(
        ctx.run_stats_changes(unordered, &ok, 0),
        Err(BacktestError::UnorderedChanges { bar: 1 })
    ));
}

#[test]
fn a_short_squeeze_to_zero_equity_stops_the_run() {
    let data = bars(
        &[100.0, 100.0, 150.0, 250.0, 260.0],
        &[100.0, 120.0, 210.0, 255.0, 250.0],
    );
    let r = run_backtest(&data, &[-1.0; 5], &cfg(0.0, 0.0, false)).unwrap();
    // Short 100 units at 100: equity 20000 - 100 * close; <= 0 at close 210.
    assert_near!(r.equity[1], 8_000.0);
    assert_eq!(&r.equity[2..], &[0.0, 0.0, 0.0]);
    assert_eq!(r.stats.num_trades, 1);
    assert_near!(r.trades[0].exit_price, 210.0);
    assert_eq!(r.stats.equity_final, 0.0);
    assert_near!(r.stats.max_drawdown_pct, -100.0);
    assert_eq!(r.stats.beta, None);
}

/// Deterministic pseudo-random targets (long, short, fractional, flat).
fn lcg_targets(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    let mut t = 0.0;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if (s >> 33).is_multiple_of(40) {
                t = [-1.0, -0.5, 0.0, 0.0, 0.3, 1.0][((s >> 40) % 6) as usize];
            }
            t
        })
        .collect()
}

#[test]
fn fast_path_equals_full_path() {
    for sample in ["eurusd-1h", "goog-1d"] {
        let data = load_sample(sample).unwrap();
        let ctx = BacktestContext::new(&data).unwrap();
        for (seed, config) in [
            (1, cfg(0.0, 0.0, false)),
            (2, cfg(0.001, 3.0, true)),
            (3, cfg(0.0005, 0.0, false)),
        ] {
            let targets = lcg_targets(data.bars.len(), seed);
            let full = ctx.run(&targets, &config, 0).unwrap();
            assert_eq!(full.equity.len(), data.bars.len());
            assert!(full.stats.num_trades > 10);
            assert_eq!(ctx.run_stats(&targets, &config, 0).unwrap(), full.stats);
            assert_eq!(run_backtest_stats(&data, &targets, &config).unwrap(), full.stats);
            // The fitness path: the same statistics, beta, alpha and the average trade left out.
            let lean = ctx.run_fitness_stats(&targets, &config, 7).unwrap();
            assert!(full.stats.beta.is_some() && lean.beta.is_none() && lean.alpha_pct.is_none());
            assert!(full.stats.avg_trade_pct.is_some() && lean.avg_trade_pct.is_none());
            let with_warmup = ctx.run_stats(&targets, &config, 7).unwrap();
            assert_eq!(
                evoflow::backtest::Stats {
                    beta: with_warmup.beta,
                    alpha_pct: with_warmup.alpha_pct,
                    avg_trade_pct: with_warmup.avg_trade_pct,
                    ..lean
                },
                with_warmup
            );
            // The equity curve's own statistics agree with the accumulated ones.
            let peak = full.equity.iter().cloned().fold(f64::MIN, f64::max);
            assert_eq!(peak, full.stats.equity_peak);
            assert_eq!(*full.equity.last().unwrap(), full.stats.equity_final);
        }
    }
}

#[test]
fn a_shared_context_moves_into_threads_and_agrees() {
    fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}
    let data = std::sync::Arc::new(load_sample("goog-1d").unwrap());
    let shared = std::sync::Arc::new(BacktestContext::shared(data.clone()).unwrap());
    assert_send_sync(&shared);
    let targets = lcg_targets(data.bars.len(), 7);
    let config = cfg(0.001, 2.0, false);
    let want = run_backtest_stats(&data, &targets, &config).unwrap();
    let handle = {
        let (shared, targets) = (shared.clone(), targets.clone());
        std::thread::spawn(move || shared.run_stats(&targets, &config, 0).unwrap())
    };
    assert_eq!(handle.join().unwrap(), want);
}
