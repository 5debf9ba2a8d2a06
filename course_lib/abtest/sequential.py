"""Lesson 07's peeking and sequential tests: simulated daily clicks, alpha-spending boundaries (Lan and DeMets 1983), mixture SPRT p-values (Johari et al. 2017)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize, stats

from course_lib.abtest.inference import _check_alpha
from course_lib.validate import number, number_array


def simulate_daily_clicks(n_runs: int, n_days: int, users_per_day: int, p_c: float, p_t: float | None = None,
                          rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative clicks of ``n_runs`` experiments looked at once a day; A/A when ``p_t`` is None.

    Each day ``users_per_day // 2`` new users enter each arm.  Returns ``(clicks_t, clicks_c, n)``:
    cumulative clicks, shape (n_runs, n_days), and cumulative users per arm, shape (n_days,).
    """
    if rng is None:
        raise ValueError("pass rng=np.random.default_rng(seed): every simulation takes a seed")
    if min(n_runs, n_days) < 1 or users_per_day < 2:
        raise ValueError("n_runs and n_days must be >= 1 and users_per_day >= 2")
    p_t = p_c if p_t is None else p_t
    for name, p in (("p_c", p_c), ("p_t", p_t)):
        if not 0 < p < 1:
            raise ValueError(f"{name} must be a click probability in (0, 1), got {p}")
    m = users_per_day // 2
    clicks_t = rng.binomial(m, p_t, size=(n_runs, n_days)).cumsum(axis=1)
    clicks_c = rng.binomial(m, p_c, size=(n_runs, n_days)).cumsum(axis=1)
    return clicks_t, clicks_c, m * np.arange(1, n_days + 1)


def first_crossing(stat: np.ndarray, bound) -> np.ndarray:
    """Index of the first look where ``|stat| >= bound`` (bound per look or scalar); -1 where never."""
    hit = np.abs(stat) >= bound
    return np.where(hit.any(axis=-1), hit.argmax(axis=-1), -1)


def obrien_fleming_spending(t, alpha: float = 0.05):
    """Two-sided Lan-DeMets O'Brien-Fleming-type spending (eq. 07.6), total over both sides.

    Each side spends alpha/2 with the one-sided function 2 - 2 Phi(z_{1-alpha/4} / sqrt(t)), the
    convention of the R packages gsDesign and ldbounds, so alpha(t) = 4 - 4 Phi(z_{1-alpha/4} / sqrt(t)).
    """
    alpha = _check_alpha(alpha)
    t = np.asarray(t, float)
    return 4 * stats.norm.sf(stats.norm.isf(alpha / 4) / np.sqrt(t))


def pocock_spending(t, alpha: float = 0.05):
    """Two-sided Lan-DeMets Pocock-type spending: alpha(t) = alpha ln(1 + (e - 1) t)."""
    alpha = _check_alpha(alpha)
    return alpha * np.log1p((np.e - 1) * np.asarray(t, float))


def group_sequential_bounds(info: np.ndarray, alpha: float = 0.05, spending: str | Callable = "obrien-fleming",
                            grid: int = 401) -> np.ndarray:
    """Two-sided z boundaries c_k of a group-sequential test with Lan-DeMets alpha spending.

    Look k rejects when |Z_k| >= c_k; c_k spends alpha(t_k) - alpha(t_{k-1}) of the type-I error
    (eq. 07.7), computed with the Armitage-McPherson-Rowe recursion on the Brownian-motion scale
    B_k = Z_k sqrt(t_k).  info: increasing information fractions t_k in (0, 1] (e.g. days / n_days).
    """
    alpha = _check_alpha(alpha)
    t = np.asarray(info, float)
    if t.ndim != 1 or t.size == 0 or np.any(np.diff(t) <= 0) or t[0] <= 0 or t[-1] > 1 + 1e-12:
        raise ValueError("info must be a non-empty, strictly increasing sequence in (0, 1], e.g. np.arange(1, K+1)/K")
    if spending == "obrien-fleming":
        spent = obrien_fleming_spending(t, alpha)
    elif spending == "pocock":
        spent = pocock_spending(t, alpha)
    elif callable(spending):
        spent = np.asarray(spending(t, alpha), float)
    else:
        raise ValueError(f"spending must be 'obrien-fleming', 'pocock' or a function alpha(t, alpha), got {spending!r}")
    increments = np.diff(np.concatenate([[0.0], spent]))
    bounds = np.empty(t.size)
    bounds[0] = stats.norm.isf(max(increments[0], 1e-300) / 2)
    # density of B_1 on the continuation region |B_1| < c_1 sqrt(t_1)
    half = min(bounds[0], 9.0) * np.sqrt(t[0])
    x = np.linspace(-half, half, grid)
    w = np.full(grid, x[1] - x[0])
    w[[0, -1]] *= 0.5  # trapezoid weights
    dens = stats.norm.pdf(x, scale=np.sqrt(t[0]))
    for k in range(1, t.size):
        sd = np.sqrt(t[k] - t[k - 1])
        mass = w * dens
        sqrt_tk = np.sqrt(t[k])

        def crossing(c: float) -> float:
            upper = stats.norm.sf((c * sqrt_tk - x) / sd)
            lower = stats.norm.cdf((-c * sqrt_tk - x) / sd)
            return float(mass @ (upper + lower))

        target = increments[k]
        if target <= crossing(40.0):
            bounds[k] = np.inf
        else:
            bounds[k] = optimize.brentq(lambda c: crossing(c) - target, 0.0, 40.0, xtol=1e-10)
        half = min(bounds[k], 9.0) * sqrt_tk
        x_new = np.linspace(-half, half, grid)
        dens = stats.norm.pdf((x_new[:, None] - x[None, :]) / sd) @ mass / sd
        x = x_new
        w = np.full(grid, x[1] - x[0])
        w[[0, -1]] *= 0.5
    return bounds


def msprt_pvalues(diff: np.ndarray, n_per_arm: np.ndarray, sigma2, tau2: float) -> np.ndarray:
    """Always-valid p-values of the mixture SPRT with a N(0, tau^2) mixing prior (eq. 07.8).

    Lambda_n = sqrt(V / (V + n tau^2)) exp(n^2 tau^2 d_n^2 / (2 V (V + n tau^2))), V = 2 sigma^2,
    and p_n = min(p_{n-1}, 1 / Lambda_n) (Johari et al., KDD 2017).  Rejecting when p_n <= alpha keeps
    the type-I error at or below alpha however often you look.

    diff: difference in means after n users per arm, shape (..., n_looks); n_per_arm: (n_looks,);
    sigma2: per-user outcome variance, scalar or shaped like ``diff`` (a plug-in estimate).
    """
    number("tau2", tau2, low=0, low_open=True)
    number_array("n_per_arm", n_per_arm, low=0, low_open=True)
    diff = np.asarray(diff, float)
    n = np.asarray(n_per_arm, float)
    v = 2 * np.maximum(np.asarray(sigma2, float), 1e-12)
    log_lam = 0.5 * np.log(v / (v + n * tau2)) + n**2 * tau2 * diff**2 / (2 * v * (v + n * tau2))
    p = np.exp(-np.maximum(log_lam, 0.0))
    return np.minimum.accumulate(p, axis=-1)
