"""Lesson 06: offline ranking and calibration metrics for recommenders.

Classification: AUC and log-loss (delegated to scikit-learn after validation).  Ranking, for
a batch of queries scored over the same candidate items (arrays of shape (n_queries, n_items)):
NDCG@k with gains 2^rel - 1 and log2 discounts (Jarvelin and Kekalainen, "Cumulated gain-based
evaluation of IR techniques", ACM TOIS 2002; Burges et al., ICML 2005), MAP@k, MRR, hit rate@k,
recall@k and precision@k.  Calibration: expected calibration error and the data of a
reliability diagram (Naeini, Cooper and Hauskrecht, AAAI 2015; Guo et al., ICML 2017).

Ties in scores are broken by item index (a stable sort), so every ranking is well defined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.validate import array, binary



def _scores(name: str, s, shape=None) -> np.ndarray:
    a = array(name, s)
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name} has shape {a.shape}, expected {shape} (one value per label)")
    return a


# --------------------------------------------------------------------------------------------
# Pointwise metrics
# --------------------------------------------------------------------------------------------
def auc(y_true, y_score) -> float:
    """Area under the ROC curve: P(score of a random click > score of a random non-click), ties count 1/2."""
    from sklearn.metrics import roc_auc_score

    y = binary("y_true", y_true)
    s = _scores("y_score", y_score, y.shape)
    if y.min() == y.max():
        raise ValueError("AUC needs both clicks and non-clicks in y_true")
    return float(roc_auc_score(y, s))


def log_loss(y_true, y_prob, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood -mean(y log p + (1 - y) log(1 - p)), probabilities clipped to [eps, 1 - eps]."""
    from sklearn.metrics import log_loss as sk_log_loss

    y = binary("y_true", y_true)
    p = _scores("y_prob", y_prob, y.shape)
    if (p < 0).any() or (p > 1).any():
        raise ValueError("y_prob must be probabilities in [0, 1]")
    return float(sk_log_loss(y, np.clip(p, eps, 1 - eps), labels=[0, 1]))


# --------------------------------------------------------------------------------------------
# Ranking metrics
# --------------------------------------------------------------------------------------------
def _ranking(relevance, scores, k: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    rel = np.atleast_2d(np.asarray(relevance, dtype=float))
    if rel.size == 0 or np.isnan(rel).any() or (rel < 0).any():
        raise ValueError("relevance must be a non-empty array of non-negative grades (0 = irrelevant)")
    s = np.atleast_2d(_scores("scores", scores))
    if s.shape != rel.shape:
        raise ValueError(f"scores {s.shape} and relevance {rel.shape} must have the same shape (queries, items)")
    n_items = rel.shape[1]
    if k is None:
        k = n_items
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k must be a positive integer, got {k!r}")
    k = min(int(k), n_items)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(rel, order, axis=1), rel, k


def dcg_at_k(ranked_relevance, k: int) -> np.ndarray:
    """DCG@k = sum_{i=1..k} (2^rel_i - 1) / log2(i + 1) of relevance already in ranked order (..., L)."""
    r = np.asarray(ranked_relevance, dtype=float)[..., :k]
    return ((2.0**r - 1.0) / np.log2(np.arange(2, r.shape[-1] + 2))).sum(axis=-1)


def ndcg_at_k(relevance, scores, k: int | None = 10) -> float:
    """NDCG@k = DCG@k of the ranking by ``scores`` / DCG@k of the ideal ranking, averaged over queries.

    relevance, scores: (n_queries, n_items) or (n_items,).  Queries with no relevant item count 0.
    """
    ranked, rel, k = _ranking(relevance, scores, k)
    ideal = dcg_at_k(-np.sort(-rel, axis=1), k)
    dcg = dcg_at_k(ranked, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1), 0.0).mean())


def precision_at_k(relevance, scores, k: int) -> float:
    """Fraction of the top k that is relevant (rel > 0), averaged over queries."""
    ranked, _, k = _ranking(relevance, scores, k)
    return float((ranked > 0).sum(axis=1).mean() / k)


