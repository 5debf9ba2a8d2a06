"""Lesson 08: canary rollout: a new model version serves a share of traffic and is promoted or rolled back.

Requests are split by a hash of the user id: a share ``s`` of users gets the candidate, the rest the
current version (control).  After every ``n / L`` requests (look k of L, information ``t_k = k / L``)
the cumulative click rates are compared with lesson 07's pooled two-proportion z statistic
(eq. 07.3, ``course_lib.abtest.two_proportion_z``) against the two-sided group-sequential
O'Brien-Fleming boundary ``c_k`` (eq. 07.7, ``course_lib.abtest.sequential.group_sequential_bounds``):

    (CN)   z_k >= c_k: promote the candidate;   z_k <= -c_k: roll it back;
           no crossing by look L: roll back (the candidate was not shown to be better).

The overall false-promotion rate of a candidate no better than control is then at most ``alpha / 2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.abtest.inference import two_proportion_z
from course_lib.abtest.sequential import group_sequential_bounds
from course_lib.validate import integer, number

__all__ = ["CanaryResult", "canary_users", "run_canary"]


def canary_users(users, share: float) -> np.ndarray:
    """Whether each user is served the candidate: a multiplicative hash of the id (not the holdout's) below ``share``."""
    u = np.asarray(users, dtype=np.uint64)
    h = (u * np.uint64(2246822519) + np.uint64(374761393)) % np.uint64(2**32)
    return h.astype(float) / 2**32 < share


@dataclass
class CanaryResult:
    """Per run: ``decision`` (+1 promoted, -1 rolled back at a boundary, 0 rolled back at the end), the look
    it was taken at (1-based), the z statistic per look ``(runs, L)`` (NaN after the decision), the
    boundaries ``(L,)`` and the click rates of both groups at the decision."""

    decision: np.ndarray
    look: np.ndarray
    z: np.ndarray
    bounds: np.ndarray
    ctr_candidate: np.ndarray
    ctr_control: np.ndarray
    n_candidate: np.ndarray

    @property
    def promoted(self) -> np.ndarray:
        return self.decision == 1


def run_canary(p_control, p_candidate, users, share: float = 0.1, n_looks: int = 10, alpha: float = 0.05,
               n_runs: int = 1, seed: int = 0) -> CanaryResult:
    """Equation CN on a stream of requests, ``n_runs`` independent click draws at once.

    ``p_control[i]``, ``p_candidate[i]``: the click probability of request ``i`` when served by each
    version (what each would show that user, under the true click model); ``users[i]`` its user.
    """
    pc, pt = np.asarray(p_control, float), np.asarray(p_candidate, float)
    n = len(pc)
    if pt.shape != (n,) or np.shape(users) != (n,):
        raise ValueError(f"p_control, p_candidate and users must have the same length, got {n}, "
                         f"{pt.shape} and {np.shape(users)}")
    share = number("share", share, low=0, high=1, low_open=True, high_open=True)
    L = integer("n_looks", n_looks, low=1, high=n)
    runs = integer("n_runs", n_runs, low=1)
    rng = np.random.default_rng(seed)
    cand = canary_users(users, share)
    p = np.where(cand, pt, pc)
    clicks = rng.random((runs, n)) < p
    ends = np.linspace(0, n, L + 1).astype(int)[1:]
    cum_t = np.cumsum(clicks & cand, axis=1)[:, ends - 1]
    cum_c = np.cumsum(clicks & ~cand, axis=1)[:, ends - 1]
    n_t, n_c = np.cumsum(cand)[ends - 1], np.cumsum(~cand)[ends - 1]
    z = two_proportion_z(cum_t, n_t, cum_c, n_c)
    c = group_sequential_bounds(np.arange(1, L + 1) / L, alpha=alpha) if L > 1 else np.array([0.0])
    if L == 1:
        from scipy import stats
        c = np.array([stats.norm.isf(alpha / 2)])
    cross = np.abs(z) >= c
    any_cross = cross.any(axis=1)
    first = np.where(any_cross, cross.argmax(axis=1), L - 1)
    rows = np.arange(runs)
    decision = np.where(any_cross, np.sign(z[rows, first]), 0).astype(int)
    z = np.where(np.arange(L)[None] <= first[:, None], z, np.nan)
    nt, nc = n_t[first], n_c[first]
    return CanaryResult(decision, first + 1, z, c, cum_t[rows, first] / np.maximum(nt, 1),
                        cum_c[rows, first] / np.maximum(nc, 1), nt)
