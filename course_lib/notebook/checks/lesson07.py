"""Lesson 07 (A/B testing): the exercise checkers, ``check_<exercise>(candidate) -> ExerciseResult``.

Each compares a student's function with the reference implementation, which stays in the algorithm
module; the notebook calls ``checks.check_<exercise>(my_function)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib.abtest import (choose_correction, choose_covariate, cluster_diff_in_means, launch_decision,
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


_CORRECTION_HINTS = {
    "fwer_on_dashboard": ("a broad dashboard is exploration, not the launch decision: FWER control (Holm, Bonferroni) "
                          "costs most of the power there, as the simulation showed; control the false discovery rate"),
    "fdr_on_decision": ("these few metrics decide the launch: one false positive ships a change on false evidence, so "
                        "control the chance of any false positive (the FWER) with Holm"),
    "bonferroni": ("Bonferroni controls the FWER, but Holm controls the same error under any dependence and rejects "
                   "at least as many hypotheses, so Bonferroni is never the better choice"),
    "bh_arbitrary": ("BH's FDR guarantee needs independent or positively dependent (PRDS) p-values; when the "
                     "dependence can be negative, use Benjamini-Yekutieli (fdr_by), valid under any dependence"),
    "by_positive": ("BH already controls the FDR under positive dependence (PRDS); BY divides q by sum 1/i "
                    "(about 3.6 for 20 metrics) to cover dependence these metrics do not have, and loses power"),
    "none": "with many metrics, uncorrected tests almost surely produce a false alarm; choose a correction",
}


def check_choose_correction(candidate: Callable[..., tuple]) -> ExerciseResult:
    """Exercise 2: ``candidate(p, family, dependence, level) -> (method, reject)``, a correction chosen and applied."""

    def check(fn):
        rng = np.random.default_rng(2001)
        cases = [("decision", "positive", 4), ("decision", "arbitrary", 6), ("dashboard", "independent", 20),
                 ("dashboard", "positive", 24), ("dashboard", "arbitrary", 20)]
        said = {"independent": "independent p-values", "positive": "positively dependent p-values",
                "arbitrary": "p-values whose dependence may be negative"}
        for family, dependence, m in cases:
            p = np.concatenate([rng.random(m - m // 3), rng.random(m // 3) * 0.025, [0.001]])
            rng.shuffle(p)
            level = 0.1
            p_in = p.copy()
            got = fn(p_in, family, dependence, level)
            assert np.array_equal(p_in, p), "do not modify the p-values you are given"
            assert isinstance(got, tuple) and len(got) == 2, "return a tuple (method, reject)"
            method, reject = got
            method = str(method).lower()
            want, want_reject = choose_correction(p, family, dependence, level)
            where = f"a {family} review of {len(p)} metrics with {said[dependence]}"
            if method != want:
                if method in ("none", "", "no correction"):
                    key = "none"
                elif family == "dashboard" and method in ("holm", "bonferroni", "sidak", "holm-sidak"):
                    key = "fwer_on_dashboard"
                elif family == "decision" and method.startswith("fdr"):
                    key = "fdr_on_decision"
                elif method == "bonferroni":
                    key = "bonferroni"
                elif method == "fdr_bh" and dependence == "arbitrary":
                    key = "bh_arbitrary"
                elif method == "fdr_by":
                    key = "by_positive"
                else:
                    raise AssertionError(f"{where}: you chose {method!r}; name the method as statsmodels' "
                                         "multipletests does ('holm', 'fdr_bh', 'fdr_by', ...)")
                raise AssertionError(f"{where}: you chose {method!r}. Hint: {_CORRECTION_HINTS[key]}")
            reject = np.asarray(reject)
            assert reject.shape == p.shape and reject.dtype == bool, (
                "return the rejections as a boolean array, one entry per p-value, in the order of p")
            assert np.array_equal(reject, want_reject), (
                f"{where}: {method!r} is the right choice, but your rejections differ from applying it at level "
                f"{level}: use multipletests(p, alpha=level, method={method!r})[0], and keep the input order")

    return run_check("choose_correction", candidate, choose_correction, check)


# (loading on the user's engagement, noise sd, units, measured, shift with the treatment); rho with Y = 3 loading /
# sqrt(10 (loading^2 + noise^2)) within the arms
_COVARIATE_CASES = [
    {"days_since_last_visit": (-1.6, 0.8, 1, "before", 0.0),        # rho -0.85: the best, and negative
     "watch_hours_last_month": (0.7, 0.8, 1, "before", 0.0),        # rho 0.62: the largest positive correlation
     "trailer_seconds_last_month": (0.4, 1.2, 3600, "before", 0.0), # rho 0.30: the largest covariance (units)
     "share_of_day_watching": (0.4, 1.2, 1 / 1440, "before", 0.0),  # rho 0.30: the largest theta (units)
     "account_age_years": (0.05, 1.0, 1, "before", 0.25)},          # rho 0.05, and a chance imbalance with the assignment
    {"days_since_last_visit": (-1.6, 0.8, 1, "before", 0.0),
     "watch_hours_last_month": (0.7, 0.8, 1, "before", 0.0),
     "trailer_seconds_last_month": (0.4, 1.2, 3600, "before", 0.0),
     "share_of_day_watching": (0.4, 1.2, 1 / 1440, "before", 0.0),
     "account_age_years": (0.05, 1.0, 1, "before", 0.0),
     "sessions_during_test": (1.0, 0.2, 1, "during", 0.8)},         # rho 0.93, moved by the treatment: a leak
    {"days_since_last_visit": (-0.3, 1.0, 1, "before", 0.0),        # rho -0.27
     "watch_hours_last_month": (1.0, 0.3, 1, "before", 0.0),        # rho 0.91: the best
     "trailer_seconds_last_month": (0.4, 1.2, 3600, "before", 0.0),
     "account_age_years": (0.05, 1.0, 1, "before", 0.0)},
]


def _covariate_case(rng, spec, n=4000):
    """A data set with a known best pre-period covariate, and one trap per plausible mistake."""
    treated = rng.permutation(np.arange(n) < n // 2)
    base = rng.standard_normal(n)
    y = 10 + 3 * base + 0.5 * treated + rng.standard_normal(n)
    cand = {k: units * (loading * base + noise * rng.standard_normal(n)) + shift * treated
            for k, (loading, noise, units, _, shift) in spec.items()}
    return y, treated, cand, {k: v[3] for k, v in spec.items()}


def check_choose_covariate(candidate: Callable[..., str]) -> ExerciseResult:
    """Exercise 3: ``candidate(y, treated, candidates, measured) -> name``, the CUPED covariate to use."""

    def check(fn):
        rng = np.random.default_rng(2013)
        for spec in _COVARIATE_CASES:
            y, treated, cand, measured = _covariate_case(rng, spec)
            saved = {k: v.copy() for k, v in cand.items()}
            got = fn(y.copy(), treated.copy(), dict(cand), dict(measured))
            assert all(np.array_equal(cand[k], saved[k]) for k in cand), "do not modify the candidates"
            assert isinstance(got, str) and got in cand, (
                f"return the name of one candidate, one of {sorted(cand)}; got {got!r}")
            want = choose_covariate(y, treated, cand, measured)
            if got == want:
                continue
            r = {k: float(np.corrcoef(y, v)[0, 1]) for k, v in cand.items()}
            r_t = {k: abs(float(np.corrcoef(treated, v)[0, 1])) for k, v in cand.items()}
            cov = {k: abs(float(np.cov(y, v)[0, 1])) for k, v in cand.items()}
            before = [k for k in cand if measured[k] == "before"]
            if measured[got] == "during":
                raise AssertionError(
                    f"{got!r} was measured during the experiment, so the treatment moves it: adjusting on it removes "
                    "part of the effect you want to measure (a leak). Only pre-period metrics qualify")
            if got == max(before, key=r_t.__getitem__) and r_t[got] > 0.05:
                raise AssertionError(
                    f"{got!r} is the candidate most correlated with the assignment, |r| = {r_t[got]:.3f}: that is a "
                    f"chance imbalance, not a source of variance reduction. The variance falls by rho^2, rho the "
                    f"correlation with Y: {got!r} has rho = {r[got]:+.2f}")
            if got == max(before, key=r.__getitem__) and r[want] < 0:
                raise AssertionError(
                    f"you took the largest positive correlation ({got!r}, rho = {r[got]:+.2f}), but the variance falls to "
                    f"var(Y)(1 - rho^2): {want!r} with rho = {r[want]:+.2f} removes more, whatever the sign")
            theta = {k: cov[k] / float(np.var(v, ddof=1)) for k, v in cand.items()}
            for stat, size in ((cov, "covariance with Y"), (theta, "slope theta")):
                if got == max(before, key=stat.__getitem__):
                    raise AssertionError(
                        f"{got!r} has the largest {size} only because of its units: covariance and theta change "
                        f"with the scale of X, rho^2 does not ({got!r} has rho = {r[got]:+.2f}). Compare correlations")
            raise AssertionError(f"{got!r} cuts the variance by rho^2 = {r[got] ** 2:.2f}; {want!r} by "
                                 f"{r[want] ** 2:.2f}. Pick the pre-period candidate with the largest rho^2")

    return run_check("choose_covariate", candidate, choose_covariate, check)


def _reference_cluster_test(y, treated, clusters) -> tuple[float, float]:
    res = cluster_diff_in_means(y, treated, clusters)
    return float(res.estimate), float(res.se)


def check_cluster_test(candidate: Callable[..., tuple]) -> ExerciseResult:
    """Exercise 5: ``candidate(y, treated, clusters) -> (estimate, se)``, the cluster-level analysis (eq. 07.19)."""

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
    """Exercise 4: ``candidate(primary_ci, guardrails_passed, srm_p_value) -> (decision, reason)``."""

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
