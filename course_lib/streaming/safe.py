"""Lesson 08: a safe online learner: a recent holdout, backups, and rollback on a tested degradation.

The learner is a per-arm online logistic regression (lesson 01's SGD, one weight vector per arm):
``p_a(x) = sigmoid(x^T w_a)``, ``w_a <- w_a + eta (r - p_a(x)) x`` on each mini-batch.

Guard, every ``check_every`` events (equation RB):

- **holdout**: the events of a fixed share of users (a hash of the user id) are never trained on; the
  ones that arrived since the last check form the holdout, so it is always *recent*;
- **backup**: the weights accepted at the last check;
- **test**: on the same holdout events, per-event log-loss difference ``D_i = l_cur(i) - l_bak(i)``,
  averaged per user (``d_u``; a few accounts cannot outweigh the rest, and a user's events are not
  independent), then the one-sided paired z statistic over the ``m`` users

      (RB)   z = mean(d_u) / (sd(d_u) / sqrt(m)),   roll back when z > z_{1 - alpha};

  otherwise the current weights become the new backup.  Under "the current model is no worse than
  the backup on this traffic" a check rolls back with probability at most about ``alpha``.

Input validation reuses the trainer's door (``decode_event``): a bad message is a dead letter with
its reason, counted, never learnt from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from course_lib.streaming.events import REASONS, DeadLetter, decode_event
from course_lib.validate import integer, number

__all__ = ["PerArmLogistic", "Check", "SafeLearner", "holdout_users", "log_loss", "simulate_stream", "true_log_loss",
           "run_scenario"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def log_loss(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Per-event log-loss ``-r log p - (1 - r) log(1 - p)`` (p clipped to [1e-6, 1 - 1e-6])."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return -(r * np.log(p) + (1 - r) * np.log1p(-p))


def holdout_users(users, share: float) -> np.ndarray:
    """Whether each user belongs to the holdout: Knuth's multiplicative hash of the id below ``share``."""
    u = np.asarray(users, dtype=np.uint64)
    h = (u * np.uint64(2654435761)) % np.uint64(2**32)
    return h.astype(float) / 2**32 < share


class PerArmLogistic:
    """One logistic-regression weight vector per arm, trained by mini-batch SGD (step ``lr``)."""

    def __init__(self, n_arms: int, n_features: int, lr: float = 0.05):
        self.W = np.zeros((integer("n_arms", n_arms, low=1), integer("n_features", n_features, low=1)))
        self.lr = number("lr", lr, low=0, low_open=True)

    def predict_proba(self, arms: np.ndarray, X: np.ndarray, W: np.ndarray | None = None) -> np.ndarray:
        W = self.W if W is None else W
        return _sigmoid(np.einsum("nd,nd->n", X, W[arms]))

    def partial_fit(self, arms: np.ndarray, rewards: np.ndarray, X: np.ndarray) -> PerArmLogistic:
        """One SGD step on the batch: ``w_a += lr * sum_i (r_i - p_i) x_i`` over the batch's events of arm a."""
        if len(arms):
            g = (rewards - self.predict_proba(arms, X))[:, None] * X
            np.add.at(self.W, arms, self.lr * g)
        return self

    def state_dict(self) -> dict:
        return {"W": self.W.copy(), "lr": self.lr}

    def load_state_dict(self, state) -> PerArmLogistic:
        self.W = np.array(state["W"], dtype=float)
        self.lr = float(state["lr"])
        return self


@dataclass
class Check:
    """One guard check: events seen so far, holdout users, the test's numbers and the action."""

    events: int
    n_users: int
    loss_current: float
    loss_backup: float
    diff: float
    se: float
    z: float
    rolled_back: bool


