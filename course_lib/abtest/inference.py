"""Lesson 07's estimates and tests: difference in means (Welch or normal), two proportions, sample ratio mismatch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from course_lib.validate import number


def _check_alpha(level: float, name: str = "alpha", usual: float = 0.05) -> float:
    return number(name, level, low=0, high=1, low_open=True, high_open=True, hint=f"{usual:g} is the usual choice")


def _groups(y_t: np.ndarray, y_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_t = np.asarray(y_t, dtype=float)
    y_c = np.asarray(y_c, dtype=float)
    for name, y in (("treatment", y_t), ("control", y_c)):
        if y.ndim == 0 or y.shape[-1] < 2:
            raise ValueError(f"the {name} group needs at least 2 observations along the last axis, "
                             f"got shape {y.shape}; an empty group usually means a broken assignment")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"the {name} group contains NaN or infinite values; drop or impute them first")
    return y_t, y_c


@dataclass(frozen=True)
class ABResult:
    """Estimate of the average treatment effect tau with its standard error, CI and p-value.

    Every field is a float for one experiment, or an array with one entry per run.
    """

    estimate: np.ndarray | float
    se: np.ndarray | float
    ci_low: np.ndarray | float
    ci_high: np.ndarray | float
    p_value: np.ndarray | float
    statistic: np.ndarray | float

    def covers(self, tau: float) -> np.ndarray | bool:
        """Whether the confidence interval contains ``tau``."""
        return (self.ci_low <= tau) & (tau <= self.ci_high)


def diff_in_means(y_t: np.ndarray, y_c: np.ndarray, alpha: float = 0.05, method: str = "welch") -> ABResult:
    """Difference-in-means estimate of tau = E[Y(1) - Y(0)] (eq. 07.1) and its CI (eq. 07.2).

    Var = s_T^2/n_T + s_C^2/n_C.  ``method="welch"`` uses ``scipy.stats.ttest_ind(equal_var=False)``
    (Welch's t with Satterthwaite degrees of freedom); ``"normal"`` the z interval.

    y_t, y_c: outcomes, shape (n_t,) and (n_c,), or (n_runs, n_t) and (n_runs, n_c) for many
    experiments at once (the last axis holds users).
    """
    alpha = _check_alpha(alpha)
    y_t, y_c = _groups(y_t, y_c)
    n_t, n_c = y_t.shape[-1], y_c.shape[-1]
    var = y_t.var(axis=-1, ddof=1) / n_t + y_c.var(axis=-1, ddof=1) / n_c
    if np.any(var <= 0):
        raise ValueError("zero variance in both groups: every user has the same outcome, so no "
                         "interval can be computed; check that the metric is logged correctly")
    est = y_t.mean(axis=-1) - y_c.mean(axis=-1)
    se = np.sqrt(var)
    if method == "welch":
        res = stats.ttest_ind(y_t, y_c, axis=-1, equal_var=False)
        ci = res.confidence_interval(1 - alpha)
        lo, hi, p, stat = ci.low, ci.high, res.pvalue, res.statistic
    elif method == "normal":
        z = stats.norm.isf(alpha / 2)
        lo, hi = est - z * se, est + z * se
        stat = est / se
        p = 2 * stats.norm.sf(np.abs(stat))
    else:
        raise ValueError(f"method must be 'welch' or 'normal', got {method!r}")
    return ABResult(est, se, lo, hi, p, stat)


def two_proportion_z(clicks_t, n_t, clicks_c, n_c) -> np.ndarray:
    """Pooled two-proportion z statistic (eq. 07.3), vectorised; equals statsmodels' ``proportions_ztest``."""
    clicks_t, clicks_c = np.asarray(clicks_t, float), np.asarray(clicks_c, float)
    n_t, n_c = np.asarray(n_t, float), np.asarray(n_c, float)
    pooled = (clicks_t + clicks_c) / (n_t + n_c)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    diff = clicks_t / n_t - clicks_c / n_c
    return np.divide(diff, se, out=np.zeros(np.broadcast(diff, se).shape), where=se > 0)


def proportions_test(clicks_t: int, n_t: int, clicks_c: int, n_c: int, alpha: float = 0.05) -> ABResult:
    """Click-through test for one experiment: statsmodels' pooled z-test and Wald CI of p_T - p_C."""
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    alpha = _check_alpha(alpha)
    if min(n_t, n_c) < 1:
        raise ValueError(f"both groups need at least one user, got n_t={n_t}, n_c={n_c}")
    if not (0 <= clicks_t <= n_t and 0 <= clicks_c <= n_c):
        raise ValueError("clicks must lie between 0 and the number of users of their group")
    if clicks_t + clicks_c in (0, n_t + n_c):
        raise ValueError("zero variance: every user clicked or nobody did; the test needs both outcomes")
    stat, p = proportions_ztest([clicks_t, clicks_c], [n_t, n_c])
    lo, hi = confint_proportions_2indep(clicks_t, n_t, clicks_c, n_c, method="wald", compare="diff", alpha=alpha)
    est = clicks_t / n_t - clicks_c / n_c
    se = np.sqrt(clicks_t / n_t * (1 - clicks_t / n_t) / n_t + clicks_c / n_c * (1 - clicks_c / n_c) / n_c)
    return ABResult(float(est), float(se), float(lo), float(hi), float(p), float(stat))


@dataclass(frozen=True)
class SRMResult:
    """Chi-square goodness-of-fit of the assignment counts against the designed split."""

    chi2: float
    p_value: float
    flagged: bool


def srm_check(counts, expected_share=None, threshold: float = 0.001) -> SRMResult:
    """Sample-ratio-mismatch check (eq. 07.13) with ``scipy.stats.chisquare``.

    counts: users per arm; expected_share: designed split (equal when None).  A p-value below
    ``threshold`` (0.001 is the common, conservative choice) flags a broken assignment.
    """
    threshold = _check_alpha(threshold, "threshold", usual=0.001)
    counts = np.asarray(counts, float)
    if counts.ndim != 1 or counts.size < 2 or np.any(counts < 0) or counts.sum() <= 0:
        raise ValueError("counts must list the (non-negative) number of users in each of at least 2 arms")
    share = np.full(counts.size, 1 / counts.size) if expected_share is None else np.asarray(expected_share, float)
    if share.shape != counts.shape or np.any(share <= 0):
        raise ValueError("expected_share needs one positive share per arm")
    share = share / share.sum()
    res = stats.chisquare(counts, f_exp=share * counts.sum())
    return SRMResult(float(res.statistic), float(res.pvalue), bool(res.pvalue < threshold))
