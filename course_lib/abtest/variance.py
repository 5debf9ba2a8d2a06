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


def choose_covariate(y, treated, candidates: dict, measured: dict) -> str:
    """The CUPED covariate that cuts the variance most: the pre-period candidate with the largest rho^2.

    y: this period's metric per user; treated: boolean assignment per user; candidates: name -> one value
    per user; measured: name -> ``"before"`` or ``"during"`` the experiment.  A metric measured during the
    test can move with the treatment, so adjusting on it removes part of the effect: only ``"before"``
    candidates qualify.  The variance falls to var(Y)(1 - rho^2) (section 5), so the sign of the correlation
    and the candidate's units do not matter, and neither does its correlation with the assignment (a chance
    imbalance, not a source of variance reduction).  rho is estimated within the arms, pooled, so that the
    treatment effect itself does not count as explained variance.
    """
    y, treated = np.asarray(y, float), np.asarray(treated, bool)
    if y.ndim != 1 or treated.shape != y.shape:
        raise ValueError(f"y and treated must be 1-d arrays of one value per user, got shapes {y.shape} and {treated.shape}")
    if set(candidates) != set(measured):
        raise ValueError("measured must say 'before' or 'during' for every candidate, and name no other")
    bad = {k: v for k, v in measured.items() if v not in ("before", "during")}
    if bad:
        raise ValueError(f"measured values must be 'before' or 'during', got {bad}")
    before = [k for k in candidates if measured[k] == "before"]
    if not before:
        raise ValueError("no candidate was measured before the experiment; CUPED needs a pre-period covariate")

    def within(v):
        v = np.asarray(v, float)
        if v.shape != y.shape:
            raise ValueError(f"every candidate needs one value per user, shape {y.shape}, got {v.shape}")
        return np.where(treated, v - v[treated].mean(), v - v[~treated].mean())

    yw = within(y)
    r2 = {}
    for k in before:
        xw = within(candidates[k])
        r2[k] = float(np.mean(xw * yw) ** 2 / (np.mean(xw**2) * np.mean(yw**2))) if np.any(xw) else 0.0
    return max(before, key=r2.__getitem__)


def simulate_covariate_candidates(n_runs: int, n_users: int, effect: float, rng: np.random.Generator,
                                  leak: float = 0.3) -> tuple[np.ndarray, np.ndarray, dict, dict]:
    """Watch time with four candidate CUPED covariates, ``n_runs`` experiments of ``n_users`` users (half treated).

    Each user has an engagement level e ~ Gamma(2, 5); this period's watch time is Y = 0.8 e + Gamma(2, 2) + effect T.
    Candidates: last month's watch time (the same process before the test, rho about 0.8), days since the last
    visit (rho about -0.6), account age in days (rho about 0.2, large units) and sessions during the test, which
    the treatment raises by ``leak`` per user (rho about 0.85: a leak).  Returns ``(y, treated, candidates,
    measured)``; y and each candidate have shape (n_runs, n_users), treated (n_users,).
    """
    n_runs = integer("n_runs", n_runs)
    n_users = integer("n_users", n_users, low=4)
    shape = (n_runs, n_users)
    treated = np.arange(n_users) < n_users // 2
    e = rng.gamma(2.0, 5.0, shape)
    y = 0.8 * e + rng.gamma(2.0, 2.0, shape) + effect * treated
    candidates = {
        "watch_time_last_month": 0.8 * e + rng.gamma(2.0, 2.0, shape),
        "days_since_last_visit": np.maximum(14.0 - 0.6 * e + rng.normal(0.0, 4.0, shape), 0.0),
        "account_age_days": 400.0 + 10.0 * e + rng.normal(0.0, 300.0, shape),
        "sessions_during_test": 0.5 * e + leak * treated + rng.normal(0.0, 1.0, shape),
    }
    measured = {"watch_time_last_month": "before", "days_since_last_visit": "before",
                "account_age_days": "before", "sessions_during_test": "during"}
    return y, treated, candidates, measured
