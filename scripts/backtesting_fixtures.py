#!/usr/bin/env python3
"""Generates tests/fixtures/backtesting/*.json: backtesting.py 0.6.6 results for an SMA crossover.

Runs `backtesting.lib.FractionalBacktest` (cash 10000, trade_on_close=False: orders placed at a
bar's close fill at the next bar's open) with the same rule as evoflow's `sma_crossover`
strategy on both embedded samples, for several (fast, slow, commission, finalize_trades)
combinations, and writes every statistic (+ the trade list and, for one case per sample, the
equity curve) so that `tests/backtest_vs_backtestingpy.rs` can compare evoflow field for field
without Python.

Details that make the two sides comparable:
* The SMAs are `Strategy.I(talib.SMA, close, n)` indicators on the unscaled closes, the way backtesting.py's users
  write strategies (evoflow::indicators::sma uses TA-Lib's running sum). backtesting.py's
  warm-up `w` is then the first bar at which both are defined (`slow - 1`): its loop makes
  the first decision at the close of bar `w + 1`, and `Buy & Hold Return [%]` (and so
  `Alpha [%]`) is measured from the close of bar `w`. Each case records that `w` as
  `warmup`; evoflow's `sma_crossover` declares the same warm-up (`Strategy::warmup`).
* `FractionalBacktest` trades whole multiples of `fractional_unit`; `self.buy()` sizes with
  floor(equity * (1 - eps) / (price * (1 + commission))). A unit small enough that a full-equity
  position is ~1e13-1e14 units makes that flooring negligible (< 1e-12 relative) next to
  evoflow's exact fractional sizing units = equity / (price * (1 + commission)).
* The index is converted to datetime64[ns] (pandas 3 would infer microseconds), so mean
  durations are truncated to nanoseconds before backtesting.py rounds them up.
* No `spread`: backtesting.py applies it to entry fills only (a position is closed at the raw
  open) and sizes entries with the commission of the unadjusted price, so it is not the same
  thing as evoflow's `slippage_bps`, which moves every fill (entry and exit) against the trader.
* Orders are not placed on the final bar: with finalize_trades=True backtesting.py would fill
  them at that bar's open in its extra broker pass; evoflow never fills the last bar's signal.

Usage: python3 scripts/backtesting_fixtures.py   (from the repository root)
"""
import json
import math
import os
import warnings

import numpy as np
import pandas as pd
import talib
from backtesting import Strategy
from backtesting import __version__ as bt_version
from backtesting._util import _indicator_warmup_nbars
from backtesting.lib import FractionalBacktest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "backtesting")

SAMPLES = {
    # name: (csv file, fractional unit, cases [(fast, slow, commission, finalize, keep_equity)])
    "goog-1d": ("goog_daily.csv", 1e-12, [
        (10, 20, 0.0, False, False),
        (10, 20, 0.001, False, False),
        (10, 30, 0.001, True, True),
        (5, 50, 0.002, False, False),
        (20, 60, 0.0, True, False),
        (3, 7, 0.0005, False, False),
    ]),
    # The daily sample re-dated to consecutive calendar days (weekends included), so that
    # backtesting.py annualises with 365 days instead of 252.
    "goog-every-day": ("goog_daily.csv", 1e-12, [
        (10, 20, 0.0, False, False),
        (10, 30, 0.001, True, False),
    ]),
    "eurusd-1h": ("eurusd_hourly.csv", 1e-10, [
        (10, 20, 0.0, False, False),
        (10, 30, 0.0002, True, True),
        (20, 100, 0.001, False, False),
        (50, 200, 0.0, True, False),
        (3, 7, 0.0001, False, False),
    ]),
}

TRADE_COLUMNS = ["entry_bar", "exit_bar", "size", "entry_price", "exit_price", "pnl", "commission", "return_pct"]

STAT_KEYS = {
    "Exposure Time [%]": "exposure_time_pct",
    "Equity Final [$]": "equity_final",
    "Equity Peak [$]": "equity_peak",
    "Commissions [$]": "commissions",
    "Return [%]": "return_pct",
    "Buy & Hold Return [%]": "buy_hold_return_pct",
    "Return (Ann.) [%]": "return_ann_pct",
    "Volatility (Ann.) [%]": "volatility_ann_pct",
    "CAGR [%]": "cagr_pct",
    "Sharpe Ratio": "sharpe_ratio",
    "Sortino Ratio": "sortino_ratio",
    "Calmar Ratio": "calmar_ratio",
    "Alpha [%]": "alpha_pct",
    "Beta": "beta",
    "Max. Drawdown [%]": "max_drawdown_pct",
    "Avg. Drawdown [%]": "avg_drawdown_pct",
    "Max. Drawdown Duration": "max_drawdown_duration_s",
    "Avg. Drawdown Duration": "avg_drawdown_duration_s",
    "# Trades": "num_trades",
    "Win Rate [%]": "win_rate_pct",
    "Best Trade [%]": "best_trade_pct",
    "Worst Trade [%]": "worst_trade_pct",
    "Avg. Trade [%]": "avg_trade_pct",
    "Max. Trade Duration": "max_trade_duration_s",
    "Avg. Trade Duration": "avg_trade_duration_s",
    "Profit Factor": "profit_factor",
    "Expectancy [%]": "expectancy_pct",
    "SQN": "sqn",
    "Kelly Criterion": "kelly_criterion",
}


