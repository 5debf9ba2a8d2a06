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
