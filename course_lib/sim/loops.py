"""The serving loop of the simulation layer: a policy meets simulated users, one design for every lesson.

``run_loop(world, policy, n_visits, seed, ...)`` serves visits to a world (lesson 03's
``course_lib.sim.world.World`` or anything with its API) with any ``ContextualBandit``
(``course_lib.protocols``): per visit a random user at a random time, the policy's top-``k``
slate for the visit's context, clicks from the cascade model (``course_lib.sim.clicks``; with
``k = 1`` a single Bernoulli click), and the policy learns from the examined items.

Two designs share that loop and its result type ``LoopRun``:

- ``design="live"`` (lesson 03): every visit is served by the policy.
- ``design="ab"`` (lesson 07): each visit is randomised 50/50 on its own, treatment to the policy,
  control to a uniformly random product (``k = 1``); the policy only sees its own arm's traffic.
  Visit times are sorted (a week of traffic in time order).

Visits arrive in batches of ``batch``: the policy chooses for a whole batch with what it knew before
it, then learns from the batch (``batch=1``: learn after every visit).  One seed convention:
``seed`` is an int (or a sequence of ints, as ``np.random.default_rng`` takes), never a Generator;
the random-slate baseline draws from ``default_rng([*seed, 1])``, apart from the loop's stream.
The oracle's probabilities of all visits are computed up front, in one vectorised call.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from course_lib.protocols import ContextualBandit
from course_lib.sim.clicks import slate_click_probability
from course_lib.sim.world import random_timestamps
from course_lib.validate import integer, number, number_array

__all__ = ["LoopRun", "run_loop"]


@dataclass
class LoopRun:
    """Trace of a loop: per visit the user, time, slate shown, clicked product (-1: none), arm of the design."""

    users: np.ndarray       # (n,) user ids
    timestamps: np.ndarray  # (n,) visit times
    shown: np.ndarray       # (n, k) product ids, best first
    clicked: np.ndarray     # (n,) product id or -1
    treated: np.ndarray     # (n,) bool: served by the policy (all True in the live design)
    p_slate: np.ndarray     # (n,) exact probability that the shown slate gets a click
    p_random: np.ndarray    # (n,) same for a uniformly random slate of k distinct products
    p_best: np.ndarray      # (n,) same for the oracle's best slate

    @property
    def clicks(self) -> np.ndarray:
        """0/1 per visit: did the visit end in a click."""
        return (self.clicked >= 0).astype(int)


def _seed_list(seed: Any) -> list[int]:
    if isinstance(seed, np.random.Generator) or isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"seed must be an int (or a sequence of ints), got {type(seed).__name__}; "
                        "the loop makes its own Generator from it")
    if isinstance(seed, Sequence) and not isinstance(seed, str):
        return [integer("seed", s, low=0) for s in seed]
    return [integer("seed", seed, low=0)]


def run_loop(world, policy: ContextualBandit, n_visits: int, seed: int | Sequence[int], *, k: int = 1,
             design: Literal["live", "ab"] = "live", batch: int = 1, new_product_at: int | None = None,
             new_product: dict | None = None, new_arm_features: Any = None, start: str | None = None,
             end: str | None = None, chronological: bool = False) -> LoopRun:
    """Serve ``n_visits`` visits and learn online; see the module docstring for the designs.

    Feedback follows the cascade model: the items above the click (all ``k`` without a click)
    were examined and get reward 0, the clicked one 1, the ones below are not updated.
    With ``new_product_at``, a product (``world.add_product(**new_product)``, on a copy of
    ``world``) arrives before that visit and ``policy.add_arm()`` gives it an arm (cold start);
    ``policy.add_arm(new_arm_features)`` for a policy that needs the product's features (hybrid LinUCB).
    ``start`` and ``end`` (ISO times such as ``"2024-02-05 00:00"``) set the window of visit times; the
    default is Monday 08:00 to Saturday 21:00 (``course_lib.sim.world.random_timestamps``).
    """
    n_visits = integer("n_visits", n_visits, low=1)
    batch = integer("batch", batch, low=1)
    k = integer("k", k, low=1, high=world.n_products)
    if design not in ("live", "ab"):
        raise ValueError(f"design must be 'live' or 'ab', got {design!r}")
    if design == "ab" and (k != 1 or n_visits < 4):
        raise ValueError(f"the A/B design serves one product per visit to at least 4 visits: k must be 1 and "
                         f"n_visits >= 4, got k={k}, n_visits={n_visits}")
    if policy.n_arms != world.n_products:
        raise ValueError(f"the policy has {policy.n_arms} arms but the world {world.n_products} products")
    if policy.n_features != world.context_dim:
        raise ValueError(f"the policy expects {policy.n_features} context features but the world's context has "
                         f"{world.context_dim} (world.context_names); build it with n_features=world.context_dim")
    seeds = _seed_list(seed)
    if new_product_at is not None:
        new_product_at = integer("new_product_at", new_product_at, low=0, high=n_visits - 1)
        if new_product_at % batch:
            raise ValueError(f"new_product_at must start a batch (a multiple of batch={batch}), got {new_product_at}")
    window = {k: v for k, v in (("start", start), ("end", end)) if v is not None}   # default: Monday 08:00 to Saturday 21:00
    rng = np.random.default_rng(seeds)
    if design == "live":
        users = rng.integers(0, world.n_users, n_visits)
        times = random_timestamps(n_visits, rng, **window)
        if chronological:
            order = np.argsort(times, kind="stable")
            users, times = users[order], times[order]
        treated = np.ones(n_visits, dtype=bool)
        control = None
    else:
        times = np.sort(random_timestamps(n_visits, rng, **window))
        users = rng.integers(0, world.n_users, n_visits)
        treated = rng.random(n_visits) < 0.5
        control = rng.integers(0, world.n_products, n_visits)
    n_before = world.n_products
    if new_product_at is not None:
        world = copy.copy(world)
        world.add_product(**(new_product or {}))
    X = world.context(users, times)
    P = world.click_probability(users[:, None], np.arange(world.n_products)[None], times[:, None])
    available = np.full(n_visits, world.n_products)
    if new_product_at is not None:
        available[:new_product_at] = n_before
    shown = np.empty((n_visits, k), dtype=int)
    if control is not None:
        shown[:, 0] = control
    clicked = np.full(n_visits, -1)
    for start in range(0, n_visits, batch):
        rows = np.arange(start, min(start + batch, n_visits))
        if new_product_at is not None and start == new_product_at:
            policy.add_arm() if new_arm_features is None else policy.add_arm(new_arm_features)
        mine = rows[treated[rows]]
        if mine.size:
            shown[mine] = policy.predict(X[mine], k)
        hits = rng.random((len(rows), k)) < P[rows[:, None], shown[rows]]   # cascade: first hit is the click
        pos = np.where(hits.any(axis=1), hits.argmax(axis=1), -1)
        clicked[rows] = np.where(pos >= 0, shown[rows, np.maximum(pos, 0)], -1)
        if not mine.size:
            continue
        arms, rewards, ctx = [], [], []
        for i in np.flatnonzero(treated[rows]):
            t, p = rows[i], pos[i]
            examined = shown[t] if p < 0 else shown[t, : p + 1]
            r = np.zeros(len(examined))
            if p >= 0:
                r[-1] = 1.0
            arms.append(examined)
            rewards.append(r)
            ctx.append(np.broadcast_to(X[t], (len(examined), X.shape[1])))
        policy.partial_fit(np.concatenate(arms), np.concatenate(rewards), np.concatenate(ctx))
    index = np.arange(n_visits)[:, None]
    product = np.arange(world.n_products)[None]
    P_avail = np.where(product < available[:, None], P, 0.0)
    keys = np.random.default_rng([*seeds, 1]).random((n_visits, world.n_products))  # the random policy's slates
    keys[product >= available[:, None]] = 2.0  # not yet in the catalogue
    random_slates = np.argsort(keys, axis=1)[:, :k]
    return LoopRun(users, times, shown, clicked, treated,
                   p_slate=slate_click_probability(P[index, shown]),
                   p_random=slate_click_probability(P[index, random_slates]),
                   p_best=slate_click_probability(np.sort(P_avail, axis=1)[:, -k:]))


@dataclass
class LinearRuns:
    """Trace of R live runs of T visits (``simulate_linear_runs``); arrays lead with (R, T)."""

    users: np.ndarray      # (R, T)
    timestamps: np.ndarray  # (R, T)
    shown: np.ndarray      # (R, T, k) product ids, best first
    clicked_pos: np.ndarray  # (R, T) position clicked, -1 for none
    p_slate: np.ndarray    # (R, T) exact probability that the shown slate gets a click (cascade)
    p_best: np.ndarray     # (R, T) same for the oracle's best slate
    A_inv: np.ndarray      # (R, n_arms, d, d) final inverses
    b: np.ndarray          # (R, n_arms, d)

    @property
    def regret(self) -> np.ndarray:
        """(R, T) cumulative slate regret against the oracle: sum of p_best - p_slate."""
        return np.cumsum(self.p_best - self.p_slate, axis=1)


def simulate_linear_runs(world, n_visits: int, seed: int, *, alpha=0.0, v=0.0, epsilon=0.0,
                         visit_stream=None, k: int = 5, l2_lambda: float = 1.0) -> LinearRuns:
    """R disjoint linear bandits served live at once, from empty models, under the cascade model.

    Run r scores every product by ``x^T theta_a + sqrt(x^T A_a^-1 x) (alpha[r] + v[r] z)`` with
    z ~ N(0, 1) per product: alpha > 0 is LinUCB, v > 0 is LinTS (x^T theta~ with
    theta~ ~ N(theta_a, v^2 A_a^-1) is exactly N(x^T theta_a, v^2 x^T A_a^-1 x)), both 0 is greedy;
    with probability ``epsilon[r]`` the slate is random instead (LinGreedy).  ``alpha``, ``v``,
    ``epsilon``: scalars or length-R arrays (R = the longest).  ``visit_stream[r]`` picks which stream
    of (user, time) visits run r sees (default: its own), so different policies can meet the same
    visitors.  Feedback as in ``live_loop``: reward 1 for the click, 0 for the slots above it.
    """
    n_visits = integer("n_visits", n_visits, low=1)
    k = integer("k", k, low=1, high=world.n_products)
    l2_lambda = number("l2_lambda", l2_lambda, low=0, low_open=True)
    params = [np.atleast_1d(np.asarray(p, dtype=float)) for p in (alpha, v, epsilon)]
    R = max(len(p) for p in params)
    if any(len(p) not in (1, R) for p in params):
        raise ValueError(f"alpha, v and epsilon must be scalars or of one common length, got lengths {[len(p) for p in params]}")
    alpha, v, epsilon = (np.broadcast_to(number_array(n, p, low=0), (R,)) for n, p in zip(("alpha", "v", "epsilon"), params))
    if np.any(epsilon > 1):
        raise ValueError(f"epsilon must lie in [0, 1], got {epsilon.max()}")
    stream = np.arange(R) if visit_stream is None else np.asarray(visit_stream)
    if stream.shape != (R,) or stream.dtype.kind not in "iu" or stream.min() < 0:
        raise ValueError(f"visit_stream must hold {R} non-negative integers (one per run), got {visit_stream!r}")
    N, d = world.n_products, world.context_dim
    rng = np.random.default_rng(seed)
    n_streams = int(stream.max()) + 1
    users = rng.integers(0, world.n_users, (n_streams, n_visits))[stream]
    times = random_timestamps(n_streams * n_visits, rng).reshape(n_streams, n_visits)[stream]
    X = world.context(users, times)                                             # (R, T, d)
    P = world.click_probability(users[..., None], np.arange(N)[None, None], times[..., None])  # (R, T, N)
    A_inv = np.broadcast_to(np.eye(d) / l2_lambda, (R, N, d, d)).copy()
    A_flat = A_inv.reshape(R, N, d * d)                                          # a view: x^T A^-1 x = A_flat . vec(x x^T)
    b = np.zeros((R, N, d))
    theta = np.zeros((R, N, d))
    shown = np.empty((R, n_visits, k), dtype=int)
    clicked_pos = np.full((R, n_visits), -1)
    p_slate = np.empty((R, n_visits))
    rows, slots = np.arange(R)[:, None], np.arange(k)[None]
    for t in range(n_visits):
        x = X[:, t]
        width = np.sqrt(np.maximum((A_flat @ (x[:, :, None] * x[:, None, :]).reshape(R, d * d, 1))[..., 0], 0.0))
        scores = (theta @ x[:, :, None])[..., 0] + width * (alpha[:, None] + v[:, None] * rng.standard_normal((R, N)))
        explore = rng.random(R) < epsilon
        if explore.any():
            scores[explore] = rng.random((int(explore.sum()), N))
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable"), 1)
        probs = P[rows, t, top]                                                  # (R, k)
        hits = rng.random((R, k)) < probs
        clicked = hits.any(axis=1)
        pos = np.where(clicked, hits.argmax(axis=1), k - 1)
        examined = slots <= pos[:, None]
        reward = (slots == pos[:, None]) & clicked[:, None]
        Ak = A_inv[rows, top]                                                    # (R, k, d, d)
        Ax = np.einsum("rkij,rj->rki", Ak, x)
        Ax_scaled = Ax * (examined / (1.0 + np.einsum("rki,ri->rk", Ax, x)))[..., None]
        Ak = Ak - Ax[..., :, None] * Ax_scaled[..., None, :]                     # (SM) on examined slots only
        A_inv[rows, top] = Ak
        bk = b[rows, top] + reward[..., None] * x[:, None, :]
        b[rows, top] = bk
        theta[rows, top] = np.einsum("rkij,rkj->rki", Ak, bk)
        shown[:, t] = top
        clicked_pos[:, t] = np.where(clicked, pos, -1)
        p_slate[:, t] = 1.0 - np.prod(1.0 - probs, axis=1)
    p_best = 1.0 - np.prod(1.0 - np.sort(P, axis=2)[..., -k:], axis=2)
    return LinearRuns(users, times, shown, clicked_pos, p_slate, p_best, A_inv, b)
