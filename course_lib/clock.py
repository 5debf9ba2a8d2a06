"""Lesson 05: the Interest Clock, time-aware user interests in a streaming recommender.

Zhu, Chen, Chen, Li, Zhang and Liu, "Interest Clock: Time Perception in Real-Time Streaming
Recommendation System", SIGIR 2024.  Every model keeps per-user state updated one event at a time
(vectorised over a batch of events of many users) and is read at a request hour ``h``.

Equations, numbered as in the lesson:
  (5.1) circular hour distance   d(h, t) = min(|h - t| mod 24, 24 - |h - t| mod 24)
  (5.2) Gaussian weight          g(d) = exp(-d^2 / (2 sigma^2)) / (sqrt(2 pi) sigma), normalised
                                 over the 24 hours: w(h, t) = g(d(h, t)) / sum_t' g(d(h, t'))
  (5.3) the clock                N_u[t, c] = engagements of user u with category c at hour t over
                                 the last ``window_days`` days (top-k categories per hour kept)
  (5.4) reading the clock        v_u(h) = sum_t w(h, t) N_u[t]        (the paper's v_clock, eq. 1)
  (5.5) bucketed clock (the seed's tutorial version): B_u[h] <- (1 - alpha) B_u[h] + alpha e_c,
                                 every ``decay_every`` hours B <- gamma B; read B_u[h] alone
  (5.6) non-temporal profile     P_u[c] <- P_u[c] 2^(-dt / half_life) + [c = c_event]
  (5.7) back-off to a distribution  p(c) = (v[c] + m q[c]) / (sum v + m)

Circular hour arithmetic lives in this module only.  Hours are local clock hours in [0, 24); time
zones and daylight saving are out of scope.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from course_lib.validate import integer, number, number_array

__all__ = [
    "HOURS", "circular_distance", "gaussian_weights", "weight_matrix", "read_clock", "read_clock_loop",
    "InterestClock", "PopulationClock", "BucketClock", "UserProfile", "progressive_read", "backoff_distribution", "user_bootstrap_ci",
    "rank_hits", "request_auc", "total_variation", "ranker_features", "progressive_ranker", "hour_model_beliefs",
]

HOURS = 24


# --------------------------------------------------------------------------- circular hours

def _hours(name: str, hours, integral: bool = False) -> np.ndarray:
    arr = number_array(name, hours, low=0, high=HOURS, high_open=True,
                       hint="hours are local clock hours: 0 <= hour < 24 (wrap 24 to 0 with hour % 24)")
    if integral and np.any(arr != np.floor(arr)):
        raise ValueError(f"{name} must be whole hours 0..23 (the clock has one bucket per hour); "
                         "use np.floor(hour) first")
    return arr


def circular_distance(h, t) -> np.ndarray:
    """Eq. (5.1): hours between clock hours ``h`` and ``t`` the short way round (23 and 0 are 1 apart)."""
    diff = np.abs(_hours("h", h) - _hours("t", t)) % HOURS
    return np.minimum(diff, HOURS - diff)


def gaussian_weights(sigma: float = 1.0) -> np.ndarray:
    """Eq. (5.2): weight of an hour at circular distance 0..12 from the request hour, shape (13,).

    The Gaussian density with mean 0 and standard deviation ``sigma``, normalised so that the 24
    hours of the clock sum to 1.  For sigma = 1 the first four are 0.399, 0.242, 0.054, 0.004.
    """
    sigma = number("sigma", sigma, low=0, low_open=True, hint="sigma is the width in hours, e.g. 1.0")
    d = np.arange(HOURS // 2 + 1, dtype=float)
    g = np.exp(-d**2 / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma)
    total = g[0] + 2 * g[1:HOURS // 2].sum() + g[HOURS // 2]     # the 24 hours: d = 0, +-1..+-11, 12
    return g / total


def weight_matrix(sigma: float = 1.0) -> np.ndarray:
    """W[h, t] = w(h, t) of eq. (5.2), shape (24, 24); every row sums to 1."""
    h = np.arange(HOURS)
    return gaussian_weights(sigma)[circular_distance(h[:, None], h[None, :]).astype(int)]


def _top_k(counts: np.ndarray, top_k: int | None) -> np.ndarray:
    """Keep the ``top_k`` largest categories of every hour, zero the rest (ties: lowest index first)."""
    if top_k is None or top_k >= counts.shape[-1]:
        return counts
    order = np.argsort(-counts, axis=-1, kind="stable")
    keep = np.zeros(counts.shape, dtype=bool)
    np.put_along_axis(keep, order[..., :top_k], True, axis=-1)
    return np.where(keep, counts, 0)


def read_clock(counts, hours, sigma: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """Eq. (5.4) for a batch: ``counts`` (n, 24, C) clocks, ``hours`` (n,) -> smoothed (n, C)."""
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 3 or counts.shape[1] != HOURS:
        raise ValueError(f"counts must have shape (n, 24, n_categories), got {counts.shape}")
    if np.any(counts < 0):
        raise ValueError("counts must be >= 0: a clock counts engagements")
    hours = _hours("hours", hours, integral=True).astype(int)
    if hours.shape != (counts.shape[0],):
        raise ValueError(f"hours must have shape ({counts.shape[0]},), one per clock, got {hours.shape}")
    if top_k is not None:
        top_k = integer("top_k", top_k)
    return np.einsum("nt,ntc->nc", weight_matrix(sigma)[hours], _top_k(counts, top_k))


def read_clock_loop(counts, hours, sigma: float = 1.0) -> np.ndarray:
    """Eq. (5.4) written as plain loops over clocks, hours and categories (the brute-force reference)."""
    w = gaussian_weights(sigma)
    out = np.zeros((len(counts), len(counts[0][0])))
    for i, (clock, h) in enumerate(zip(counts, hours)):
        for t in range(HOURS):
            d = min(abs(int(h) - t) % HOURS, HOURS - abs(int(h) - t) % HOURS)
            for c in range(len(clock[t])):
                out[i, c] += w[d] * clock[t][c]
    return out


# --------------------------------------------------------------------------- shared helpers

def backoff_distribution(evidence, backoff, strength: float) -> np.ndarray:
    """Eq. (5.7): p = (v + m q) / (sum v + m), rows of ``evidence`` (n, C) backed off to ``backoff``."""
    v = np.asarray(evidence, dtype=float)
    q = np.broadcast_to(np.asarray(backoff, dtype=float), v.shape)
    m = number("strength", strength, low=0, low_open=True, hint="a pseudo-count such as 1.0")
    return (v + m * q) / (v.sum(axis=1, keepdims=True) + m)


class _PerUserState:
    n_users: int
    n_categories: int

    def _events(self, users, hours, categories, times):
        users = np.asarray(users)
        if users.dtype.kind not in "iu":
            raise TypeError(f"users must be integer ids, got dtype {users.dtype}")
        if users.size and (users.min() < 0 or users.max() >= self.n_users):
            bad = users[(users < 0) | (users >= self.n_users)][0]
            raise ValueError(f"unknown user {bad}: ids must be 0..{self.n_users - 1}; "
                             "create the model with a larger n_users")
        hours = _hours("hours", hours, integral=True).astype(np.int64).reshape(users.shape)
        categories = np.asarray(categories)
        if categories.dtype.kind not in "iu" or (categories.size and (
                categories.min() < 0 or categories.max() >= self.n_categories)):
            raise ValueError(f"categories must be integer ids 0..{self.n_categories - 1}")
        times = number_array("times", times, low=0).reshape(users.shape)
        if times.size and (np.any(np.diff(times) < 0) or times[0] < self.now):
            raise ValueError("times must be non-decreasing and not before the last update: "
                             "feed the stream in time order")
        return users, hours, categories.astype(np.int64).reshape(users.shape), times

    def _users(self, users) -> np.ndarray:
        users = np.asarray(users)
        if users.dtype.kind not in "iu" or (users.size and (users.min() < 0 or users.max() >= self.n_users)):
            raise ValueError(f"users must be integer ids 0..{self.n_users - 1}")
        return users

    def state_dict(self) -> dict[str, Any]:
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(self).items()}

    def load_state_dict(self, state: Mapping[str, Any]):
        for k, v in state.items():
            setattr(self, k, np.array(v) if isinstance(v, np.ndarray) else v)
        return self


# --------------------------------------------------------------------------- the paper's clock

class InterestClock(_PerUserState):
    """Eqs. (5.3)-(5.4): per-user hour clocks of category counts over a sliding window of days.

    ``update`` adds a batch of events (in time order) and drops events older than ``window_days``;
    ``read(users, hours)`` returns the Gaussian-smoothed clock (n, C).  State: ``counts`` (U, 24, C)
    float32 plus a first-in-first-out log of the events still inside the window (12 bytes each),
    which is what lets an exact window forget.  ``window_days=None`` keeps everything.
    """

    def __init__(self, n_users: int, n_categories: int, window_days: float | None = 30.0,
                 sigma: float = 1.0, top_k: int | None = None):
        self.n_users = integer("n_users", n_users)
        self.n_categories = integer("n_categories", n_categories)
        self.window_days = None if window_days is None else number("window_days", window_days, low=0,
                                                                   low_open=True)
        self.sigma = number("sigma", sigma, low=0, low_open=True)
        self.top_k = None if top_k is None else integer("top_k", top_k)
        self._w = None
        self.counts = np.zeros((self.n_users, HOURS, self.n_categories), dtype=np.float32)
        # the in-window event log, first in first out: entries head..tail of three buffers
        self.log_user = np.zeros(1024, dtype=np.int32)
        self.log_cell = np.zeros(1024, dtype=np.int32)   # hour * C + category
        self.log_time = np.zeros(1024, dtype=np.float32)
        self.head = 0
        self.tail = 0
        self.now = 0.0

    def _add(self, users, cells, sign: float) -> None:
        flat = self.counts.reshape(self.n_users, -1)
        np.add.at(flat, (users, cells), sign)

    def update(self, users, hours, categories, times) -> InterestClock:
        """Count a batch of events (user, hour, category, time in hours), then forget expired ones."""
        return self._update(*self._events(users, hours, categories, times))

    def _update(self, users, hours, cats, times) -> InterestClock:
        cells = (hours * self.n_categories + cats).astype(np.int32)
        self._add(users, cells, 1.0)
        if times.size:
            self.now = float(times[-1])
        if self.window_days is not None:
            self._append(users, cells, times)
            self.expire(self.now)
        return self

    def _append(self, users, cells, times) -> None:
        n, live = len(users), self.tail - self.head
        if self.tail + n > len(self.log_time):           # compact, and double the buffers if still full
            cap = max(len(self.log_time), 2 * (live + n))
            for name in ("log_user", "log_cell", "log_time"):
                old = getattr(self, name)
                new = np.empty(cap, dtype=old.dtype)
                new[:live] = old[self.head:self.tail]
                setattr(self, name, new)
            self.head, self.tail = 0, live
        a, b = self.tail, self.tail + n
        self.log_user[a:b], self.log_cell[a:b], self.log_time[a:b] = users, cells, times
        self.tail = b

    def expire(self, now: float) -> InterestClock:
        """Drop events older than ``now - window_days * 24`` hours from the counts."""
        if self.window_days is None:
            return self
        h, t = self.head, self.tail
        cut = h + int(np.searchsorted(self.log_time[h:t], np.float32(now - self.window_days * HOURS),
                                             side="left"))
        if cut > h:
            self._add(self.log_user[h:cut], self.log_cell[h:cut], -1.0)
            self.head = cut
        return self

    def read(self, users, hours, sigma: float | None = None) -> np.ndarray:
        """Eq. (5.4): the smoothed clock of each (user, hour), shape (n, C)."""
        users = self._users(users)
        return read_clock(self.counts[users], hours, self.sigma if sigma is None else sigma, self.top_k)

    def _read(self, users, hours) -> np.ndarray:
        if self._w is None:
            self._w = weight_matrix(self.sigma)
        return np.einsum("nt,ntc->nc", self._w[hours], _top_k(self.counts[users], self.top_k))

    def totals(self, users) -> np.ndarray:
        """Each user's in-window counts summed over the 24 hours, (n, C)."""
        return self.counts[self._users(users)].sum(axis=1)

    def memory_bytes(self) -> int:
        """Bytes of state: the clocks plus the in-window event log."""
        live = self.tail - self.head
        return int(self.counts.nbytes + live * (4 + 4 + 4))


