"""Lesson 07 (A/B testing): the exercise checkers, ``check_<exercise>(candidate) -> ExerciseResult``.

Each compares a student's function with the reference implementation, which stays in the algorithm
module; the notebook calls ``checks.check_<exercise>(my_function)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib.abtest import (benjamini_hochberg, cluster_diff_in_means, cuped_adjust, launch_decision,
                               sample_size_per_arm)
from course_lib.notebook.exercises import ExerciseResult, run_check


def _reference_sample_size(delta: float, sigma: float, alpha: float = 0.05, power: float = 0.8) -> int:
    return sample_size_per_arm(delta, sigma, alpha, power)


def check_sample_size(candidate: Callable[..., float]) -> ExerciseResult:
    """Exercise 1: ``candidate(delta, sigma, alpha, power)`` returns users per arm (eq. 07.4)."""

    def check(fn):
        for delta, sigma, alpha, power in [(0.1, 1.0, 0.05, 0.8), (0.002, 0.2, 0.05, 0.9), (0.5, 3.0, 0.01, 0.8)]:
            want = sample_size_per_arm(delta, sigma, alpha, power)
            got = fn(delta, sigma, alpha, power)
            assert np.isscalar(got) or np.ndim(got) == 0, "return one number, the users needed per arm"
            got = float(got)
            assert abs(got - want) <= 1.0, (
                f"for delta={delta}, sigma={sigma}, alpha={alpha}, power={power} you returned {got:.1f} users per "
                f"arm, the formula gives {want}; use z_(1-alpha/2) for a two-sided test and the factor 2")

    return run_check("sample_size", candidate, _reference_sample_size, check)


def check_cuped_adjust(candidate: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> ExerciseResult:
    """Exercise 3: ``candidate(y, x)`` returns Y - theta (X - mean X) with theta = cov(Y, X) / var(X)."""

    def check(fn):
        rng = np.random.default_rng(2013)
        for rho, shift in [(0.7, 3.0), (-0.4, -1.0)]:
            x = rng.standard_normal(500) + shift
            y = rho * x + rng.standard_normal(500) + 2.0
            got = np.asarray(fn(y, x), float)
            want = cuped_adjust(y, x)
            assert got.shape == y.shape, f"return one adjusted value per user, shape {y.shape}, got {got.shape}"
            assert abs(got.mean() - y.mean()) < 1e-8, "the adjusted metric must keep Y's mean: centre X first"
            assert np.allclose(got, want, atol=1e-8), "theta should be cov(Y, X) / var(X), estimated on these users"

    return run_check("cuped_adjust", candidate, cuped_adjust, check)


def check_benjamini_hochberg(candidate: Callable[[np.ndarray, float], np.ndarray]) -> ExerciseResult:
    """Exercise 2: ``candidate(p, q)`` returns the boolean rejections of the BH step-up procedure (eq. 07.9)."""

    def check(fn):
        hand = np.array([0.028, 0.005, 0.3, 0.035, 0.025])  # BH at 0.05 rejects all but 0.3
        got = np.asarray(fn(hand, 0.05))
        assert got.shape == hand.shape and got.dtype == bool, "return a boolean array, one entry per p-value"
        assert got.tolist() == [True, True, False, True, True], (
            f"on p={hand.tolist()} and q=0.05 BH rejects all but 0.3, you rejected {got.tolist()}; "
            "remember the step-up: find the largest i with p_(i) <= i q / m and reject everything up to it")
        rng = np.random.default_rng(1995)
        for _ in range(20):
            p = np.concatenate([rng.random(15), rng.random(5) * 0.01])
            rng.shuffle(p)
            q = float(rng.choice([0.05, 0.1, 0.2]))
            want = benjamini_hochberg(p, q)
            assert np.array_equal(np.asarray(fn(p, q)), want), "differs from BH on a random example; keep the input order"

    return run_check("benjamini_hochberg", candidate, benjamini_hochberg, check)


def _reference_cluster_test(y, treated, clusters) -> tuple[float, float]:
    res = cluster_diff_in_means(y, treated, clusters)
    return float(res.estimate), float(res.se)


def check_cluster_test(candidate: Callable[..., tuple]) -> ExerciseResult:
    """Exercise 4: ``candidate(y, treated, clusters) -> (estimate, se)``, the cluster-level analysis (eq. 07.19)."""

    def check(fn):
        rng = np.random.default_rng(2024)
        sizes = rng.integers(5, 40, 16)                         # unequal clusters
        clusters = np.repeat(np.arange(16), sizes)
        t = np.isin(clusters, rng.choice(16, 8, replace=False))
        y = 0.3 * t + 0.8 * rng.standard_normal(16)[clusters] + rng.standard_normal(clusters.size)
        got = fn(y, t, clusters)
        assert isinstance(got, tuple) and len(got) == 2, "return a tuple (estimate, se) of two floats"
        est, se = map(float, got)
        want_est, want_se = _reference_cluster_test(y, t, clusters)
        user_est = y[t].mean() - y[~t].mean()
        user_se = np.sqrt(y[t].var(ddof=1) / t.sum() + y[~t].var(ddof=1) / (~t).sum())
        if np.isclose(se, user_se, rtol=1e-6):
            raise AssertionError("your standard error is the user-level one: it treats users of one cluster as "
                                 "independent. Take each cluster's mean outcome as one observation and compare "
                                 "the treated clusters' means with the control clusters' means")
        if np.isclose(est, user_est, rtol=1e-9) and not np.isclose(est, want_est, rtol=1e-9):
            raise AssertionError("your estimate weights every user equally; in the cluster-level analysis every "
                                 "cluster counts once: average the cluster means of each arm")
        ybar = np.bincount(clusters, weights=y) / sizes
        tc = np.bincount(clusters, weights=t) / sizes > 0.5
        se_ddof0 = np.sqrt(ybar[tc].var() / tc.sum() + ybar[~tc].var() / (~tc).sum())
        if np.isclose(se, se_ddof0, rtol=1e-6):
            raise AssertionError("use the sample variance of the cluster means (ddof=1): with a few clusters "
                                 "ddof=0 makes the interval visibly too narrow")
        assert np.isclose(est, want_est, rtol=1e-9), f"estimate {est:.5f}, expected {want_est:.5f} (difference of the mean cluster means)"
        assert np.isclose(se, want_se, rtol=1e-6), (
            f"standard error {se:.5f}, expected {want_se:.5f}: sqrt(s_T^2 / G_T + s_C^2 / G_C) over the cluster means")

    return run_check("cluster_test", candidate, _reference_cluster_test, check)



def check_launch_decision(candidate: Callable[..., tuple]) -> ExerciseResult:
    """Exercise 5: ``candidate(primary_ci, guardrails_passed, srm_p_value) -> (decision, reason)``."""

    def reference(primary_ci, guardrails_passed, srm_p_value):
        out = launch_decision(primary_ci, guardrails_passed, srm_p_value)
        return out.decision, out.reason

    scenarios = [
        # (primary CI, guardrails, SRM p, expected, hint when the answer differs)
        ((0.004, 0.012), {"latency": True, "diversity": True}, 0.41, "launch",
         "a clean test: sound assignment, every guardrail passed and the whole interval above 0 is a launch"),
        ((0.010, 0.030), {"latency": True}, 2e-5, "investigate",
         "the SRM check failed (p far below 0.001): the arms are not what you designed, so even a large, "
         "significant lift cannot be trusted. Check the sample ratio before any metric"),
        ((0.006, 0.015), {"latency": True, "complaints": False}, 0.6, "no launch",
         "a guardrail failed its non-inferiority test: a gain in the primary metric does not buy an unbounded "
         "harm elsewhere. Block the launch and name the guardrail"),
        ((-0.002, 0.009), {"latency": True}, 0.3, "no launch",
         "the primary interval contains 0: a positive point estimate is not evidence of a gain. Launch only "
         "when the whole interval lies above 0"),
        ((-0.012, -0.003), {}, 0.5, "no launch",
         "the primary metric got worse (the whole interval is below 0)"),
        ((0.004, 0.012), {"latency": True}, 0.002, "launch",
         "an SRM p-value of 0.002 is above the usual 0.001 threshold: with many tests run, such p-values happen "
         "by chance; only p < 0.001 flags a broken assignment"),
    ]

    def check(fn):
        for ci, guards, srm_p, want, hint in scenarios:
            got = fn(ci, dict(guards), srm_p)
            assert isinstance(got, tuple) and len(got) == 2, "return a tuple (decision, reason)"
            decision, reason = got
            assert decision in ("launch", "no launch", "investigate"), (
                f'decision must be "launch", "no launch" or "investigate", got {decision!r}')
            assert isinstance(reason, str) and len(reason.strip()) >= 10, (
                "give a reason a reviewer can check (a sentence naming what decided it)")
            assert decision == want, (f"primary CI {ci}, guardrails {guards}, SRM p = {srm_p}: you said "
                                      f"{decision!r}, expected {want!r}. Hint: {hint}")

    return run_check("launch_decision", candidate, reference, check)
