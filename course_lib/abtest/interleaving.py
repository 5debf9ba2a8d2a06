"""Lesson 07, going further: Team Draft interleaving to compare two rankers (eq. 07.20).

Team Draft (Radlinski, Kurup and Joachims, "How does clickthrough data reflect retrieval quality?",
CIKM 2008): the two rankers pick like captains choosing teams.  In each round a fair coin decides
which of them picks first; each adds its highest-ranked item not yet in the slate and the item joins
its team.  A ranker with fewer team members always picks next, so after every round both teams have
the same size.  A click credits the team of the clicked item; the ranker with more credited clicks
wins the impression.  Both functions are vectorised over impressions (rows).
"""

from __future__ import annotations

import numpy as np

from course_lib.validate import array, integer

__all__ = ["team_draft_interleave", "team_draft_credit"]


def _rankings(name: str, values) -> np.ndarray:
    raw = np.asarray(values)
    if raw.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer item ids, got dtype {raw.dtype}; pass e.g. np.argsort(-scores)")
    array(name, raw, ndim=(1, 2), hint="pass item ids, best first, one row per impression")
    r = raw.astype(np.int64)
    if r.min() < 0:
        raise ValueError(f"{name} must hold item ids >= 0, got {r.min()}; item ids index the catalogue")
    rows = np.sort(r.reshape(-1, r.shape[-1]), axis=1)
    if (rows[:, 1:] == rows[:, :-1]).any():
        raise ValueError(f"{name} repeats an item within a ranking; each ranking must list distinct items")
    return r


def team_draft_interleave(ranking_a, ranking_b, length: int,
                          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Team Draft interleaving (eq. 07.20) of two rankings into a slate of ``length`` items.

    ranking_a, ranking_b: (L,) or (n, L) integer item ids, best first, over the same items per row
    (L >= length).  Returns ``(slate, team)`` of shape (length,) or (n, length): the interleaved item
    ids and, for each slot, 0 if ranker A contributed it, 1 if ranker B did.
    """
    a, b = _rankings("ranking_a", ranking_a), _rankings("ranking_b", ranking_b)
    if a.shape != b.shape:
        raise ValueError(f"ranking_a and ranking_b must have the same shape, got {a.shape} and {b.shape}; "
                         "rank the same candidate items with both rankers")
    length = integer("length", length, low=1, high=a.shape[-1],
                     hint="the slate cannot be longer than the rankings")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
                        "pass np.random.default_rng(seed)")
    single = a.ndim == 1
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    n, n_items = a.shape[0], int(max(a.max(), b.max())) + 1
    rows = np.arange(n)
    used = np.zeros((n, n_items), bool)
    slate = np.empty((n, length), dtype=a.dtype)
    team = np.empty((n, length), dtype=int)
    a_first = np.zeros(n, bool)
    for slot in range(length):
        if slot % 2 == 0:                      # teams equal in size: a coin decides who picks first
            a_first = rng.random(n) < 0.5
            a_picks = a_first
        else:                                  # the other captain, one member behind, picks next
            a_picks = ~a_first
        ranking = np.where(a_picks[:, None], a, b)
        free = ~used[rows[:, None], ranking]
        item = ranking[rows, free.argmax(axis=1)]
        used[rows, item] = True
        slate[:, slot], team[:, slot] = item, np.where(a_picks, 0, 1)
    return (slate[0], team[0]) if single else (slate, team)


def team_draft_credit(team, clicks) -> np.ndarray:
    """Outcome of each impression under Team Draft credit: +1 ranker A wins, -1 B wins, 0 tie or no click.

    team: (length,) or (n, length) 0/1 team of each slot (from ``team_draft_interleave``); clicks: the same
    shape, 0/1 (or counts) per slot.  A wins when its team collected more clicks.
    """
    t = array("team", team, ndim=(1, 2))
    c = array("clicks", clicks, ndim=(1, 2))
    if t.shape != c.shape:
        raise ValueError(f"team and clicks must have the same shape, got {t.shape} and {c.shape}; "
                         "pass one click indicator per slot of the slate")
    if not np.isin(t, (0, 1)).all():
        raise ValueError("team must hold 0 (ranker A) or 1 (ranker B); pass the team from team_draft_interleave")
    if (c < 0).any():
        raise ValueError(f"clicks must be >= 0, got {c.min()}")
    a_clicks = (c * (t == 0)).sum(axis=-1)
    b_clicks = (c * (t == 1)).sum(axis=-1)
    return np.sign(a_clicks - b_clicks).astype(int)