# --------------------------------------------------------------------------- the seed's bucketed clock

class BucketClock(_PerUserState):
    """Eq. (5.5): 24 running-average buckets per user, a global decay every ``decay_every`` hours.

    The request hour reads its own bucket alone.  State: ``buckets`` (U, 24, C) float32.
    """

    def __init__(self, n_users: int, n_categories: int, alpha: float = 0.1, decay: float = 0.98,
                 decay_every: float = 24.0):
        self.n_users = integer("n_users", n_users)
        self.n_categories = integer("n_categories", n_categories)
        self.alpha = number("alpha", alpha, low=0, high=1, low_open=True)
        self.decay = number("decay", decay, low=0, high=1, low_open=True)
        self.decay_every = number("decay_every", decay_every, low=0, low_open=True)
        self.buckets = np.zeros((self.n_users, HOURS, self.n_categories), dtype=np.float32)
        self.now = 0.0
        self.periods = 0

    def update(self, users, hours, categories, times) -> BucketClock:
        """Apply the periodic decays due by the batch's last time, then the running averages."""
        return self._update(*self._events(users, hours, categories, times))

    def _update(self, users, hours, cats, times) -> BucketClock:
        if not times.size:
            return self
        periods = int(times[-1] // self.decay_every)
        if periods > self.periods:   # the seed's global decay job: all users at once
            self.buckets *= np.float32(self.decay ** (periods - self.periods))
            self.periods = periods
        self.now = float(times[-1])
        a = self.alpha
        # repeated (user, hour) pairs in one batch are applied in time order:
        # n events e_1..e_n give B <- (1-a)^n B + sum_i a (1-a)^(n-i) e_(c_i)
        key = users * HOURS + hours
        order = np.argsort(key, kind="stable")
        key_s = key[order]
        first = np.r_[True, key_s[1:] != key_s[:-1]]
        group = np.cumsum(first) - 1
        start = np.flatnonzero(first)
        size = np.diff(np.r_[start, len(key_s)])
        rank = np.arange(len(key_s)) - start[group]             # 0 = oldest event of the pair
        after = size[group] - 1 - rank                           # events of the pair after this one
        flat = self.buckets.reshape(-1, self.n_categories)
        rows = key_s[first]
        flat[rows] *= np.float32((1 - a)) ** size.astype(np.float32)[:, None]
        np.add.at(flat, (key_s, cats[order]), (a * (1 - a) ** after).astype(np.float32))
        return self

    def read(self, users, hours) -> np.ndarray:
        """The bucket of each request hour, (n, C)."""
        users = self._users(users)
        return self._read(users, _hours("hours", hours, integral=True).astype(int))

    def _read(self, users, hours) -> np.ndarray:
        return self.buckets[users, hours].astype(float)

    def memory_bytes(self) -> int:
        return int(self.buckets.nbytes)


# --------------------------------------------------------------------------- non-temporal profile

class UserProfile(_PerUserState):
    """Eq. (5.6): one category-count vector per user, optionally decayed with a half-life in hours.

    ``half_life=None`` keeps plain counts.  The decay is applied lazily per user (its last update
    time is stored), so an update touches only that user's row.  State: (U, C) float64 + (U,) times.
    """

    def __init__(self, n_users: int, n_categories: int, half_life: float | None = None):
        self.n_users = integer("n_users", n_users)
        self.n_categories = integer("n_categories", n_categories)
        self.half_life = None if half_life is None else number("half_life", half_life, low=0, low_open=True)
        self.counts = np.zeros((self.n_users, self.n_categories))
        self.last = np.zeros(self.n_users)
        self.now = 0.0

    def _factor(self, users, t) -> np.ndarray:
        if self.half_life is None:
            return np.ones(len(users))
        return np.exp2(-(t - self.last[users]) / self.half_life)

    def update(self, users, hours, categories, times) -> UserProfile:
        return self._update(*self._events(users, hours, categories, times))

    def _update(self, users, hours, cats, times) -> UserProfile:
        if not times.size:
            return self
        t = float(times[-1])
        touched = np.unique(users)
        self.counts[touched] *= self._factor(touched, t)[:, None]
        self.last[touched] = t
        w = np.ones(len(users)) if self.half_life is None else np.exp2(-(t - times) / self.half_life)
        np.add.at(self.counts, (users, cats), w)
        self.now = t
        return self

    def read(self, users, hours=None) -> np.ndarray:
        """Decayed counts of each user at the last update time (the hour is ignored), (n, C)."""
        return self._read(self._users(users), hours)

    def _read(self, users, hours) -> np.ndarray:
        return self.counts[users] * self._factor(users, self.now)[:, None]

    def memory_bytes(self) -> int:
        return int(self.counts.nbytes + self.last.nbytes)


# --------------------------------------------------------------------------- evaluation helpers

def rank_hits(scores, targets, k: int) -> np.ndarray:
    """1 where the target category is among the ``k`` highest scores of its row (ties count against)."""
    scores = np.asarray(scores, dtype=float)
    targets = np.asarray(targets)
    mine = scores[np.arange(len(targets)), targets]
    above = (scores > mine[:, None]).sum(axis=1) + ((scores == mine[:, None]).sum(axis=1) - 1)
    return (above < integer("k", k)).astype(float)


def request_auc(scores, targets) -> np.ndarray:
    """Per-request AUC: the share of the other candidates scored below the engaged one (ties 1/2).

    The mean over requests is the request-averaged AUC (the "GAUC" of industrial papers); for one
    request it equals ``course_lib.metrics.auc`` of that request's one-hot labels and scores.
    """
    scores = np.asarray(scores, dtype=float)
    targets = np.asarray(targets)
    mine = scores[np.arange(len(targets)), targets][:, None]
    below = (scores < mine).sum(axis=1) + 0.5 * ((scores == mine).sum(axis=1) - 1)
    return below / (scores.shape[1] - 1)


def total_variation(p, q) -> np.ndarray:
    """Half the L1 distance between rows of two distributions: 0 identical, 1 disjoint."""
    return 0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum(axis=1)


def user_bootstrap_ci(values, users, n_boot: int = 1000, level: float = 0.95, seed: int = 0):
    """Event-weighted mean of ``values`` and a user-clustered (Poisson) bootstrap interval.

    Events of one user are correlated, so users, not events, are resampled (each user gets a
    Poisson(1) weight per resample).  ``values`` (n,) gives floats ``(mean, lo, hi)``; ``values``
    (n, k) gives three arrays (k,), all columns resampled with the same user weights (paired).
    """
    values = np.asarray(values, dtype=float)
    one = values.ndim == 1
    vals = values[:, None] if one else values
    _, inv = np.unique(np.asarray(users), return_inverse=True)
    if len(inv) != len(vals):
        raise ValueError(f"users must have one id per value: {len(inv)} ids for {len(vals)} values")
    s = np.stack([np.bincount(inv, weights=v) for v in vals.T], axis=1)        # (U, k)
    n = np.bincount(inv).astype(float)
    w = np.random.default_rng(seed).poisson(1.0, size=(integer("n_boot", n_boot), len(n))).astype(float)
    boot = (w @ s) / np.maximum(w @ n, 1)[:, None]
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2], axis=0)
    mean = s.sum(axis=0) / n.sum()
    if one:
        return float(mean[0]), float(lo[0]), float(hi[0])
    return mean, lo, hi


