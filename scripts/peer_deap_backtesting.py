#!/usr/bin/env python3
"""The peer of `evoflow evolve` for the speed comparison: DEAP 1.4 + backtesting.py 0.6.6.

A plain DEAP generational GA (tournament selection of 3, uniform crossover 0.5, Gaussian
mutation of 15 % of each gene's range, elitism through a hall of fame of 2) evolving the
genes of an EMA-crossover strategy (evoflow's `ema_crossover` seed: fast/slow EMA gap with a
slope filter, long/short `signal_strength`), scored by the Sharpe ratio of a
`backtesting.FractionalBacktest` on the training 70 % of goog daily (the first 1,503 of
2,148 bars), commission 0.045 %, evaluated by a `multiprocessing.Pool(2)` (`toolbox.map`).
Indicators are registered with `Strategy.I`, the way backtesting.py's users write them.

It prints the evaluations per second over the whole run (backtests run / wall time), which
is what `evoflow evolve` reports as evals/s. Deterministic for a given --seed.

Usage: python3 scripts/peer_deap_backtesting.py [--population 96] [--generations 3]
       [--processes 2] [--data src/market/samples/goog_daily.csv]
"""
import argparse
import multiprocessing
import os
import random
import time
import warnings

import numpy as np
import pandas as pd
from backtesting import Strategy
from backtesting.lib import FractionalBacktest
from deap import base, creator, tools

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (name, low, high, integer): evoflow's ema_crossover genes.
GENES = [
    ("fast_ema_period", 5, 15, True),
    ("slow_ema_period", 18, 34, True),
    ("momentum_threshold", 0.001, 0.05, False),
    ("signal_strength", 0.1, 1.0, False),
    ("trend_filter", 0.0, 0.02, False),
]

DATA = None  # the training bars, loaded once per worker process


def load(path):
    df = pd.read_csv(path)
    index = pd.to_datetime(df.pop("timestamp"), utc=True).dt.tz_localize(None)
    df.index = pd.DatetimeIndex(index)
    df.columns = ["Open", "High", "Low", "Close", "Volume"]
    return df.iloc[: int(len(df) * 0.7)]


def ema(values, period):
    """TA-Lib's EMA: seeded with the SMA of the first `period` values."""
    values = np.asarray(values, dtype=float)
    out = np.full(len(values), np.nan)
    if len(values) < period:
        return out
    k = 2.0 / (period + 1)
    out[period - 1] = values[:period].mean()
    for i in range(period, len(values)):
        out[i] = out[i - 1] + k * (values[i] - out[i - 1])
    return out


class EmaCrossover(Strategy):
    fast_ema_period = 12
    slow_ema_period = 26
    momentum_threshold = 0.01
    signal_strength = 0.5
    trend_filter = 0.005

    def init(self):
        self.fast = self.I(ema, self.data.Close, int(self.fast_ema_period))
        self.slow = self.I(ema, self.data.Close, int(self.slow_ema_period))

    def next(self):
        p = int(self.slow_ema_period)
        if len(self.data) <= p:
            return
        f, s, s_then = self.fast[-1], self.slow[-1], self.slow[-1 - p]
        if not (np.isfinite(f) and np.isfinite(s) and np.isfinite(s_then)) or s <= 0 or s_then <= 0:
            target = 0.0
        else:
            gap, slope = (f - s) / s, s / s_then - 1
            m, t = self.momentum_threshold, self.trend_filter
            target = (self.signal_strength if gap > m and slope > t
                      else -self.signal_strength if gap < -m and slope < -t else 0.0)
        current = np.sign(self.position.size)
        if target == 0 and self.position:
            self.position.close()
        elif target > 0 and current <= 0:
            self.position.close()
            self.buy(size=min(target, 0.9999))  # backtesting.py reads a size >= 1 as units
        elif target < 0 and current >= 0:
            self.position.close()
            self.sell(size=min(-target, 0.9999))


def init_worker(path):
    global DATA
    DATA = load(path)
    warnings.simplefilter("ignore")


def evaluate(individual):
    params = {name: (round(v) if integer else v) for (name, _, _, integer), v in zip(GENES, individual)}
    bt = FractionalBacktest(DATA, EmaCrossover, cash=10_000, commission=0.00045, fractional_unit=1e-8)
    sharpe = bt.run(**params)["Sharpe Ratio"]
    return (float(sharpe) if np.isfinite(sharpe) else -10.0,)


def clamp(individual):
    for k, (_, lo, hi, integer) in enumerate(GENES):
        v = min(max(individual[k], lo), hi)
        individual[k] = float(round(v)) if integer else v
    return individual


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--population", type=int, default=96)
    ap.add_argument("--generations", type=int, default=3)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--data", default=os.path.join(ROOT, "src", "market", "samples", "goog_daily.csv"))
    args = ap.parse_args()
    random.seed(args.seed)

    creator.create("FitnessMax", base.Fitness, weights=(1.0,))
    creator.create("Individual", list, fitness=creator.FitnessMax)
    tb = base.Toolbox()
    tb.register("individual", lambda: clamp(creator.Individual(random.uniform(lo, hi) for _, lo, hi, _ in GENES)))
    tb.register("population", tools.initRepeat, list, tb.individual)
    tb.register("mate", tools.cxUniform, indpb=0.5)
    sigmas = [0.15 * (hi - lo) for _, lo, hi, _ in GENES]
    tb.register("mutate", tools.mutGaussian, mu=0.0, sigma=sigmas, indpb=0.3)
    tb.register("select", tools.selTournament, tournsize=3)

    with multiprocessing.Pool(args.processes, initializer=init_worker, initargs=(args.data,)) as pool:
        tb.register("map", pool.map)
        start = time.perf_counter()
        evaluations = 0
        pop = tb.population(n=args.population)
        hall = tools.HallOfFame(2)
        for gen in range(args.generations):
            fresh = [ind for ind in pop if not ind.fitness.valid]
            for ind, fit in zip(fresh, tb.map(evaluate, fresh)):
                ind.fitness.values = fit
            evaluations += len(fresh)
            hall.update(pop)
            if gen + 1 == args.generations:
                break
            offspring = [tb.clone(i) for i in tb.select(pop, len(pop) - len(hall))]
            for a, b in zip(offspring[::2], offspring[1::2]):
                if random.random() < 0.7:
                    tb.mate(a, b)
                    del a.fitness.values, b.fitness.values
            for ind in offspring:
                if random.random() < 0.3:
                    tb.mutate(ind)
                    clamp(ind)
                    del ind.fitness.values
            pop = offspring + [tb.clone(h) for h in hall]
        elapsed = time.perf_counter() - start
    print(f"DEAP + backtesting.py, {args.processes} processes: {evaluations} evaluations in {elapsed:.1f} s "
          f"= {evaluations / elapsed:.1f} evaluations/s (best Sharpe {hall[0].fitness.values[0]:.3f})")


if __name__ == "__main__":
    main()
