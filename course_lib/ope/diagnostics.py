"""Lesson 06's support diagnostics: the mean importance weight (expectation: the target's mass inside the logger's
support) and the chi-square divergence that bounds IPS's variance."""

from __future__ import annotations

import numpy as np

from course_lib.ope.estimators import Z95, Estimate, _mean_se, _out, importance_weights
from course_lib.validate import array


def mean_weight(propensities, target_probs) -> Estimate:
    """The support diagnostic: the mean importance weight (1/n) sum_i w_i with its standard error.

    Its expectation is the target policy's probability mass on actions the logger can take,
    sum_x P(x) sum_{a: pi_0(a|x) > 0} pi(a|x): 1 when positivity holds, less when it fails.  A mean
    weight far from 1 (1 outside its interval) says the log cannot vouch for the policy: the actions
    are unsupported, or the heavy weights that would restore the mean did not occur in this log.
    It is SNIPS's control variate: V_SNIPS = V_IPS / mean weight.  Shape (..., n) like the estimators.
    """
    w = importance_weights(propensities, target_probs)
    value, se = _mean_se(w)
    return Estimate("mean weight", _out(value), _out(se), w.shape[-1])


def support_mass(policy_probs, logging_probs, context_probs) -> float:
    """Exact E[mean weight] = sum_x P(x) sum_{a: pi_0(a|x) > 0} pi(a|x): the share of pi the logger can take."""
    pi = np.asarray(policy_probs, dtype=float)
    p0 = np.asarray(logging_probs, dtype=float)
    pc = array("context_probs", context_probs, low=0.0, min_ndim=1)
    if pi.shape != p0.shape or pi.ndim != 2 or pc.shape != (pi.shape[0],):
        raise ValueError(f"need policy_probs and logging_probs (C, K) and context_probs (C,), got "
                         f"{pi.shape}, {p0.shape}, {pc.shape}")
    return float(pc @ (pi * (p0 > 0)).sum(axis=1) / pc.sum())


def chi2_divergence(policy_probs, logging_probs, context_probs) -> float:
    """E_x chi^2(pi(.|x) || pi_0(.|x)) = E_{pi_0}[w^2] - 1, which bounds IPS's per-event variance (r in [0, 1]).

    Infinite when pi puts mass where pi_0 has none.
    """
    pi = np.asarray(policy_probs, dtype=float)
    p0 = np.asarray(logging_probs, dtype=float)
    pc = array("context_probs", context_probs, low=0.0, min_ndim=1)
    if pi.shape != p0.shape or pi.ndim != 2 or pc.shape != (pi.shape[0],):
        raise ValueError(f"need policy_probs and logging_probs (C, K) and context_probs (C,), got "
                         f"{pi.shape}, {p0.shape}, {pc.shape}")
    if np.any((p0 == 0) & (pi > 0)):
        return float("inf")
    with np.errstate(divide="ignore", invalid="ignore"):
        ew2 = np.where(p0 > 0, pi**2 / np.where(p0 > 0, p0, 1), 0.0).sum(axis=1)
    return float(pc @ ew2 / pc.sum() - 1)


def support_check(propensities, target_probs) -> tuple[float, float, bool]:
    """Reference for the support-diagnostic exercise: (mean weight, its standard error, trustworthy).

    Trustworthy when 1 lies within 1.96 standard errors of the mean weight (1/n) sum_i w_i, whose
    expectation is 1 exactly when the logger supports every action the target policy takes.
    """
    mw = mean_weight(propensities, target_probs)
    return float(mw.value), float(mw.se), bool(abs(mw.value - 1) <= Z95 * mw.se)