def progressive_read(models: Mapping[str, Any], users, hours, categories, times, keep=None,
                     batch_hours: float = 1.0) -> dict[str, np.ndarray]:
    """Progressive evaluation over a time-ordered stream: read every model, then update it.

    Events are processed in batches of ``batch_hours`` of stream time: each model is read at the
    batch's (user, hour) pairs before it learns from the batch, so a prediction never sees its own
    event (two events of one user inside one batch do not see each other either).  Returns, per
    model name, the evidence ``model.read(users, hours)`` of the events where ``keep`` is true,
    shape (n_keep, C), float32.
    """
    first = max(models.values(), key=lambda m: m.n_users)
    users, hours, cats, times = first._events(users, hours, categories, times)   # validated once
    keep = np.ones(len(users), dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    batch = np.floor(times / number("batch_hours", batch_hours, low=0, low_open=True)).astype(np.int64)
    bounds = np.flatnonzero(np.r_[True, batch[1:] != batch[:-1], True])
    n_keep = int(keep.sum())
    out = {name: np.zeros((n_keep, m.n_categories), dtype=np.float32) for name, m in models.items()}
    pos = np.cumsum(keep) - 1
    for a, b in zip(bounds[:-1], bounds[1:]):
        k = keep[a:b]
        if k.any():
            idx = pos[a:b][k]
            for name, m in models.items():
                out[name][idx] = m._read(users[a:b][k], hours[a:b][k])
        for m in models.values():
            m._update(users[a:b], hours[a:b], cats[a:b], times[a:b])
    return out


class PopulationClock(InterestClock):
    """Everybody's events in one clock: the population's daily rhythm, the back-off for every model."""

    def __init__(self, n_categories: int, window_days: float | None = 30.0, sigma: float = 1.0):
        super().__init__(1, n_categories, window_days, sigma)

    def update(self, users, hours, categories, times) -> PopulationClock:
        return super().update(np.zeros(len(np.asarray(users)), dtype=np.int64), hours, categories, times)

    def _update(self, users, hours, cats, times) -> PopulationClock:
        return super()._update(np.zeros(len(users), dtype=np.int64), hours, cats, times)

    def _read(self, users, hours) -> np.ndarray:
        return super()._read(np.zeros(len(users), dtype=np.int64), hours)

    def read(self, users, hours, sigma: float | None = None) -> np.ndarray:
        return super().read(np.zeros(len(np.asarray(users)), dtype=np.int64), hours, sigma)


# --------------------------------------------------------------------------- the clock in a ranker

def ranker_features(users, hours, n_users: int, n_categories: int, hour_feature: bool = False,
                    dense=None) -> sp.csr_matrix:
    """One row per (event, candidate category) for a logistic ranker, shape (n * C, n_columns).

    Columns: category one-hot (C); with ``hour_feature`` the hour x category one-hot (24 C), the
    linear model's "hour embedding"; the user x category one-hot (U C), the user's interest vector;
    then the columns of ``dense`` (n, C) or (n, C, k) if given (e.g. the smoothed clock, eq. 5.4).
    """
    users, C = np.asarray(users), integer("n_categories", n_categories)
    hours = _hours("hours", hours, integral=True).astype(np.int64)
    n = len(users)
    cand = np.tile(np.arange(C), n)
    uu, hh = np.repeat(users, C), np.repeat(hours, C)
    blocks, offset = [cand], C
    if hour_feature:
        blocks.append(offset + hh * C + cand)
        offset += HOURS * C
    blocks.append(offset + uu * C + cand)
    offset += integer("n_users", n_users) * C
    idx = np.stack(blocks, axis=1)
    data = np.ones(idx.shape)
    if dense is not None:
        extra = np.asarray(dense, dtype=float).reshape(n * C, -1)
        idx = np.hstack([idx, offset + np.arange(extra.shape[1])[None, :].repeat(n * C, axis=0)])
        data = np.hstack([data, extra])
        offset += extra.shape[1]
    width = idx.shape[1]
    return sp.csr_matrix((data.ravel(), idx.ravel(), np.arange(0, n * C * width + 1, width)),
                         shape=(n * C, offset))


def progressive_ranker(model, X, categories, times, batch_hours: float = 1.0,
                       probe: Callable[[Any, int], None] | None = None) -> np.ndarray:
    """Score every candidate of a batch, then learn from it (labels: 1 for the engaged category).

    ``model`` is an online learner with ``decision_function`` and ``partial_fit`` (lesson 01's
    ``OnlineLogisticRegression``); ``X`` comes from ``ranker_features``.  ``probe(model, batch_hour)``
    is called after each batch's update, e.g. to read what the model believes at every hour.
    Returns the scores (n, C) made before each event was learned.
    """
    cats = np.asarray(categories)
    n = len(cats)
    C = X.shape[0] // n
    y = (np.tile(np.arange(C), n) == np.repeat(cats, C)).astype(float)
    batch = np.floor(np.asarray(times, dtype=float) / batch_hours).astype(np.int64)
    bounds = np.flatnonzero(np.r_[True, batch[1:] != batch[:-1], True])
    scores = np.empty(n * C)
    for a, b in zip(bounds[:-1], bounds[1:]):
        rows = slice(a * C, b * C)
        scores[rows] = model.decision_function(X[rows])
        model.partial_fit(X[rows], y[rows])
        if probe is not None:
            probe(model, int(batch[a]))
    return scores.reshape(n, C)


def hour_model_beliefs(weights, users, n_users: int, n_categories: int) -> np.ndarray:
    """What a ranker with ``hour_feature=True`` (and no dense columns) predicts for ``users`` at
    every hour: normalised click probabilities, shape (len(users), 24, C)."""
    C = n_categories
    w = np.asarray(weights)
    s = (w[:C][None, None, :] + w[C:C + HOURS * C].reshape(HOURS, C)[None]
         + w[C + HOURS * C:C + HOURS * C + n_users * C].reshape(n_users, C)[np.asarray(users)][:, None, :]
         + w[-1])
    p = 0.5 * (1 + np.tanh(0.5 * s))
    return p / p.sum(axis=-1, keepdims=True)
