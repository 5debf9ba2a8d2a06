"""Lesson 02's theory: Bernoulli KL, UCB1's regret bound (Auer et al. 2002), the Lai-Robbins lower bound, recovery after a change."""

from __future__ import annotations

import math

import numpy as np

from course_lib.bandits.simulate import BanditRun
from course_lib.numerics import recovery_time as _recovery_time
from course_lib.validate import integer, number


def bernoulli_kl(p: np.ndarray | float, q: np.ndarray | float) -> np.ndarray:
    """KL(Bernoulli(p) || Bernoulli(q)), elementwise; p, q clipped to [1e-12, 1 - 1e-12]."""
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    q = np.clip(np.asarray(q, dtype=float), 1e-12, 1 - 1e-12)
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def _gaps(means) -> np.ndarray:
    m = np.asarray(means, dtype=float)
    if m.ndim != 1 or m.size < 1:
        raise ValueError(f"means must be a non-empty (K,) vector, got shape {m.shape}")
    return m.max() - m


def ucb1_regret_bound(means, t: np.ndarray | float) -> np.ndarray:
    """Auer et al. (2002) Theorem 1: E[R_t] <= 8 sum_{i: D_i > 0} ln t / D_i + (1 + pi^2/3) sum_i D_i.

    Holds for UCB1 with c = sqrt(2) and rewards in [0, 1]; ``t`` may be an array of horizons.
    """
    d = _gaps(means)
    d = d[d > 0]
    return 8 * np.log(np.asarray(t, dtype=float)) * np.sum(1 / d) + (1 + math.pi**2 / 3) * d.sum()


def lai_robbins_lower_bound(means, t: np.ndarray | float) -> np.ndarray:
    """Lai and Robbins (1985) asymptotic lower bound for Bernoulli arms: ln t sum_i D_i / KL(mu_i, mu*).

    An asymptotic rate (liminf R_t / ln t), not a bound at finite t.
    """
    m = np.asarray(means, dtype=float)
    d = _gaps(m)
    sub = d > 0
    return np.log(np.asarray(t, dtype=float)) * np.sum(d[sub] / bernoulli_kl(m[sub], m.max()))


def recovery_time(run: BanditRun, change_at: int, level: float = 0.5, window: int = 50) -> int | None:
    """Steps after ``change_at`` until the fraction of runs playing the new best arm, averaged
    over a trailing ``window`` of steps, first reaches ``level``; ``None`` if it never does.

    The best-arm rate of ``run``, handed to ``course_lib.numerics.recovery_time`` (the one implementation).
    """
    if not 0 < change_at < run.arms.shape[1]:
        raise ValueError(f"change_at must be inside the horizon (1..{run.arms.shape[1] - 1}), got {change_at}")
    best = int(np.argmax(run.means[change_at]))
    rate = (run.arms[:, change_at:] == best).mean(axis=0)
    steps = int(_recovery_time(rate, 0, level, window, above=True, full_window=False, never=-1))
    return None if steps < 0 else steps


def etc_theory_m(gap: float, horizon: int, sigma: float = 1.0) -> int:
    """Explore-then-commit's pulls per arm for two arms with a KNOWN gap (Lattimore and Szepesvari 2020, eq. 6.5).

    ``m = max(1, ceil(4 sigma^2 / gap^2 * ln(horizon gap^2 / (4 sigma^2))))`` for sigma-sub-Gaussian rewards
    (the book's sigma = 1; clicks in [0, 1] are 1/2-sub-Gaussian).  A reference, not a policy you can run:
    it needs the gap you do not know.
    """
    gap = number("gap", gap, low=0, low_open=True, hint="the difference between the two arms' means")
    horizon = integer("horizon", horizon)
    sigma = number("sigma", sigma, low=0, low_open=True)
    x = horizon * gap**2 / (4 * sigma**2)
    return max(1, math.ceil(4 * sigma**2 / gap**2 * math.log(x))) if x > 1 else 1


def etc_final_regret(means, ms, horizon: int, runs: int, seed: int = 0) -> np.ndarray:
    """Final pseudo-regret of explore-then-commit, (len(ms), runs), sampled from the exploration phase alone.

    With m pulls per arm, ETC's regret is ``m sum_i D_i + (T - m K) D_winner``, the winner the arm with the
    most of its m Bernoulli clicks (ties to the lowest index): one binomial draw per arm and run, no
    step-by-step play.  Same distribution as ``simulate(ExploreThenCommit(...))``, other random numbers.
    """
    m_arr = np.atleast_1d(np.asarray(ms))
    for v in m_arr:
        integer("every m in ms", v)
    means = np.asarray(means, dtype=float)
    d = _gaps(means)
    horizon = integer("horizon", horizon)
    runs = integer("runs", runs)
    rng = np.random.default_rng(integer("seed", seed, low=0))
    m_arr = m_arr.astype(np.int64)
    clicks = rng.binomial(m_arr[:, None, None], means[None, None, :], size=(m_arr.size, runs, means.size))
    winner = np.argmax(clicks, axis=-1)
    explore = np.minimum(m_arr * means.size, horizon)
    # a horizon shorter than the exploration phase: the round robin's first T steps, no commitment
    partial = np.array([d[np.arange(t) % means.size].sum() for t in explore])
    return np.where((m_arr * means.size <= horizon)[:, None],
                    (m_arr * d.sum())[:, None] + (horizon - explore)[:, None] * d[winner],
                    partial[:, None] * np.ones(runs))