def recall_at_k(relevance, scores, k: int) -> float:
    """Fraction of a query's relevant items found in its top k, averaged over queries with any relevant item."""
    ranked, rel, _ = _ranking(relevance, scores, k)
    n_rel = (rel > 0).sum(axis=1)
    keep = n_rel > 0
    if not keep.any():
        raise ValueError("recall needs at least one query with a relevant item")
    return float(((ranked > 0).sum(axis=1)[keep] / n_rel[keep]).mean())


def hit_rate_at_k(relevance, scores, k: int) -> float:
    """Fraction of queries with at least one relevant item in the top k."""
    ranked, _, _ = _ranking(relevance, scores, k)
    return float((ranked > 0).any(axis=1).mean())


def mrr(relevance, scores) -> float:
    """Mean reciprocal rank of the first relevant item (0 for a query with none)."""
    ranked, _, _ = _ranking(relevance, scores, None)
    hit = ranked > 0
    first = hit.argmax(axis=1)
    return float(np.where(hit.any(axis=1), 1.0 / (first + 1), 0.0).mean())


def map_at_k(relevance, scores, k: int | None = None) -> float:
    """Mean average precision: per query sum_{i<=k} P@i * rel_i / min(k, #relevant), averaged over queries with any relevant item."""
    ranked, rel, k = _ranking(relevance, scores, k)
    hit = (ranked > 0).astype(float)
    prec = np.cumsum(hit, axis=1) / np.arange(1, k + 1)
    n_rel = np.minimum((rel > 0).sum(axis=1), k)
    keep = n_rel > 0
    if not keep.any():
        raise ValueError("MAP needs at least one query with a relevant item")
    return float(((prec * hit).sum(axis=1)[keep] / n_rel[keep]).mean())


# --------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reliability:
    """Reliability-diagram data over equal-width bins of predicted probability.

    ``mean_pred`` and ``frac_pos`` hold the mean prediction and the observed click rate of each
    non-empty bin, ``count`` its size; ``ece`` = sum_b (n_b / n) |frac_pos_b - mean_pred_b|.
    """

    edges: np.ndarray
    mean_pred: np.ndarray
    frac_pos: np.ndarray
    count: np.ndarray
    ece: float


def reliability(y_true, y_prob, n_bins: int = 10) -> Reliability:
    """Bin predictions into ``n_bins`` equal-width bins on [0, 1] (the last bin closed) and compare with outcomes."""
    y = binary("y_true", y_true).ravel()
    p = _scores("y_prob", y_prob, np.shape(y_true)).ravel()
    if (p < 0).any() or (p > 1).any():
        raise ValueError("y_prob must be probabilities in [0, 1]")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    b = np.clip(np.searchsorted(edges[1:-1], p, side="right"), 0, n_bins - 1)
    count = np.bincount(b, minlength=n_bins)
    sp = np.bincount(b, weights=p, minlength=n_bins)
    sy = np.bincount(b, weights=y, minlength=n_bins)
    nz = count > 0
    mean_pred, frac_pos = sp[nz] / count[nz], sy[nz] / count[nz]
    ece = float((count[nz] * np.abs(frac_pos - mean_pred)).sum() / len(p))
    return Reliability(edges, mean_pred, frac_pos, count[nz], ece)


def expected_calibration_error(y_true, y_prob, n_bins: int = 10) -> float:
    """ECE = sum_b (n_b / n) |observed click rate_b - mean prediction_b| over equal-width bins."""
    return reliability(y_true, y_prob, n_bins).ece


# --------------------------------------------------------------------------------------------
# Exercise reference (the checker: course_lib.notebook.checks.lesson06)
# --------------------------------------------------------------------------------------------
def ndcg_one(relevance, scores, k: int) -> float:
    """Reference for the NDCG exercise: NDCG@k of one query (1-D relevance and scores)."""
    return ndcg_at_k(np.asarray(relevance)[None], np.asarray(scores)[None], k)