@dataclass
class SafeLearner:
    """Online learner guarded by equation RB; ``guard=False`` gives the same learner without rollbacks."""

    n_arms: int
    n_features: int
    lr: float = 0.05
    batch: int = 100
    check_every: int = 2000
    holdout_share: float = 0.2
    alpha: float = 0.01
    min_users: int = 30
    guard: bool = True
    model: PerArmLogistic = field(init=False)
    backup: np.ndarray = field(init=False)
    checks: list = field(init=False, default_factory=list)
    dead: dict = field(init=False, default_factory=lambda: {r: 0 for r in REASONS})
    trained: int = field(init=False, default=0)
    held_out: int = field(init=False, default=0)
    discarded: int = field(init=False, default=0)

    def __post_init__(self):
        self.model = PerArmLogistic(self.n_arms, self.n_features, self.lr)
        self.batch = integer("batch", self.batch, low=1)
        self.check_every = integer("check_every", self.check_every, low=1)
        self.holdout_share = number("holdout_share", self.holdout_share, low=0, high=1, low_open=True, high_open=True)
        self.alpha = number("alpha", self.alpha, low=0, high=0.5, low_open=True)
        self.z_crit = float(stats.norm.isf(self.alpha))
        self.backup = self.model.W.copy()
        self._hold: list[tuple] = []
        self._since = 0
        self._since_trained = 0

    def handle(self, values) -> list[tuple[int, DeadLetter]]:
        """Validate raw messages (dead letters counted by reason), then ``learn`` from the valid ones."""
        rows, dead = [], []
        for i, raw in enumerate(values):
            e = decode_event(raw, self.n_arms, self.n_features)
            if type(e) is not DeadLetter:
                user = json.loads(raw)["user"]
                if type(user) is not int or user < 0:
                    e = DeadLetter("malformed", f"user must be an integer >= 0, got {user!r}", raw)
            if type(e) is DeadLetter:
                dead.append((i, e))
                self.dead[e.reason] += 1
                continue
            rows.append((user, e[1], e[2], e[3]))
        if rows:
            u, a, r, x = zip(*rows)
            self.learn(np.array(u), np.array(a), np.array(r), np.array(x, dtype=float))
        return dead

    def learn(self, users, arms, rewards, X) -> None:
        """Route each event to the holdout or to training (mini-batches), checking every ``check_every``."""
        users, arms = np.asarray(users, dtype=np.int64), np.asarray(arms, dtype=np.int64)
        rewards, X = np.asarray(rewards, dtype=float), np.asarray(X, dtype=float)
        start = 0
        while start < len(arms):
            stop = min(len(arms), start + self.batch, start + self.check_every - self._since)
            sl = slice(start, stop)
            hold = holdout_users(users[sl], self.holdout_share)
            if hold.any():
                self._hold.append((users[sl][hold], arms[sl][hold], rewards[sl][hold], X[sl][hold]))
            train = ~hold
            self.model.partial_fit(arms[sl][train], rewards[sl][train], X[sl][train])
            self.trained += int(train.sum())
            self._since_trained += int(train.sum())
            self.held_out += int(hold.sum())
            self._since += stop - start
            start = stop
            if self._since >= self.check_every:
                self.check()

    def check(self) -> Check | None:
        """Equation RB on the holdout since the last check; roll back or accept the current weights."""
        self._since = 0
        if not self._hold:
            return None
        u, a, r, X = (np.concatenate(c) for c in zip(*self._hold))
        self._hold = []
        lc = log_loss(self.model.predict_proba(a, X), r)
        lb = log_loss(self.model.predict_proba(a, X, self.backup), r)
        ids, inv, cnt = np.unique(u, return_inverse=True, return_counts=True)
        d_u = np.bincount(inv, weights=lc - lb) / cnt
        m = len(ids)
        se = float(d_u.std(ddof=1) / np.sqrt(m)) if m > 1 else float("inf")
        diff = float(d_u.mean())
        z = diff / se if se > 0 else 0.0
        back = bool(self.guard and m >= self.min_users and z > self.z_crit)
        if back:
            self.model.W = self.backup.copy()
            self.discarded += self._since_trained
        else:
            self.backup = self.model.W.copy()
        self._since_trained = 0
        c = Check(self.trained + self.held_out, m, float(lc.mean()), float(lb.mean()), diff, se, z, back)
        self.checks.append(c)
        return c


