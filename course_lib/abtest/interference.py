"""Lesson 07's interference and observational designs: a stochastic block model, cluster randomisation, difference-in-differences."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from course_lib.abtest.cluster import cluster_diff_in_means


def sbm_graph(n_communities: int, community_size: int, p_in: float, p_out: float, seed: int
              ) -> tuple[sparse.csr_array, np.ndarray]:
    """Social graph from a stochastic block model (``networkx.stochastic_block_model``).

    Returns the symmetric adjacency matrix (CSR, shape (n, n)) and each user's community label.
    """
    import networkx as nx

    if not (0 <= p_out <= p_in <= 1):
        raise ValueError(f"need 0 <= p_out <= p_in <= 1 for communities, got p_in={p_in}, p_out={p_out}")
    if n_communities < 2 or community_size < 2:
        raise ValueError("need at least 2 communities of at least 2 users")
    probs = np.full((n_communities, n_communities), p_out)
    np.fill_diagonal(probs, p_in)
    g = nx.stochastic_block_model([community_size] * n_communities, probs.tolist(), seed=seed, sparse=True)
    adj = nx.to_scipy_sparse_array(g, nodelist=range(g.number_of_nodes()), format="csr", dtype=float)
    return adj, np.repeat(np.arange(n_communities), community_size)


def simulate_interference(adj, communities: np.ndarray, design: str, n_runs: int, direct: float,
                          spillover: float, rng: np.random.Generator, community_sd: float = 0.5,
                          noise_sd: float = 1.0) -> dict[str, np.ndarray]:
    """Difference-in-means estimates under interference, for ``"user"`` or ``"cluster"`` randomisation.

    Outcome Y_i = direct T_i + spillover * (share of i's friends treated) + community effect + noise
    (eq. 07.14), so the global effect of treating everyone against no one is direct + spillover.
    Returns ``estimate`` (n_runs,); the exposure contrast of every run, ``indirect_minus_none``
    (n_runs,): mean outcome of control users with at least one treated friend minus that of control
    users with none (NaN when a group is empty), and ``indirect_share`` (n_runs,), the indirect
    users' mean treated-friend share, so the contrast estimates spillover * indirect_share; and, for
    one run's picture, ``treated``, ``friend_share`` and ``outcome`` of the first run, shape (n,).
    Inference per run: ``se_user`` (n_runs,), the user-level Welch standard error (07.1), valid only under
    user randomisation; for ``"cluster"`` also ``cluster_se``, ``cluster_ci_low`` and ``cluster_ci_high``
    (n_runs,), the cluster-level analysis of ``abtest.cluster_diff_in_means`` (eq. 07.19).
    """
    communities = np.asarray(communities)
    n = adj.shape[0]
    if communities.shape != (n,):
        raise ValueError(f"communities needs one label per node ({n}), got shape {communities.shape}")
    labels, comm_idx = np.unique(communities, return_inverse=True)
    if design == "user":
        keys = rng.random((n, n_runs))
        treated = keys < np.median(keys, axis=0)  # complete randomisation, half the users
    elif design == "cluster":
        keys = rng.random((labels.size, n_runs))
        treated = (keys < np.median(keys, axis=0))[comm_idx]
    else:
        raise ValueError(f"design must be 'user' or 'cluster', got {design!r}")
    deg = np.asarray(adj.sum(axis=1)).ravel()
    t = treated.astype(float)
    share = np.divide(adj @ t, deg[:, None], out=np.zeros_like(t), where=deg[:, None] > 0)
    community_effect = community_sd * rng.standard_normal((labels.size, n_runs))[comm_idx]
    y = direct * t + spillover * share + community_effect + noise_sd * rng.standard_normal((n, n_runs))
    est = (y * t).sum(axis=0) / t.sum(axis=0) - (y * (1 - t)).sum(axis=0) / (1 - t).sum(axis=0)
    indirect = (~treated & (share > 0)).astype(float)
    none = (~treated & (share == 0)).astype(float)
    n_ind, n_none = indirect.sum(axis=0), none.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        contrast = (y * indirect).sum(axis=0) / n_ind - (y * none).sum(axis=0) / n_none
        ind_share = (share * indirect).sum(axis=0) / n_ind
    ok = (n_ind > 0) & (n_none > 0)
    n_t = t.sum(axis=0)
    m_t, m_c = (y * t).sum(axis=0) / n_t, (y * (1 - t)).sum(axis=0) / (n - n_t)
    se_user = np.sqrt((((y - m_t) ** 2) * t).sum(axis=0) / (n_t - 1) / n_t
                      + (((y - m_c) ** 2) * (1 - t)).sum(axis=0) / (n - n_t - 1) / (n - n_t))
    extra = {"se_user": se_user}
    if design == "cluster":
        res = cluster_diff_in_means(y, treated, comm_idx)
        extra.update(cluster_se=res.se, cluster_ci_low=res.ci_low, cluster_ci_high=res.ci_high)
    return {**extra, "estimate": est, "indirect_minus_none": np.where(ok, contrast, np.nan),
            "indirect_share": np.where(n_ind > 0, ind_share, np.nan),
            "treated": treated[:, 0], "friend_share": share[:, 0], "outcome": y[:, 0]}


def diff_in_diff(pre_t, post_t, pre_c, post_c) -> float:
    """Difference-in-differences (eq. 07.15): (mean post_T - mean pre_T) - (mean post_C - mean pre_C)."""
    parts = [np.asarray(a, float) for a in (pre_t, post_t, pre_c, post_c)]
    if any(a.size == 0 for a in parts):
        raise ValueError("each of the four periods x groups needs at least one observation")
    m = [a.mean() for a in parts]
    return float((m[1] - m[0]) - (m[3] - m[2]))


def simulate_panel(n_weeks: int, launch_week: int, effect: float, trend_gap: float, rng: np.random.Generator,
                   noise_sd: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Weekly metric of a treated and a control market; the treated one launches at ``launch_week``.

    Both share a seasonal pattern; ``trend_gap`` adds a treated-only linear trend per week, which
    breaks the parallel-trends assumption.  Returns (treated, control), shape (n_weeks,) each.
    """
    if not 0 < launch_week < n_weeks:
        raise ValueError(f"launch_week must lie in (0, n_weeks={n_weeks}), got {launch_week}")
    w = np.arange(n_weeks)
    season = 10 + 0.05 * w + 0.8 * np.sin(2 * np.pi * w / 13)
    control = season + noise_sd * rng.standard_normal(n_weeks)
    treated = season + 1.0 + trend_gap * w + effect * (w >= launch_week) + noise_sd * rng.standard_normal(n_weeks)
    return treated, control
