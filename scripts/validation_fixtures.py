#!/usr/bin/env python3
"""Writes tests/fixtures/validation/sharpe_stats.json: PSR and DSR (Bailey and Lopez de Prado, 2014)
computed independently with numpy/scipy, for tests/validation_sharpe_stats.rs.

Estimators (the same as src/validation/sharpe_stats.rs):
  sr_per_period = mean / std(ddof=1)             (not annualised)
  skew          = scipy.stats.skew(r, bias=True)  (m3 / m2^1.5)
  kurtosis      = scipy.stats.kurtosis(r, fisher=False, bias=True)  (m4 / m2^2, non-excess)
  E[max SR]     = sqrt(V) * ((1 - g) * ppf(1 - 1/N) + g * ppf(1 - 1/(N e))), g = Euler-Mascheroni, 0 for N = 1
  PSR(SR*)      = cdf((SR - SR*) * sqrt(T - 1) / sqrt(1 - skew*SR + (kurt - 1)/4 * SR^2))
  DSR           = PSR(E[max SR])
Usage: pip install numpy scipy && python3 scripts/validation_fixtures.py
"""
import json
import math
import pathlib

import numpy as np
from scipy import stats

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/validation/sharpe_stats.json"


def expected_max(n, v):
    if n == 1:
        return 0.0
    g = float(np.euler_gamma)
    return math.sqrt(v) * ((1 - g) * stats.norm.ppf(1 - 1 / n) + g * stats.norm.ppf(1 - 1 / (n * math.e)))


def psr(sr, t, skew, kurt, bench):
    return float(stats.norm.cdf((sr - bench) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr * sr)))


def case(name, returns, n_trials, sr_variance):
    r = np.asarray(returns, dtype=float)
    sr = float(r.mean() / r.std(ddof=1))
    skew = float(stats.skew(r, bias=True))
    kurt = float(stats.kurtosis(r, fisher=False, bias=True))
    e = float(expected_max(n_trials, sr_variance))
    return {
        "name": name,
        "returns": [float(x) for x in r],
        "n_trials": n_trials,
        "sr_variance": sr_variance,
        "sr_per_period": sr,
        "n_obs": int(len(r)),
        "skew": skew,
        "kurtosis": kurt,
        "expected_max_sr": e,
        "psr": psr(sr, len(r), skew, kurt, 0.0),
        "dsr": psr(sr, len(r), skew, kurt, e),
    }


def main():
    rng = np.random.default_rng(19)
    cases = [
        case("normal_edge_250", rng.normal(0.001, 0.01, 250), 100, 0.002),
        case("normal_noise_500", rng.normal(0.0, 0.02, 500), 1000, 0.001),
        case("student_t3_300", 0.0005 + 0.01 * rng.standard_t(3, 300), 50, 0.004),
        case("skewed_lognormal_200", rng.lognormal(0.0, 0.5, 200) - 1.05, 10, 0.01),
        case("strong_edge_1000", rng.normal(0.002, 0.01, 1000), 5000, 0.0005),
        case("single_trial_120", rng.normal(0.0005, 0.01, 120), 1, 0.003),
        case("two_trials_60", rng.laplace(0.001, 0.01, 60), 2, 0.02),
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"generator": "scripts/validation_fixtures.py", "numpy": np.__version__,
                               "scipy": __import__("scipy").__version__, "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
