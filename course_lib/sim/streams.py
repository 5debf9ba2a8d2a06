"""Synthetic event streams with a known click model, for lesson 01 (and the streaming lesson).

Every stream is generated from a seed and carries the true click probability of each event,
so a lesson can compare a learner's loss with the best achievable (the oracle's) loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from course_lib.numerics import sigmoid


@dataclass
class ClickStream:
    """Hashed sparse click events: ``X`` (CSR, n_events x 2**n_bits), labels, truth and raw fields."""

    X: sp.csr_matrix
    y: np.ndarray
    p_true: np.ndarray
    item: np.ndarray            # item id of each event (Zipf-distributed: a few hits, a long rare tail)
    item_seen_before: np.ndarray  # how many earlier events showed the same item
    fields: dict[str, np.ndarray]


FIELDS = {"segment": 24, "category": 20, "hour": 24, "device": 3}


def make_click_stream(n_events: int, n_items: int = 5000, n_bits: int = 16, zipf_a: float = 1.1,
                      item_scale: float = 1.2, seed: int = 0) -> ClickStream:
    """A stationary ad-click stream with hashed one-hot features ``field=value``.

    True model: logit = -1.6 + segment + category + hour + device + item effects.  Item effects
    are large (sd ``item_scale``) and item popularity is Zipf(``zipf_a``), so most items are rare:
    the features that carry the most signal are the ones seen least, where AdaGrad's
    per-coordinate rates help.  Features are hashed with scikit-learn's ``FeatureHasher``.
    """
    from sklearn.feature_extraction import FeatureHasher

    if n_events < 1 or n_items < 1:
        raise ValueError(f"n_events and n_items must be >= 1, got {n_events} and {n_items}")
    if not 8 <= n_bits <= 24:
        raise ValueError(f"n_bits must be between 8 and 24, got {n_bits}")
    rng = np.random.default_rng(seed)
    effects = {f: rng.normal(0, 0.5, k) for f, k in FIELDS.items()}
    item_effect = rng.normal(0, item_scale, n_items)
    fields = {f: rng.integers(0, k, n_events) for f, k in FIELDS.items()}
    ranks = np.arange(1, n_items + 1, dtype=float)
    pop = ranks ** -zipf_a
    item = rng.choice(n_items, size=n_events, p=pop / pop.sum())
    logit = -1.6 + item_effect[item] + sum(effects[f][v] for f, v in fields.items())
    p = sigmoid(logit)
    y = (rng.uniform(size=n_events) < p).astype(float)
    tokens = [[f"{f}={fields[f][i]}" for f in FIELDS] + [f"item={item[i]}"] for i in range(n_events)]
    X = FeatureHasher(n_features=2 ** n_bits, input_type="string", alternate_sign=False).transform(tokens)
    order = np.argsort(item, kind="stable")
    seen = np.empty(n_events, dtype=int)
    _, starts, counts = np.unique(item[order], return_index=True, return_counts=True)
    seen[order] = np.arange(n_events) - np.repeat(starts, counts)
    fields["item"] = item
    return ClickStream(X.tocsr(), y, p, item, seen, fields)


@dataclass
class DriftStream:
    """Dense context features whose click model changes at ``drift_at``: the hiking-gear shift."""

    X: np.ndarray          # (n_streams, n_events, n_features)
    y: np.ndarray          # (n_streams, n_events)
    p_true: np.ndarray     # (n_streams, n_events)
    drift_at: int
    feature_names: list[str]
    w_before: np.ndarray
    w_after: np.ndarray


DRIFT_FEATURES = ["hiking_item", "city_item", "beach_item", "afternoon", "mobile", "returning", "price", "discount"]


def make_drift_stream(n_events: int, drift_at: int | None = None, n_streams: int = 1, seed: int = 0) -> DriftStream:
    """Sessions where the user's taste flips at ``drift_at`` (default: half-way).

    Before the change hiking items are clicked less than city items; after it (the user has
    started planning a hike) hiking items are clicked much more and city items less.  The other
    features keep their effect.  ``n_streams`` independent streams are drawn at once.
    """
    if n_events < 2:
        raise ValueError(f"n_events must be >= 2, got {n_events}")
    drift_at = n_events // 2 if drift_at is None else int(drift_at)
    if not 0 < drift_at < n_events:
        raise ValueError(f"drift_at must lie inside the stream (0 < drift_at < {n_events}), got {drift_at}")
    rng = np.random.default_rng(seed)
    S, T = n_streams, n_events
    kind = rng.integers(0, 3, (S, T))
    X = np.zeros((S, T, len(DRIFT_FEATURES)))
    X[:, :, 0] = kind == 0
    X[:, :, 1] = kind == 1
    X[:, :, 2] = kind == 2
    X[:, :, 3] = rng.uniform(size=(S, T)) < 0.4
    X[:, :, 4] = rng.uniform(size=(S, T)) < 0.6
    X[:, :, 5] = rng.uniform(size=(S, T)) < 0.3
    X[:, :, 6] = rng.normal(0, 1, (S, T))
    X[:, :, 7] = rng.uniform(size=(S, T)) < 0.2
    #                    hiking city  beach  aftn  mobile ret  price disc
    w_before = np.array([-1.5, 0.5, -0.5, 0.2, -0.3, 0.6, -0.4, 0.5])
    w_after = np.array([1.2, -1.5, -0.5, 0.2, -0.3, 0.6, -0.4, 0.5])
    bias = -1.0
    logit = np.where(np.arange(T)[None, :] < drift_at, X @ w_before, X @ w_after) + bias
    p = sigmoid(logit)
    y = (rng.uniform(size=(S, T)) < p).astype(float)
    return DriftStream(X, y, p, drift_at, list(DRIFT_FEATURES), w_before, w_after)


def make_regression_stream(n_events: int, n_features: int = 4, noise: float = 1.0, seed: int = 0
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dwell time in seconds as a noisy linear function of standardised features: (X, y, true weights)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 2, n_features)
    X = rng.normal(0, 1, (n_events, n_features))
    y = 30.0 + X @ w + rng.normal(0, noise, n_events)
    return X, y, np.append(w, 30.0)