def simulate_stream(n_events: int, n_arms: int = 5, n_features: int = 4, n_users: int = 3000, seed: int = 0,
                    shift_at: int | None = None, poison: tuple[int, int, float] | None = None,
                    n_bots: int = 20, target_arm: int = 0) -> dict:
    """A logged stream (uniform random arms) for the guard's scenarios.

    Clicks: ``P(r = 1) = sigmoid(x^T theta_a - 1.5)``; ``x[0] = 1``.  ``shift_at``: from that event on, a
    genuine taste shift (new ``theta``).  ``poison = (start, stop, share)``: in that event range a
    ``share`` of the events come from ``n_bots`` bot accounts (ids from 10^6) clicking ``target_arm``.
    Returns arrays ``user, arm, r, x, bot`` and the true parameters ``theta`` (before) and ``theta2`` (after).
    """
    n = integer("n_events", n_events, low=1)
    k, d = integer("n_arms", n_arms, low=2), integer("n_features", n_features, low=2)
    rng = np.random.default_rng(seed)
    theta = rng.normal(scale=1.0, size=(k, d))
    theta2 = theta.copy()
    if shift_at is not None:
        theta2 = rng.normal(scale=1.0, size=(k, d))
    X = rng.normal(size=(n, d)) / np.sqrt(d)
    X[:, 0] = 1.0
    arms = rng.integers(0, k, size=n)
    users = rng.integers(0, integer("n_users", n_users, low=1), size=n)
    after = np.arange(n) >= (shift_at if shift_at is not None else n)
    th = np.where(after[:, None], theta2[arms], theta[arms])
    r = (rng.random(n) < _sigmoid(np.einsum("nd,nd->n", X, th) - 1.5)).astype(float)
    bot = np.zeros(n, dtype=bool)
    if poison is not None:
        start, stop, share = poison
        idx = np.arange(n)
        bot = (idx >= start) & (idx < stop) & (rng.random(n) < share)
        arms[bot] = target_arm
        r[bot] = 1.0
        users[bot] = 10**6 + rng.integers(0, n_bots, size=int(bot.sum()))
    return {"user": users, "arm": arms, "r": r, "x": X, "bot": bot, "theta": theta, "theta2": theta2,
            "shift_at": n if shift_at is None else int(shift_at)}


def true_log_loss(W: np.ndarray, theta: np.ndarray, n_contexts: int = 2000, seed: int = 1) -> float:
    """Excess log-loss of weights ``W`` on real traffic (uniform arms): expected log-loss under the true
    parameters ``theta`` minus that of the true click probabilities (a KL divergence, 0 for a perfect model)."""
    rng = np.random.default_rng(seed)
    k, d = theta.shape
    X = rng.normal(size=(n_contexts, d)) / np.sqrt(d)
    X[:, 0] = 1.0
    p = _sigmoid(X @ theta.T - 1.5)
    q = np.clip(_sigmoid(X @ W.T), 1e-6, 1 - 1e-6)
    return float(np.mean(p * (np.log(p) - np.log(q)) + (1 - p) * (np.log1p(-p) - np.log1p(-q))))


def run_scenario(stream: dict, batch: int = 500, track: bool = True, **kwargs) -> tuple[SafeLearner, np.ndarray]:
    """Feed ``stream`` to a ``SafeLearner(**kwargs)`` in batches; with ``track``, the excess log-loss on
    real traffic (``true_log_loss``, against the parameters in force) after each check."""
    k, d = stream["theta"].shape
    s = SafeLearner(k, d, **kwargs)
    n = len(stream["arm"])
    loss = []
    for i in range(0, n, batch):
        sl = slice(i, min(n, i + batch))
        before = len(s.checks)
        s.learn(stream["user"][sl], stream["arm"][sl], stream["r"][sl], stream["x"][sl])
        if track and len(s.checks) > before:
            theta = stream["theta2"] if s.checks[-1].events > stream["shift_at"] else stream["theta"]
            loss.append(true_log_loss(s.model.W, theta))
    return s, np.array(loss)
