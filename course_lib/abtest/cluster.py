"""Lesson 07's analysis of cluster-randomised tests: the design effect (eq. 07.18) and the cluster-level t-test (eq. 07.19)."""

from __future__ import annotations

import numpy as np
from scipy import sparse, stats

from course_lib.abtest.inference import ABResult, _check_alpha
from course_lib.validate import number


def design_effect(cluster_size: float, icc: float) -> float:
    """Kish's design effect 1 + (m - 1) ICC: the variance inflation of a cluster-randomised mean (eq. 07.18)."""
    m = number("cluster_size", cluster_size, low=1)
    icc = number("icc", icc, low=0, high=1, hint="the intra-cluster correlation, between 0 and 1")
    return 1 + (m - 1) * icc


def cluster_diff_in_means(y, treated, clusters, alpha: float = 0.05) -> ABResult:
    """Cluster-level analysis of a cluster-randomised test (eq. 07.19): Welch's t-test on the cluster means.

    The clusters, not the users, are the independent units: each cluster's mean outcome is one observation,
    so the standard error counts the clusters (t with Welch-Satterthwaite degrees of freedom).  The estimate
    is the difference of the mean cluster means (each cluster weighted equally; with equal sizes it equals
    the user-level difference in means).  y, treated: (n_users,) or (n_users, n_runs) for many
    randomisations of the same clusters; clusters: (n_users,) labels; treatment must be constant in a cluster.
    """
    alpha = _check_alpha(alpha)
    y = np.asarray(y, dtype=float)
    t = np.asarray(treated)
    labels = np.asarray(clusters)
    if y.shape != t.shape or y.shape[:1] != labels.shape or y.ndim not in (1, 2):
        raise ValueError(f"need y and treated of shape (n_users,) or (n_users, n_runs) and clusters (n_users,); "
                         f"got {y.shape}, {t.shape}, {labels.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite values; drop or impute them first")
    _, idx = np.unique(labels, return_inverse=True)
    g = idx.max() + 1
    size = np.bincount(idx, minlength=g).astype(float)
    y2, t2 = y.reshape(len(y), -1), t.reshape(len(t), -1).astype(float)
    M = sparse.csr_array((np.ones(len(idx)) / size[idx], (idx, np.arange(len(idx)))), shape=(g, len(idx)))
    ybar, tbar = M @ y2, M @ t2                                    # (clusters, runs)
    if np.any((tbar > 1e-9) & (tbar < 1 - 1e-9)):
        raise ValueError("treatment varies inside a cluster: cluster randomisation assigns whole clusters")
    tc = tbar > 0.5
    n_t, n_c = tc.sum(axis=0), (~tc).sum(axis=0)
    if np.any(n_t < 2) or np.any(n_c < 2):
        raise ValueError("each arm needs at least 2 clusters for a cluster-level standard error")
    m_t = np.where(tc, ybar, 0).sum(axis=0) / n_t
    m_c = np.where(~tc, ybar, 0).sum(axis=0) / n_c
    v_t = (np.where(tc, ybar - m_t, 0) ** 2).sum(axis=0) / (n_t - 1) / n_t
    v_c = (np.where(~tc, ybar - m_c, 0) ** 2).sum(axis=0) / (n_c - 1) / n_c
    est, se = m_t - m_c, np.sqrt(v_t + v_c)
    df = (v_t + v_c) ** 2 / (v_t**2 / (n_t - 1) + v_c**2 / (n_c - 1))
    q = stats.t.isf(alpha / 2, df)
    stat = est / se
    p = 2 * stats.t.sf(np.abs(stat), df)
    one = y.ndim == 1
    f = (lambda a: float(a[0])) if one else np.asarray  # noqa: E731
    return ABResult(f(est), f(se), f(est - q * se), f(est + q * se), f(p), f(stat))
