#!/usr/bin/env python3
"""Writes tests/fixtures/validation/pbo.json: the Probability of Backtest Overfitting by CSCV
(Bailey, Borwein, Lopez de Prado and Zhu, 2015) computed independently with numpy, for
tests/validation_pbo.rs. (numpy only; the PSR/DSR fixtures are scripts/validation_fixtures.py.)

Definitions (the same as src/validation/pbo.rs):
  rows cut into S blocks, block s = rows [s*T//S, (s+1)*T//S)
  for every choice of S/2 in-sample blocks (itertools.combinations), the rest out-of-sample:
    performance = mean / std(ddof=1) of the strategy's returns on that side (0 when std is 0)
    n* = argmax in-sample (first on ties)
    rank = #(oos < oos[n*]) + (#(oos == oos[n*]) + 1) / 2   (average rank, 1 = worst)
    w = rank / (N + 1), logit = ln(w / (1 - w))
  PBO = share of logits <= 0
Usage: pip install numpy && python3 scripts/pbo_fixtures.py
"""
import itertools
import json
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/validation/pbo.json"


def sharpe(x):
    sd = x.std(ddof=1)
    return float(x.mean() / sd) if sd > 0 else 0.0


def cscv(m, s):
    t, n = m.shape
    blocks = [np.arange(k * t // s, (k + 1) * t // s) for k in range(s)]
    logits = []
    for chosen in itertools.combinations(range(s), s // 2):
        rest = [k for k in range(s) if k not in chosen]
        is_rows = np.concatenate([blocks[k] for k in chosen])
        oos_rows = np.concatenate([blocks[k] for k in rest])
        is_perf = np.array([sharpe(m[is_rows, j]) for j in range(n)])
        oos_perf = np.array([sharpe(m[oos_rows, j]) for j in range(n)])
        best = int(np.argmax(is_perf))
        x = oos_perf[best]
        rank = (oos_perf < x).sum() + ((oos_perf == x).sum() + 1) / 2
        w = rank / (n + 1)
        logits.append(float(np.log(w / (1 - w))))
    logits = np.array(logits)
    return logits, float((logits <= 0).mean())


def case(name, seed, t, n, s, edge):
    rng = np.random.default_rng(seed)
    m = np.round(rng.normal(0.0, 0.01, size=(t, n)), 6)
    m[:, 0] += edge
    logits, pbo = cscv(m, s)
    return {
        "name": name,
        "blocks": s,
        "returns": [[float(v) for v in m[:, j]] for j in range(n)],
        # Every logit where there are few combinations (the summary figures check the rest).
        "logits_sorted": sorted(float(v) for v in logits) if len(logits) <= 100 else None,
        "combinations": len(logits),
        "pbo": pbo,
        "logit_mean": float(logits.mean()),
        "logit_median": float(np.quantile(logits, 0.5)),
        "logit_q05": float(np.quantile(logits, 0.05)),
        "logit_q95": float(np.quantile(logits, 0.95)),
    }


def main():
    cases = [
        case("noise", 1, 160, 10, 8, 0.0),
        case("one_edge", 2, 160, 10, 8, 0.004),
        case("uneven_blocks", 3, 125, 7, 6, 0.001),
        case("sixteen_blocks", 4, 64, 5, 16, 0.0),
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"generator": "scripts/pbo_fixtures.py", "numpy": np.__version__, "cases": cases}) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
