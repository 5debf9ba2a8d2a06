"""Lesson 07's guardrail metrics: one-sided non-inferiority tests with a stated margin (eq. 07.17)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from course_lib.abtest.inference import _check_alpha, _groups
from course_lib.abtest.ratio import _float
from course_lib.validate import number


@dataclass(frozen=True)
class NonInferiorityResult:
    """One-sided non-inferiority test of a guardrail: is the change above -margin?"""

    estimate: float | np.ndarray
    lower: float | np.ndarray      # one-sided (1 - alpha) lower confidence bound of the change
    p_value: float | np.ndarray    # of H0: change <= -margin
    passed: bool | np.ndarray      # lower > -margin


def non_inferiority_test(y_t, y_c, margin: float, alpha: float = 0.05,
                         higher_is_better: bool = True) -> NonInferiorityResult:
    """Guardrail test (eq. 07.17): H0 the treatment is worse by at least ``margin`` against H1 it is not.

    Passes when the one-sided (1 - alpha) confidence bound of the change lies inside the margin; for a metric
    where lower is better (latency), pass ``higher_is_better=False``.  Normal approximation; vectorised like
    ``diff_in_means``.
    """
    margin = number("margin", margin, low=0, low_open=True, hint="the largest harm you accept, in the metric's units")
    alpha = _check_alpha(alpha)
    y_t, y_c = _groups(y_t, y_c)
    sign = 1.0 if higher_is_better else -1.0
    est = sign * (y_t.mean(axis=-1) - y_c.mean(axis=-1))
    se = np.sqrt(y_t.var(axis=-1, ddof=1) / y_t.shape[-1] + y_c.var(axis=-1, ddof=1) / y_c.shape[-1])
    lower = est - stats.norm.isf(alpha) * se
    p = stats.norm.sf((est + margin) / se)
    return NonInferiorityResult(_float(sign * est), _float(sign * lower), _float(p),
                                bool(lower > -margin) if np.ndim(lower) == 0 else lower > -margin)


@dataclass(frozen=True)
class LaunchDecision:
    """A launch call and the reason a reviewer can check: ``decision`` is "launch", "no launch" or "investigate"."""

    decision: str
    reason: str


def launch_decision(primary_ci, guardrails_passed, srm_p_value: float, srm_threshold: float = 0.001) -> LaunchDecision:
    """The launch review's order of reading (section 9): trust the assignment, then the guardrails, then the lift.

    primary_ci: (low, high) confidence interval of the primary metric's change (positive is better);
    guardrails_passed: mapping guardrail name -> whether its non-inferiority test (eq. 07.17) passed;
    srm_p_value: the sample-ratio-mismatch p-value (eq. 07.13).  An SRM p-value below ``srm_threshold``
    means "investigate" whatever the metrics say; a failed guardrail blocks the launch; otherwise launch only
    when the whole interval lies above zero.
    """
    low, high = (number("primary_ci", v) for v in primary_ci)
    if low > high:
        raise ValueError(f"primary_ci must be (low, high) with low <= high, got ({low}, {high})")
    srm_p_value = number("srm_p_value", srm_p_value, low=0, high=1)
    srm_threshold = number("srm_threshold", srm_threshold, low=0, high=1, low_open=True)
    if srm_p_value < srm_threshold:
        return LaunchDecision("investigate", f"sample ratio mismatch (p = {srm_p_value:.2g}): the assignment is "
                                             "broken, so no metric of this test can be trusted")
    failed = [name for name, ok in dict(guardrails_passed).items() if not bool(ok)]
    if failed:
        return LaunchDecision("no launch", "guardrail(s) not shown non-inferior: " + ", ".join(failed))
    if low > 0:
        return LaunchDecision("launch", f"the primary metric's interval [{low:+.4g}, {high:+.4g}] lies above 0, "
                                        "the assignment is sound and every guardrail passed")
    if high < 0:
        return LaunchDecision("no launch", f"the primary metric got worse: [{low:+.4g}, {high:+.4g}]")
    return LaunchDecision("no launch", f"inconclusive: the interval [{low:+.4g}, {high:+.4g}] contains 0, "
                                       "so the test cannot tell a gain from no change")
