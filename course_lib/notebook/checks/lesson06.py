"""Lesson 06 (off-policy evaluation): the exercise checkers, ``check_<exercise>(candidate) -> ExerciseResult``.

Each compares a student's function with the reference implementation, which stays in the algorithm
module; the notebook calls ``checks.check_<exercise>(my_function)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib.ope import dr_value, ips_value, paired_bootstrap, sample_actions, snips, sndr_value, support_check
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


def check_self_normalised_dr(candidate: Callable[..., float]) -> ExerciseResult:
    """Exercise: ``candidate(rewards, propensities, target_probs, q_logged, q_target) -> float`` is self-normalised DR:
    (1/n) sum_i q_target_i + sum_i w_i (r_i - q_logged_i) / sum_i w_i, without modifying its inputs."""

    def check(f):
        d = _exercise_log()
        copies = {k: v.copy() for k, v in d.items()}
        order = ("rewards", "propensities", "target_probs", "q_logged", "q_target")
        got = float(np.asarray(f(*(d[k] for k in order))))
        for k, v in d.items():
            assert np.array_equal(v, copies[k]), f"do not modify the arrays you are given ({k} changed): compute new ones"
        want = sndr_value(**d)
        if not np.isclose(got, want, rtol=1e-9, atol=1e-12):
            w = d["target_probs"] / d["propensities"]
            e = d["rewards"] - d["q_logged"]
            if np.isclose(got, dr_value(**d)):
                raise AssertionError("that is plain DR: its correction is divided by n; divide sum_i w_i (r_i - q_logged_i) "
                                     "by the sum of the weights instead, as SNIPS does for IPS")
            if np.isclose(got, snips(d["rewards"], d["propensities"], d["target_probs"]).value):
                raise AssertionError("that is SNIPS: the reward model is missing; start from (1/n) sum_i q_target_i, "
                                     "the direct method, and add the self-normalised correction")
            if np.isclose(got, (d["q_target"] + w * e).sum() / w.sum()) or np.isclose(
                    got, (w * (d["q_target"] + e)).sum() / w.sum()):
                raise AssertionError("only the correction is self-normalised: the direct-method term "
                                     "(1/n) sum_i q_target_i averages over the n logged contexts, unweighted")
            if np.isclose(got, d["q_target"].mean() + (w * e).sum() / w.sum() * w.mean()):
                raise AssertionError("the correction sum_i w_i e_i / sum_i w_i already averages: do not rescale it again")
            raise AssertionError(f"on a random log of 400 events: got {got:.6g}, expected {want:.6g}")
        # the point of self-normalising: one common factor on every propensity cancels in the correction
        scaled = dict(d, propensities=d["propensities"] * 0.5)
        assert np.isclose(float(f(*(scaled[k] for k in order))), want), (
            "with every propensity halved the estimate must not change: the factor cancels between "
            "sum_i w_i e_i and sum_i w_i")
        zero = np.zeros_like(d["rewards"])
        _close(f(d["rewards"], d["propensities"], d["target_probs"], zero, zero),
               float(snips(d["rewards"], d["propensities"], d["target_probs"]).value),
               "with a zero reward model SNDR must equal SNIPS")

    return run_check("self_normalised_dr", candidate, sndr_value, check)


def _paired_cases() -> list[tuple[np.ndarray, np.ndarray, str]]:
    """(A, B, expected decision): correlated per-query scores, as two rankers on the same queries."""
    rng = np.random.default_rng(11)
    base = rng.beta(2, 3, size=300)                              # how hard each query is: shared by both rankers
    clear = np.clip(base + 0.02 + rng.normal(0, 0.02, 300), 0, 1)
    noise = np.clip(base + 0.006 + rng.normal(0, 0.08, 300), 0, 1)
    return [(clear, base, "A better"), (base, clear, "B better"), (noise, base, "no evidence")]


def _check_paired(f) -> None:
    for a, b, want in _paired_cases():
        a0, b0 = a.copy(), b.copy()
        got = f(a, b, np.random.default_rng(5))
        assert np.array_equal(a, a0) and np.array_equal(b, b0), "do not modify the scores you are given"
        got = tuple(got)
        assert len(got) == 4, "return (difference, lo, hi, decision)"
        diff, lo, hi, decision = float(got[0]), float(got[1]), float(got[2]), got[3]
        assert decision in ("A better", "B better", "no evidence"), (
            f"decision must be 'A better', 'B better' or 'no evidence', got {decision!r}")
        if np.allclose([lo, hi], np.quantile(a - b, [0.025, 0.975]), rtol=0.02, atol=1e-9):
            raise AssertionError("your interval is the spread of the per-query differences, about sqrt(n) times too "
                                 "wide; take the quantiles of the resampled MEAN differences instead")
        again = tuple(f(a, b, np.random.default_rng(5)))
        assert np.isclose(float(again[1]), lo) and np.isclose(float(again[2]), hi), (
            "two calls with the same seed gave different intervals: draw the resamples from the rng you are given")
        other = tuple(f(a, b, np.random.default_rng(6)))
        assert not (np.isclose(float(other[1]), lo) and np.isclose(float(other[2]), hi)), (
            "another seed gave exactly the same interval: draw the resamples from the rng you are given, "
            "not from a generator of your own")
        ref = paired_bootstrap(a, b, np.random.default_rng(5))
        _close(diff, ref.difference, "the mean difference A - B over the queries")
        width, ref_width = hi - lo, ref.hi - ref.lo
        if width > 2 * ref_width:
            rs = np.random.default_rng(5)
            unpaired = (a[rs.integers(0, len(a), (2000, len(a)))].mean(axis=1)
                        - b[rs.integers(0, len(b), (2000, len(b)))].mean(axis=1))
            u_lo, u_hi = np.quantile(unpaired, [0.025, 0.975])
            if abs(width - (u_hi - u_lo)) < 0.3 * (u_hi - u_lo):
                raise AssertionError("your interval is as wide as an UNPAIRED bootstrap: resample the same queries for "
                                     "A and B (one set of indices), so that what both share (how hard each query is) cancels")
        assert width > 0.5 * ref_width and abs(lo - ref.lo) < 0.25 * ref_width and abs(hi - ref.hi) < 0.25 * ref_width, (
            f"interval {lo:.4f} to {hi:.4f}, expected about {ref.lo:.4f} to {ref.hi:.4f}: the 2.5% and 97.5% "
            "quantiles of the mean difference over bootstrap resamples of the queries")
        if decision != want:
            if want == "no evidence":
                raise AssertionError(f"the mean difference is {diff:+.4f} but the interval {lo:+.4f} to {hi:+.4f} "
                                     "contains 0: a difference inside the noise is 'no evidence', not a win")
            raise AssertionError(f"the interval {lo:+.4f} to {hi:+.4f} excludes 0, so the data name a winner: "
                                 f"expected {want!r}, got {decision!r} (A - B > 0 means A is better)")


def check_paired_verdict(candidate: Callable[..., tuple]) -> ExerciseResult:
    """Exercise: ``candidate(scores_a, scores_b, rng) -> (difference, lo, hi, decision)`` by a paired bootstrap."""
    return run_check("paired_verdict", candidate, paired_bootstrap, _check_paired)


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
