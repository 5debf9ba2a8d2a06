"""Lesson 07's multiple testing: adjusted p-values, Benjamini-Hochberg, simulated metrics and error rates."""

from __future__ import annotations

import numpy as np
from scipy import stats

from course_lib.abtest.inference import _check_alpha
from course_lib.validate import number


def adjust_pvalues(p: np.ndarray, method: str = "bh") -> np.ndarray:
    """Adjusted p-values along the last axis: ``"bonferroni"``, ``"holm"``, ``"bh"`` (Benjamini-Hochberg)
    or ``"by"`` (Benjamini-Yekutieli: BH with m replaced by m * sum_{i<=m} 1/i, valid under any dependence).

    Same values as ``statsmodels.stats.multitest.multipletests(p, method=...)[1]`` (``"fdr_bh"`` for
    BH, ``"fdr_by"`` for BY), vectorised over many experiments at once.  Reject where the adjusted value is <= alpha.
    """
    p = np.asarray(p, float)
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError("p must hold at least one p-value along its last axis")
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError("p-values must lie in [0, 1]")
    m = p.shape[-1]
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, axis=-1, kind="stable")
    ps = np.take_along_axis(p, order, axis=-1)
    rank = np.arange(1, m + 1)
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum((m - rank + 1) * ps, 1.0), axis=-1)
    elif method in ("bh", "by"):
        scale = m * (np.sum(1.0 / rank) if method == "by" else 1.0)
        adj = np.minimum.accumulate((scale * ps / rank)[..., ::-1], axis=-1)[..., ::-1]
        adj = np.minimum(adj, 1.0)
    else:
        raise ValueError(f"method must be 'bonferroni', 'holm', 'bh' or 'by', got {method!r}")
    out = np.empty_like(adj)
    np.put_along_axis(out, order, adj, axis=-1)
    return out


def benjamini_hochberg(p: np.ndarray, q: float = 0.05) -> np.ndarray:
    """Benjamini-Hochberg step-up (eq. 07.9): reject the k smallest p-values, k = max{i : p_(i) <= i q / m}.

    p: shape (m,) or (n_runs, m); returns a boolean array of the same shape.
    """
    q = _check_alpha(q, "q")
    return adjust_pvalues(p, "bh") <= q


FAMILIES = ("decision", "dashboard")
DEPENDENCE = ("independent", "positive", "arbitrary")


def choose_correction(p, family: str, dependence: str, level: float = 0.05) -> tuple[str, np.ndarray]:
    """The multiple-testing correction a review needs, applied (section 4 of lesson 07).

    family: ``"decision"`` (a handful of metrics that decide the launch: one false positive ships on false
    evidence, so control the family-wise error with Holm, valid under any dependence) or ``"dashboard"``
    (many exploratory metrics: control the false discovery rate, with Benjamini-Hochberg when the p-values
    are independent or positively dependent (PRDS), Benjamini-Yekutieli when the dependence is arbitrary).
    Returns ``(method, reject)``: the statsmodels name (``"holm"``, ``"fdr_bh"``, ``"fdr_by"``) and the boolean
    rejections at ``level``, in the order of ``p``.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if dependence not in DEPENDENCE:
        raise ValueError(f"dependence must be one of {DEPENDENCE}, got {dependence!r}")
    level = _check_alpha(level, "level")
    if family == "decision":
        method = "holm"
    else:
        method = "fdr_by" if dependence == "arbitrary" else "fdr_bh"
    ours = {"holm": "holm", "fdr_bh": "bh", "fdr_by": "by"}[method]
    return method, adjust_pvalues(p, ours) <= level


def simulate_multiple_metrics(n_runs: int, n_metrics: int, n_nonnull: int, shift: float,
                              rng: np.random.Generator, rho: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided p-values of ``n_metrics`` z-tests per experiment, equicorrelated with correlation ``rho``.

    The first ``n_nonnull`` metrics have a true effect whose z statistic has mean ``shift``; ``rho = 0``
    gives independent tests, ``rho > 0`` metrics that move together (a shared factor).
    Returns ``(p, is_null)`` of shapes (n_runs, n_metrics) and (n_metrics,).
    """
    if not 0 <= n_nonnull <= n_metrics:
        raise ValueError(f"n_nonnull must lie in [0, n_metrics={n_metrics}], got {n_nonnull}")
    rho = number("rho", rho, low=0, high=1, high_open=True, hint="the correlation of the metrics' z statistics")
    is_null = np.arange(n_metrics) >= n_nonnull
    noise = rng.standard_normal((n_runs, n_metrics))
    if rho > 0:
        noise = np.sqrt(rho) * rng.standard_normal((n_runs, 1)) + np.sqrt(1 - rho) * noise
    z = noise + np.where(is_null, 0.0, shift)
    return 2 * stats.norm.sf(np.abs(z)), is_null


def error_rates(reject: np.ndarray, is_null: np.ndarray) -> dict[str, float]:
    """Family-wise error rate, false discovery rate (V / max(R, 1)) and power over simulated experiments."""
    reject = np.asarray(reject, bool)
    false = (reject & is_null).sum(axis=-1)
    total = reject.sum(axis=-1)
    nonnull = (~is_null).sum()
    return {
        "fwer": float((false > 0).mean()),
        "fdr": float((false / np.maximum(total, 1)).mean()),
        "power": float((reject & ~is_null).sum(axis=-1).mean() / nonnull) if nonnull else float("nan"),
    }
