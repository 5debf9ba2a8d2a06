"""Lesson 07's ratio metrics: click-through per impression under user randomisation, by the delta method (eq. 07.16)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from course_lib.abtest.inference import ABResult, _check_alpha, _groups
from course_lib.validate import integer, number, number_array


def _float(x):
    """0-d results become floats, so one experiment gives plain numbers."""
    return float(x) if np.ndim(x) == 0 else np.asarray(x)


def _proportion(name: str, p) -> np.ndarray:
    return number_array(name, p, low=0, high=1, low_open=True, high_open=True)


def delta_method_ratio(num_t, den_t, num_c, den_c, alpha: float = 0.05) -> ABResult:
    """Difference of two ratio metrics R = sum(num) / sum(den) (clicks per impression) under user randomisation.

    The unit of randomisation is the user, so each user's (num_i, den_i) pair is one observation and the
    delta method gives Var(R) ~ [Var(num) - 2 R Cov(num, den) + R^2 Var(den)] / (n mean(den)^2) (eq. 07.16;
    Deng, Knoblich and Lu, KDD 2018).  Normal interval.  Arrays hold one entry per user on the last axis,
    with leading axes for runs.
    """
    alpha = _check_alpha(alpha)
    parts = []
    for arm, num, den in (("treatment", num_t, den_t), ("control", num_c, den_c)):
        num, den = _groups(num, den)
        if num.shape != den.shape:
            raise ValueError(f"{arm}: num and den need one entry per user each, got shapes {num.shape} and {den.shape}")
        if np.any(den < 0) or np.any(den.sum(axis=-1) <= 0):
            raise ValueError(f"{arm}: the denominators (impressions) must be >= 0 with a positive total")
        n = num.shape[-1]
        m_num, m_den = num.mean(axis=-1), den.mean(axis=-1)
        ratio = m_num / m_den
        cov = ((num - m_num[..., None]) * (den - m_den[..., None])).sum(axis=-1) / (n - 1)
        var = (num.var(axis=-1, ddof=1) - 2 * ratio * cov + ratio**2 * den.var(axis=-1, ddof=1)) / (n * m_den**2)
        parts.append((ratio, var))
    (r_t, v_t), (r_c, v_c) = parts
    est, se = r_t - r_c, np.sqrt(v_t + v_c)
    z = stats.norm.isf(alpha / 2)
    stat = np.divide(est, se, out=np.zeros(np.shape(est)), where=se > 0)
    return ABResult(_float(est), _float(se), _float(est - z * se), _float(est + z * se),
                    _float(2 * stats.norm.sf(np.abs(stat))), _float(stat))


def simulate_ratio_metric(n_runs: int, n_users: int, rel_lift: float, rng: np.random.Generator,
                          base_ctr: float = 0.05, mean_impressions: float = 10.0,
                          concentration: float = 10.0) -> tuple[np.ndarray, ...]:
    """Clicks and impressions per user in a user-randomised test: (clicks_t, imps_t, clicks_c, imps_c), each (n_runs, n_users).

    Impressions are 1 + geometric (mean ``mean_impressions``); each user has their own click-through rate,
    Beta with mean ``base_ctr`` and a + b = ``concentration`` (small: users differ a lot), times 1 + rel_lift
    in the treatment arm, so the true per-impression lift is base_ctr * rel_lift.
    """
    n_runs, n_users = integer("n_runs", n_runs, low=1), integer("n_users", n_users, low=2)
    base_ctr = float(_proportion("base_ctr", base_ctr))
    number("mean_impressions", mean_impressions, low=1)
    number("concentration", concentration, low=0, low_open=True)
    out = []
    for lift in (1 + rel_lift, 1.0):
        imps = rng.geometric(1 / mean_impressions, (n_runs, n_users)).astype(float)
        ctr = rng.beta(concentration * base_ctr, concentration * (1 - base_ctr), (n_runs, n_users)) * lift
        out += [rng.binomial(imps.astype(int), np.clip(ctr, 0, 1)).astype(float), imps]
    return tuple(out)
