"""Lesson 07's multiple testing: adjusted p-values, Benjamini-Hochberg, simulated metrics and error rates."""

from __future__ import annotations

import numpy as np
from scipy import stats

from course_lib.abtest.inference import _check_alpha


def adjust_pvalues(p: np.ndarray, method: str = "bh") -> np.ndarray:
    """Adjusted p-values along the last axis: ``"bonferroni"``, ``"holm"`` or ``"bh"`` (Benjamini-Hochberg).

    Same values as ``statsmodels.stats.multitest.multipletests(p, method=...)[1]`` (``"fdr_bh"`` for
    BH), vectorised over many experiments at once.  Reject where the adjusted value is <= alpha.
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
    elif method == "bh":
        adj = np.minimum.accumulate((m * ps / rank)[..., ::-1], axis=-1)[..., ::-1]
        adj = np.minimum(adj, 1.0)
    else:
        raise ValueError(f"method must be 'bonferroni', 'holm' or 'bh', got {method!r}")
    out = np.empty_like(adj)
    np.put_along_axis(out, order, adj, axis=-1)
    return out


def benjamini_hochberg(p: np.ndarray, q: float = 0.05) -> np.ndarray:
    """Benjamini-Hochberg step-up (eq. 07.9): reject the k smallest p-values, k = max{i : p_(i) <= i q / m}.

    p: shape (m,) or (n_runs, m); returns a boolean array of the same shape.
    """
    q = _check_alpha(q, "q")
    return adjust_pvalues(p, "bh") <= q


def simulate_multiple_metrics(n_runs: int, n_metrics: int, n_nonnull: int, shift: float,
                              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided p-values of ``n_metrics`` independent z-tests per experiment.

    The first ``n_nonnull`` metrics have a true effect whose z statistic has mean ``shift``.
    Returns ``(p, is_null)`` of shapes (n_runs, n_metrics) and (n_metrics,).
    """
    if not 0 <= n_nonnull <= n_metrics:
        raise ValueError(f"n_nonnull must lie in [0, n_metrics={n_metrics}], got {n_nonnull}")
    is_null = np.arange(n_metrics) >= n_nonnull
    z = rng.standard_normal((n_runs, n_metrics)) + np.where(is_null, 0.0, shift)
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
