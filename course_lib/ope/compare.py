"""Lesson 06's paired comparison of two rankers scored on the same queries: a bootstrap interval and a decision."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.validate import array, integer, number


@dataclass(frozen=True)
class PairedComparison:
    """Mean difference A - B over the queries, its paired bootstrap interval (lo, hi) and the decision."""

    difference: float
    lo: float
    hi: float
    decision: str          # "A better", "B better" or "no evidence"

    def __iter__(self):    # unpacks as (difference, lo, hi, decision)
        return iter((self.difference, self.lo, self.hi, self.decision))


def paired_bootstrap(scores_a, scores_b, rng: np.random.Generator, n_boot: int = 2000,
                     level: float = 0.95) -> PairedComparison:
    """Paired bootstrap of the mean difference d_bar = (1/n) sum_q (A_q - B_q) of two rankers' per-query scores.

    Resample the QUERIES with replacement (the same ones for both rankers, so what the two share cancels),
    take the mean difference of each resample, and read the interval off its quantiles.  The decision names
    a winner only when the interval excludes 0.  ``scores_a``, ``scores_b``: (n,) per-query metric values on
    the same queries; ``rng``: the ``numpy.random.Generator`` that draws the resamples.
    """
    a = array("scores_a", scores_a, ndim=1)
    b = array("scores_b", scores_b, ndim=1)
    if a.shape != b.shape or len(a) < 2:
        raise ValueError(f"scores_a and scores_b must score the same >= 2 queries, got shapes {a.shape} and {b.shape}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    n_boot = integer("n_boot", n_boot, low=100, hint="bootstrap resamples; 1,000 or more for a 95% interval")
    level = number("level", level, low=0, high=1, low_open=True, high_open=True)
    d = a - b
    idx = rng.integers(0, len(d), (n_boot, len(d)))
    lo, hi = np.quantile(d[idx].mean(axis=1), [(1 - level) / 2, (1 + level) / 2])
    decision = "A better" if lo > 0 else "B better" if hi < 0 else "no evidence"
    return PairedComparison(float(d.mean()), float(lo), float(hi), decision)
