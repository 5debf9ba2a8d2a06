"""Lesson 08: stateless serving: read the latest model version, score all arms, top k with propensities.

Scores are lesson 03's LinUCB (equation UCB): ``s_a(x) = x^T theta_a + alpha sqrt(x^T A_a^{-1} x)``.
Serving explores with probability ``epsilon`` (a uniformly random arm in the first slot), so every
arm keeps a positive propensity and the log supports off-policy evaluation (lesson 06):
``pi(a|x) = (1 - epsilon) [a = argmax] + epsilon / K``.  With ``epsilon = 0`` propensities are
one-hot, as ``LinUCB.action_probabilities``.  The scorer keeps nothing between requests except a
cache of the model keyed by its version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.streaming.model_store import Model, ModelStore
from course_lib.validate import integer, number

__all__ = ["Recommendation", "Scorer", "ucb_scores"]


def ucb_scores(model: Model, x: np.ndarray) -> np.ndarray:
    """Equation UCB for one context ``x (d,)`` and every arm: shape ``(K,)``."""
    Ax = model.A_inv @ x                      # (K, d)
    return model.theta @ x + model.alpha * np.sqrt(np.maximum(Ax @ x, 0.0))


@dataclass
class Recommendation:
    arms: np.ndarray          # (k,) best first; arms[0] is the one shown in slot 1
    scores: np.ndarray        # (k,) UCB scores of those arms
    propensity: float         # probability that arms[0] was the chosen first arm
    version: int              # model version that produced it


class Scorer:
    """Reads the latest model from a ``ModelStore`` (cached by version) and recommends."""

    def __init__(self, store: ModelStore, epsilon: float = 0.0):
        self.store = store
        self.epsilon = number("epsilon", epsilon, low=0, high=1)
        self._model: Model | None = None

    def model(self) -> Model:
        """The latest version (one GET of the pointer; the blob only when the version changed)."""
        v = self.store.latest_version()
        if v is None:
            raise RuntimeError("no model published yet: run the trainer's refresh first")
        if self._model is None or self._model.version != v:
            self._model = self.store.load(v) or self.store.load()
        return self._model

    def recommend(self, x, k: int = 1, rng: np.random.Generator | None = None) -> Recommendation:
        """Top ``k`` arms for context ``x``; with probability epsilon the first slot is a random arm."""
        m = self.model()
        x = np.asarray(x, dtype=float)
        if x.shape != (m.theta.shape[1],) or not np.isfinite(x).all():
            raise ValueError(f"x must be {m.theta.shape[1]} finite numbers, got shape {x.shape}")
        K = m.theta.shape[0]
        k = integer("k", k, low=1, high=K)
        s = ucb_scores(m, x)
        order = np.argsort(-s, kind="stable")[:k]
        best = int(order[0])
        first = best
        if self.epsilon > 0:
            if rng is None:
                raise ValueError("epsilon > 0 needs an rng (np.random.default_rng(request_seed))")
            if rng.random() < self.epsilon:
                first = int(rng.integers(K))
        if first != best:
            order = np.concatenate([[first], order[order != first]])[:k]
        p = self.epsilon / K + (1 - self.epsilon) * (first == best)
        return Recommendation(order, s[order], float(p), m.version)
