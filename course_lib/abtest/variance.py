"""Lesson 07's variance reduction: CUPED (Deng et al. 2013) and stratification."""

from __future__ import annotations

import numpy as np

from course_lib.validate import integer, number


def cuped_theta(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """CUPED coefficient theta = cov(Y, X) / var(X) along the last axis (eq. 07.10)."""
    y, x = np.asarray(y, float), np.asarray(x, float)
    if y.shape != x.shape:
        raise ValueError(f"y and x must have the same shape (one pre-period value per user), got {y.shape} and {x.shape}")
    if y.shape[-1] < 2:
        raise ValueError("CUPED needs at least 2 users")
    xc = x - x.mean(axis=-1, keepdims=True)
    var_x = (xc**2).mean(axis=-1)
    if np.any(var_x <= 0):
        raise ValueError("the covariate x has zero variance, so it cannot explain any of y's variance; "
                         "pick a pre-period metric that varies across users")
    return (xc * (y - y.mean(axis=-1, keepdims=True))).mean(axis=-1) / var_x


def cuped_adjust(y: np.ndarray, x: np.ndarray, theta=None) -> np.ndarray:
    """CUPED-adjusted metric Y_cv = Y - theta (X - mean(X)) (eq. 07.11; Deng et al., WSDM 2013).

    y, x: outcome and pre-period covariate per user, shape (..., n), pooled over both arms.
    theta defaults to ``cuped_theta(y, x)``.  The mean is unchanged; the variance falls by rho^2.
    """
    y, x = np.asarray(y, float), np.asarray(x, float)
    if theta is None:
        theta = cuped_theta(y, x)
    theta = np.asarray(theta, float)[..., None] if np.ndim(theta) else float(theta)
    return y - theta * (x - x.mean(axis=-1, keepdims=True))


def simulate_cuped(rho: float, n_per_arm: int, n_runs: int, effect: float, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Raw and CUPED difference-in-means estimates of ``n_runs`` experiments, shape (n_runs,) each.

    Pre-period X and outcome Y are standard normal with correlation rho; treatment adds ``effect``.
    """
    rho = number("rho", rho, low=-1, high=1, low_open=True, high_open=True)
    n_per_arm = integer("n_per_arm", n_per_arm, low=2)
    n = 2 * n_per_arm
    x = rng.standard_normal((n_runs, n))
    y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n_runs, n))
    treated = np.arange(n) < n_per_arm
    y = y + effect * treated
    y_cv = cuped_adjust(y, x)
    raw = y[:, treated].mean(axis=1) - y[:, ~treated].mean(axis=1)
    adj = y_cv[:, treated].mean(axis=1) - y_cv[:, ~treated].mean(axis=1)
    return raw, adj


def stratified_diff_in_means(y: np.ndarray, treated: np.ndarray, strata: np.ndarray) -> tuple[float, float]:
    """Post-stratified estimate sum_s w_s (ybar_T,s - ybar_C,s) and its standard error (eq. 07.12).

    w_s is stratum s's share of users; every stratum needs at least 2 users in each arm.
    """
    y, treated, strata = np.asarray(y, float), np.asarray(treated, bool), np.asarray(strata)
    if not (y.shape == treated.shape == strata.shape) or y.ndim != 1:
        raise ValueError("y, treated and strata must be 1-d arrays of the same length")
    est, var = 0.0, 0.0
    for s in np.unique(strata):
        yt, yc = y[(strata == s) & treated], y[(strata == s) & ~treated]
        if len(yt) < 2 or len(yc) < 2:
            raise ValueError(f"stratum {s!r} needs at least 2 users in each arm; merge small strata")
        w = np.mean(strata == s)
        est += w * (yt.mean() - yc.mean())
        var += w**2 * (yt.var(ddof=1) / len(yt) + yc.var(ddof=1) / len(yc))
    return est, float(np.sqrt(var))
