"""Lesson 06 (off-policy evaluation): the exercise checkers, ``check_<exercise>(candidate) -> ExerciseResult``.

Each compares a student's function with the reference implementation, which stays in the algorithm
module; the notebook calls ``checks.check_<exercise>(my_function)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib.ope import dr_value, ips_value, sample_actions, support_check
from course_lib.metrics import ndcg_one
from course_lib.notebook.exercises import ExerciseResult, run_check


def _exercise_log(seed: int = 7, n: int = 400) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = 5
    p0 = rng.dirichlet(np.ones(k), size=n)
    a = sample_actions(p0, np.arange(n), rng)
    pi = rng.dirichlet(np.ones(k), size=n)
    q = rng.uniform(0.05, 0.6, size=(n, k))
    r = (rng.random(n) < q[np.arange(n), a]).astype(float)
    q_hat = np.clip(q + rng.normal(0, 0.1, size=q.shape), 0, 1)
    idx = np.arange(n)
    return dict(rewards=r, propensities=p0[idx, a], target_probs=pi[idx, a],
                q_logged=q_hat[idx, a], q_target=(pi * q_hat).sum(axis=1))


def _close(got, want, what: str, rtol: float = 1e-9) -> None:
    got = float(np.asarray(got))
    assert np.isclose(got, want, rtol=rtol, atol=1e-12), f"{what}: got {got:.6g}, expected {want:.6g}"


def check_ips(candidate: Callable[..., float]) -> ExerciseResult:
    """Exercise: ``candidate(rewards, propensities, target_probs) -> float`` computes the IPS estimate."""

    def check(f):
        _close(f(np.array([1.0, 0.0, 1.0]), np.array([0.5, 0.25, 0.1]), np.array([1.0, 1.0, 0.2])),
               (2.0 + 0.0 + 2.0) / 3, "on rewards [1, 0, 1], propensities [0.5, 0.25, 0.1], target [1, 1, 0.2]")
        d = _exercise_log()
        _close(f(d["rewards"], d["propensities"], d["target_probs"]),
               ips_value(d["rewards"], d["propensities"], d["target_probs"]),
               "on a random log of 400 events (divide by n, not by the sum of weights)")

    return run_check("ips", candidate, ips_value, check)


def check_doubly_robust(candidate: Callable[..., float]) -> ExerciseResult:
    """Exercise: ``candidate(rewards, propensities, target_probs, q_logged, q_target) -> float`` is DR."""

    def check(f):
        r = np.array([1.0, 0.0]); p = np.array([0.5, 0.2]); pi = np.array([1.0, 0.5])
        ql = np.array([0.4, 0.3]); qt = np.array([0.6, 0.2])
        want = np.mean(qt + pi / p * (r - ql))
        _close(f(r, p, pi, ql, qt), float(want), "on a two-event hand example")
        d = _exercise_log()
        _close(f(**d), dr_value(**d), "on a random log of 400 events")
        zero = np.zeros_like(d["rewards"])
        _close(f(d["rewards"], d["propensities"], d["target_probs"], zero, zero),
               ips_value(d["rewards"], d["propensities"], d["target_probs"]),
               "with a zero reward model DR must equal IPS")

    return run_check("doubly_robust", candidate, dr_value, check)


def check_ndcg(candidate: Callable[..., float]) -> ExerciseResult:
    """Exercise: ``candidate(relevance, scores, k) -> float``, NDCG@k of one query (gains 2^rel - 1, log2 discounts)."""

    def check(f):
        rel = np.array([3, 2, 0, 1])
        scores = np.array([0.1, 0.9, 0.3, 0.5])  # ranking: items 1, 3, 2, 0 -> grades 2, 1, 0, 3
        dcg = 3 / np.log2(2) + 1 / np.log2(3) + 0 + 7 / np.log2(5)
        idcg = 7 / np.log2(2) + 3 / np.log2(3) + 1 / np.log2(4)
        got = float(f(rel, scores, 4))
        assert np.isclose(got, dcg / idcg), (
            f"NDCG@4 of grades {rel.tolist()} scored {scores.tolist()}: got {got:.4f}, expected "
            f"{dcg / idcg:.4f} (gains 2^rel - 1, discount log2(rank + 1), divide by the ideal DCG)")
        got2 = float(f(rel, scores, 2))
        want2 = (3 + 1 / np.log2(3)) / (7 + 3 / np.log2(3))
        assert np.isclose(got2, want2), f"NDCG@2: got {got2:.4f}, expected {want2:.4f}; cut both DCGs at k"
        rng = np.random.default_rng(3)
        for _ in range(5):
            r = rng.integers(0, 4, size=12)
            s = rng.normal(size=12)
            assert np.isclose(float(f(r, s, 5)), ndcg_one(r, s, 5)), "on a random query of 12 items, k = 5"

    return run_check("ndcg_at_k", candidate, ndcg_one, check)


def check_support(candidate: Callable[..., tuple]) -> ExerciseResult:
    """Exercise: ``candidate(propensities, target_probs) -> (mean_weight, se, trustworthy)``."""

    def check(f):
        p = np.array([0.5, 0.25, 0.5, 0.1])
        pi = np.array([0.5, 0.5, 0.25, 0.1])
        got = f(p, pi)
        assert isinstance(got, tuple) and len(got) == 3, (
            "return a tuple (mean_weight, se, trustworthy): two floats and a bool")
        w = pi / p
        ess_share = w.sum() ** 2 / (w**2).sum() / len(w)
        if np.isclose(float(got[0]), ess_share):
            raise AssertionError("your first value is the ESS / n, which measures how unequal the logged weights "
                                 "are; the support diagnostic is the plain mean of the weights, (1/n) sum_i w_i")
        if np.isclose(float(got[0]), pi.sum() / p.sum()):
            raise AssertionError("you divided the sums (sum pi / sum pi_0); average the ratios w_i = pi_i / p_i instead")
        _close(got[0], w.mean(), "mean weight on p = [0.5, 0.25, 0.5, 0.1], pi = [0.5, 0.5, 0.25, 0.1]")
        _close(got[1], w.std(ddof=1) / 2, "standard error of the mean weight: sd of the weights (ddof=1) / sqrt(n)",
               rtol=1e-6)
        d = _exercise_log()
        mw, se, ok = support_check(d["propensities"], d["target_probs"])
        gm, gs, gok = f(d["propensities"], d["target_probs"])
        _close(gm, mw, "mean weight on a random log of 400 events")
        assert bool(gok) == ok, "on a log with full support (mean weight near 1) the check should say trustworthy"
        # a logger that never takes the target's favourite actions: every weight is tiny, the spread is zero
        tiny = np.full(50, 0.001)
        gm, gs, gok = f(np.ones(50), tiny)
        assert not bool(gok), ("all 50 weights are 0.001: the mean weight is far below 1 with no spread at all. "
                               "Compare |mean weight - 1| with 1.96 standard errors, and do not call a zero standard "
                               "error 'no evidence'")
        assert isinstance(gok, (bool, np.bool_)), "the third value should be a bool"

    return run_check("support_check", candidate, support_check, check)
