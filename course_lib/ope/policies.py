"""Lesson 06's logging and target policies as action probabilities, and sampling actions from them.

``softmax(scores, temperature)`` is ``course_lib.numerics.softmax``, re-exported here.
"""

from __future__ import annotations

import numpy as np

from course_lib.numerics import softmax  # noqa: F401  (part of the lesson API)
from course_lib.validate import number


def epsilon_greedy_probs(scores: np.ndarray, epsilon: float) -> np.ndarray:
    """Action probabilities (..., K): 1 - epsilon + epsilon/K on the argmax of ``scores``, epsilon/K elsewhere."""
    epsilon = number("epsilon", epsilon, low=0, high=1)
    s = np.asarray(scores, dtype=float)
    k = s.shape[-1]
    probs = np.full(s.shape, epsilon / k)
    np.put_along_axis(probs, s.argmax(axis=-1)[..., None], 1 - epsilon + epsilon / k, axis=-1)
    return probs


def sample_actions(probs: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one action per entry of ``rows`` from ``probs[rows]`` (probs: (C, K) rows summing to 1).

    Vectorised inverse-CDF sampling over any shape of ``rows`` without building (..., K)
    arrays: the C cumulative rows are laid end to end, row c shifted by c, and one
    ``searchsorted`` finds every action.
    """
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 2:
        raise ValueError(f"probs must be (contexts, actions), got shape {probs.shape}")
    if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-8) or (probs < 0).any():
        raise ValueError("each row of probs must be a probability distribution (>= 0, summing to 1)")
    c, k = probs.shape
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    flat = (cum + np.arange(c)[:, None]).ravel()
    rows = np.asarray(rows)
    u = rows + rng.random(rows.shape)
    idx = np.searchsorted(flat, u, side="right")
    return np.minimum(idx - rows * k, k - 1)
