"""Lesson 07's staged market rollouts: difference-in-differences over several markets with a market-level standard
error (eq. 07.15) and an exact placebo (permutation) test."""

from __future__ import annotations

import numpy as np
from scipy import stats

from course_lib.abtest.inference import ABResult, _check_alpha
from course_lib.abtest.ratio import _float
from course_lib.validate import integer, number


def simulate_markets(n_runs: int, n_markets: int, n_treated: int, n_weeks: int, launch_week: int, effect: float,
                     rng: np.random.Generator, trend_gap: float = 0.0, rho: float = 0.7,
                     noise_sd: float = 0.3) -> np.ndarray:
    """Weekly metric of ``n_markets`` markets, the first ``n_treated`` launching at ``launch_week``: (n_runs, markets, weeks).

    Markets share a seasonal pattern, differ in level (sd 1) and carry AR(1) noise (``rho``: serial correlation);
    ``trend_gap`` adds a treated-only linear trend per week, which breaks parallel trends.
    """
    n_runs, n_markets = integer("n_runs", n_runs, low=1), integer("n_markets", n_markets, low=2)
    n_treated = integer("n_treated", n_treated, low=1, high=n_markets - 1)
    n_weeks = integer("n_weeks", n_weeks, low=2)
    launch_week = integer("launch_week", launch_week, low=1, high=n_weeks - 1)
    rho = number("rho", rho, low=0, high=1, high_open=True)
    w = np.arange(n_weeks)
    season = 10 + 0.05 * w + 0.8 * np.sin(2 * np.pi * w / 13)
    level = rng.standard_normal((n_runs, n_markets, 1))
    shocks = noise_sd * rng.standard_normal((n_runs, n_markets, n_weeks))
    shocks[..., 0] /= np.sqrt(1 - rho**2)                      # start in the stationary distribution
    noise = np.empty_like(shocks)
    noise[..., 0] = shocks[..., 0]
    for k in range(1, n_weeks):
        noise[..., k] = rho * noise[..., k - 1] + shocks[..., k]
    treated = np.arange(n_markets) < n_treated
    return season + level + noise + treated[:, None] * (effect * (w >= launch_week) + trend_gap * w)


def did_markets(y, treated, launch_week: int, alpha: float = 0.05) -> ABResult:
    """Difference-in-differences over several markets (eq. 07.15) with a market-level standard error.

    Each market's change d_m = mean(post) - mean(pre) is one observation (this absorbs serial correlation
    within a market); the estimate is mean d over treated minus mean d over control markets, with Welch's
    t-test on the d's.  y: (..., markets, weeks); treated: (markets,) booleans.
    """
    y = np.asarray(y, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    if y.ndim < 2 or treated.shape != y.shape[-2:-1]:
        raise ValueError(f"need y (..., markets, weeks) and treated (markets,), got {y.shape} and {treated.shape}")
    launch_week = integer("launch_week", launch_week, low=1, high=y.shape[-1] - 1)
    if treated.sum() < 2 or (~treated).sum() < 2:
        raise ValueError("need at least 2 treated and 2 control markets for a standard error; "
                         "with one of each use a placebo (permutation) test")
    d = y[..., launch_week:].mean(axis=-1) - y[..., :launch_week].mean(axis=-1)
    res = stats.ttest_ind(d[..., treated], d[..., ~treated], axis=-1, equal_var=False)
    ci = res.confidence_interval(1 - _check_alpha(alpha))
    est = d[..., treated].mean(axis=-1) - d[..., ~treated].mean(axis=-1)
    se = np.sqrt(d[..., treated].var(axis=-1, ddof=1) / treated.sum() + d[..., ~treated].var(axis=-1, ddof=1) / (~treated).sum())
    return ABResult(_float(est), _float(se), _float(ci.low), _float(ci.high), _float(res.pvalue), _float(res.statistic))


def did_permutation_pvalue(y, treated, launch_week: int) -> float | np.ndarray:
    """Placebo (randomisation-inference) p-value of the market DiD: the share of all ways to label
    ``sum(treated)`` markets as treated whose DiD is at least as large in absolute value as the real one.

    Exact when the launch markets were chosen at random; y: (..., markets, weeks).
    """
    from itertools import combinations

    y = np.asarray(y, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    if y.ndim < 2 or treated.shape != y.shape[-2:-1]:
        raise ValueError(f"need y (..., markets, weeks) and treated (markets,), got {y.shape} and {treated.shape}")
    launch_week = integer("launch_week", launch_week, low=1, high=y.shape[-1] - 1)
    n_m, n_t = treated.size, int(treated.sum())
    if not 0 < n_t < n_m:
        raise ValueError("need at least one treated and one control market")
    combos = np.array(list(combinations(range(n_m), n_t)))
    labels = np.zeros((len(combos), n_m))
    labels[np.arange(len(combos))[:, None], combos] = 1.0
    d = y[..., launch_week:].mean(axis=-1) - y[..., :launch_week].mean(axis=-1)   # (..., markets)
    placebo = d @ (labels / n_t - (1 - labels) / (n_m - n_t)).T                    # (..., combos)
    real = d @ (treated / n_t - (~treated) / (n_m - n_t))
    return _float((np.abs(placebo) >= np.abs(real)[..., None] - 1e-12).mean(axis=-1))
