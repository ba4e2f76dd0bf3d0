#!/usr/bin/env python3
"""Writes TA-Lib reference values for `tests/indicators_talib.rs` to `tests/fixtures/talib/`.

Computes every TA-Lib indicator that `evoflow::indicators` implements (SMA, EMA, WMA, RSI,
TRANGE, ATR, BBANDS, STOCH, MACD, WILLR, ADX, STDDEV, ROC) with several parameter sets on both
embedded samples (`src/market/samples/goog_daily.csv`, `eurusd_hourly.csv`), with TA-Lib 0.6.8
(C library 0.6.4) and its default settings (unstable period 0, matype 0).

One CSV per (sample, indicator, parameter set):
    line 1: `# sample=<name> indicator=<evoflow name> <param>=<value> ...`
    line 2: `row,<outputs in TA-Lib order>`
    then one line per stored row: the bar index and each output as Python's repr (shortest
    round-trip decimal), an empty cell where TA-Lib gives NaN.
To keep the fixtures small, the rows stored are the first FULL_ROWS bars (all look-back/NaN
boundaries and seeds) and every STRIDE-th bar after them.

Run from the repository root: python3 scripts/talib_fixtures.py
"""

import csv
import math
import os

import numpy as np
import talib

SAMPLES = {
    "goog-1d": "src/market/samples/goog_daily.csv",
    "eurusd-1h": "src/market/samples/eurusd_hourly.csv",
}
OUT_DIR = "tests/fixtures/talib"
FULL_ROWS = 300
STRIDE = 3

# (evoflow name, TA-Lib function, inputs, parameter sets, output names in TA-Lib order)
CASES = [
    ("sma", talib.SMA, "c", [{"timeperiod": 5}, {"timeperiod": 30}], ["sma"]),
    ("ema", talib.EMA, "c", [{"timeperiod": 5}, {"timeperiod": 30}], ["ema"]),
    ("wma", talib.WMA, "c", [{"timeperiod": 5}, {"timeperiod": 30}], ["wma"]),
    ("rsi", talib.RSI, "c", [{"timeperiod": 14}, {"timeperiod": 2}], ["rsi"]),
    ("trange", talib.TRANGE, "hlc", [{}], ["trange"]),
    ("atr", talib.ATR, "hlc", [{"timeperiod": 14}, {"timeperiod": 3}, {"timeperiod": 1}], ["atr"]),
    (
        "bbands",
        talib.BBANDS,
        "c",
        [
            {"timeperiod": 5, "nbdevup": 2.0, "nbdevdn": 2.0},
            {"timeperiod": 20, "nbdevup": 2.5, "nbdevdn": 1.5},
        ],
        ["upperband", "middleband", "lowerband"],
    ),
    (
        "stoch",
        talib.STOCH,
        "hlc",
        [
            {"fastk_period": 5, "slowk_period": 3, "slowd_period": 3},
            {"fastk_period": 14, "slowk_period": 1, "slowd_period": 4},
        ],
        ["slowk", "slowd"],
    ),
    (
        "macd",
        talib.MACD,
        "c",
        [
            {"fastperiod": 12, "slowperiod": 26, "signalperiod": 9},
            {"fastperiod": 5, "slowperiod": 35, "signalperiod": 2},
            {"fastperiod": 26, "slowperiod": 12, "signalperiod": 9},
        ],
        ["macd", "macdsignal", "macdhist"],
    ),
    ("willr", talib.WILLR, "hlc", [{"timeperiod": 14}, {"timeperiod": 3}], ["willr"]),
    ("adx", talib.ADX, "hlc", [{"timeperiod": 14}, {"timeperiod": 3}], ["adx"]),
    ("stddev", talib.STDDEV, "c", [{"timeperiod": 5}, {"timeperiod": 20}], ["stddev"]),
    ("roc", talib.ROC, "c", [{"timeperiod": 10}, {"timeperiod": 1}], ["roc"]),
]


def load(path):
    """Reads high, low, close as exactly-rounded doubles (Python's float(), like Rust's parse)."""
    high, low, close = [], [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            high.append(float(row["high"]))
            low.append(float(row["low"]))
            close.append(float(row["close"]))
    return {k: np.array(v, dtype=np.float64) for k, v in (("h", high), ("l", low), ("c", close))}


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for old in os.listdir(OUT_DIR):
        if old.endswith(".csv"):
            os.remove(os.path.join(OUT_DIR, old))
    for sample, path in SAMPLES.items():
        data = load(path)
        n = len(data["c"])
        rows = list(range(min(FULL_ROWS, n))) + list(range(FULL_ROWS, n, STRIDE))
        for name, func, inputs, param_sets, outputs in CASES:
            for params in param_sets:
                result = func(*[data[k] for k in inputs], **params)
                series = list(result) if isinstance(result, tuple) else [result]
                assert len(series) == len(outputs)
                tag = "_".join(f"{k}{v:g}" for k, v in params.items()) or "default"
                file = os.path.join(OUT_DIR, f"{sample}__{name}__{tag}.csv")
                with open(file, "w") as f:
                    head = " ".join([f"sample={sample}", f"indicator={name}"] + [f"{k}={v!r}" for k, v in params.items()])
                    f.write(f"# {head}\n")
                    f.write(",".join(["row"] + outputs) + "\n")
                    for i in rows:
                        cells = ["" if math.isnan(s[i]) else repr(float(s[i])) for s in series]
                        f.write(",".join([str(i)] + cells) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR))
    print(f"wrote {len(os.listdir(OUT_DIR))} files, {total} bytes to {OUT_DIR}")


if __name__ == "__main__":
    main()
