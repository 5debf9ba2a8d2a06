"""The true click models of the simulation layer: how a user responds to what is shown.

- single item: ``bernoulli_clicks`` (click ~ Bernoulli(p), lessons 03, 06, 07);
- cascade (Craswell et al. 2008; Kveton et al., "Cascading Bandits", ICML 2015): the user scans the
  slate top-down and clicks the first attractive item, ``cascade_click`` (lesson 03's live loop);
- position-based (Richardson et al. 2007; Joachims et al. 2017): P(click at rank k) = theta_k
  alpha(item), ``examination_probs`` and ``position_based_clicks`` (lesson 06);
- list-wise: ``ListwiseClickModel``, the hook for lesson 09, where the click probability of an item
  depends on the whole slate (diversity, substitution); ``slate_click_probability`` is the exact
  P(some click) of a slate of independent items.

Every function takes its randomness from an ``np.random.Generator`` passed in, never a global one.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from course_lib.validate import integer, number, probabilities

__all__ = ["bernoulli_clicks", "cascade_click", "slate_click_probability", "examination_probs",
           "position_based_clicks", "ListwiseClickModel"]


def bernoulli_clicks(probs, rng: np.random.Generator) -> np.ndarray:
    """Single-item clicks: 0/1 ints, each entry ~ Bernoulli(``probs``), same shape."""
    p = probabilities("probs", probs)
    return (rng.random(p.shape) < p).astype(int)


def cascade_click(probs: np.ndarray, rng: np.random.Generator) -> int:
    """Position clicked in a slate under the cascade model, or -1 for no click.

    The user scans the slate top-down and clicks the first item that attracts them (each with
    its own click probability), then stops (Kveton et al., "Cascading Bandits", ICML 2015).
    """
    hits = rng.random(len(probs)) < probs
    return int(hits.argmax()) if hits.any() else -1


def slate_click_probability(probs: np.ndarray) -> np.ndarray:
    """P(some item of the slate is clicked) = 1 - prod(1 - p_i), over the last axis."""
    return 1.0 - np.prod(1.0 - np.asarray(probs), axis=-1)


def examination_probs(n_positions: int, eta: float = 1.0) -> np.ndarray:
    """Position-based model's examination probabilities theta_k = (1/k)^eta, k = 1..n_positions."""
    n_positions = integer("n_positions", n_positions, low=1)
    eta = number("eta", eta, low=0)
    return (1.0 / np.arange(1, n_positions + 1)) ** eta


def position_based_clicks(attractiveness: np.ndarray, examination: np.ndarray,
                          rng: np.random.Generator) -> np.ndarray:
    """Clicks of the position-based model: P(click at rank k) = theta_k * alpha(item at k).

    attractiveness: (..., L) alpha of the item shown at each of the L ranks; examination: (L,).
    """
    a = probabilities("attractiveness", attractiveness)
    e = probabilities("examination", examination)
    if a.shape[-1] != e.shape[-1]:
        raise ValueError(f"attractiveness has {a.shape[-1]} ranks but examination has {e.shape[-1]}")
    return (rng.random(a.shape) < a * e).astype(float)


@runtime_checkable
class ListwiseClickModel(Protocol):
    """Lesson 09's hook: a click model that sees the whole slate.

    ``click_probabilities(slates)`` takes item ids ``(n, k)`` (best first) and returns the click
    probability of each shown item ``(n, k)`` given everything else on the slate; ``clicks(slates,
    rng)`` draws 0/1 clicks ``(n, k)`` from it.  The cascade and position-based models above are the
    special cases where an item's probability depends only on the items above it or its rank.
    """

    def click_probabilities(self, slates: np.ndarray) -> np.ndarray: ...

    def clicks(self, slates: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...