def load(csv_name):
    df = pd.read_csv(os.path.join(ROOT, "src", "market", "samples", csv_name))
    index = pd.to_datetime(df.pop("timestamp"), utc=True).dt.tz_localize(None).astype("datetime64[ns]")
    df.index = pd.DatetimeIndex(index)
    df.columns = ["Open", "High", "Low", "Close", "Volume"]
    return df


def iso(ts):
    return pd.Timestamp(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def num(v):
    """A JSON number, or None for NaN/NaT/inf (evoflow reports undefined values as null)."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, pd.Timedelta):
        return v.total_seconds()
    v = float(v)
    return v if math.isfinite(v) else None


def make_strategy(closes, fast, slow, nbars):
    class SmaCross(Strategy):
        def init(self):
            # The unscaled closes: FractionalBacktest hands the strategy prices multiplied by
            # fractional_unit, whose rounding could move a near-tie of the two SMAs.
            close = closes
            self.f_sma = self.I(talib.SMA, close, fast)
            self.s_sma = self.I(talib.SMA, close, slow)

        def next(self):
            if len(self.data) == nbars:
                return  # evoflow never fills a signal decided on the last bar
            f, s = self.f_sma, self.s_sma
            up = f[-2] < s[-2] and f[-1] > s[-1]
            down = f[-2] > s[-2] and f[-1] < s[-1]
            if up and not self.position:
                self.buy()
            elif down and self.position:
                self.position.close()

    return SmaCross


def run_case(df, unit, fast, slow, commission, finalize, keep_equity):
    closes = df["Close"].to_numpy(dtype=float)
    strategy = make_strategy(closes, fast, slow, len(df))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = FractionalBacktest(df, strategy, cash=10_000, commission=commission,
                                fractional_unit=unit, finalize_trades=finalize)
        r = bt.run()
    stats = {"start": iso(r["Start"]), "end": iso(r["End"]), "duration_s": r["Duration"].total_seconds()}
    for key, name in STAT_KEYS.items():
        # backtesting.py omits "Commissions [$]" when they are zero; evoflow reports 0.
        stats[name] = num(r.get(key, 0.0))
    stats["num_trades"] = int(r["# Trades"])
    # Compact rows; columns in TRADE_COLUMNS.
    trades = [
        [int(t.EntryBar), int(t.ExitBar), float(t.Size), float(t.EntryPrice), float(t.ExitPrice),
         float(t.PnL), float(t.Commission), float(t.ReturnPct) * 100]
        for t in r["_trades"].itertuples(index=False)
    ]
    case = {
        "fast": fast, "slow": slow, "commission": commission, "finalize_trades": finalize,
        "fractional_unit": unit, "warmup": int(_indicator_warmup_nbars(r["_strategy"])),
        "stats": stats, "trades": trades,
    }
    if keep_equity:
        case["equity"] = [float(f"{x:.12g}") for x in r["_equity_curve"]["Equity"]]
    return case


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (csv_name, unit, cases) in SAMPLES.items():
        df = load(csv_name)
        if name == "goog-every-day":
            df.index = pd.DatetimeIndex(df.index[0] + pd.to_timedelta(np.arange(len(df)), unit="D"))
        out = {
            "generator": "scripts/backtesting_fixtures.py",
            "backtesting_version": bt_version,
            "talib_version": talib.__version__,
            "sample": name,
            "cash": 10_000,
            "trade_columns": TRADE_COLUMNS,
            "cases": [run_case(df, unit, *c) for c in cases],
        }
        path = os.path.join(OUT, f"{name}.json")
        with open(path, "w") as fh:
            json.dump(out, fh, separators=(",", ":"))
            fh.write("\n")
        print(f"wrote {path}: {len(cases)} cases, "
              + ", ".join(str(c['stats']['num_trades']) for c in out['cases']) + " trades")


if __name__ == "__main__":
    main()
