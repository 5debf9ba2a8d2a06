"""Lesson 02's policies for rewards that drift or jump: discounted UCB, sliding-window UCB (Garivier and Moulines 2011), discounted Thompson sampling (Raj and Kalyani 2017)."""

from __future__ import annotations

import numpy as np

from course_lib.bandits.policies import Policy, SQRT2, ThompsonBernoulli, ucb1_index
from course_lib.validate import Checked, integer, number


def discounted_ucb_update(counts: np.ndarray, sums: np.ndarray, arm: int, reward: float,
                          gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """One step of discounted UCB's statistics (lesson 02, eq. 7): every arm's discounted count and
    reward sum shrink by ``gamma``, then the played arm adds this pull (weight 1) and its reward.
    Returns new arrays; the inputs are left unchanged."""
    counts = gamma * np.asarray(counts, dtype=float)
    sums = gamma * np.asarray(sums, dtype=float)
    counts[arm] += 1.0
    sums[arm] += reward
    return counts, sums


class DiscountedUCB(Policy):
    """Discounted UCB (Garivier and Moulines 2011) for rewards that drift or jump.

    Discounted counts N_i = sum_s gamma^(t-s) 1{a_s = i} and sums; index
    S_i / N_i + c sqrt(ln n_t / N_i) with n_t = sum_i N_i.  ``gamma`` in (0, 1]: 1 is UCB1;
    the memory is about 1 / (1 - gamma) steps.  The paper's padding 2B sqrt(xi ln n_t / N_i), with
    rewards bounded by B = 1 and xi = 1/2, is ``c = sqrt(2)`` (the default).
    """

    c = Checked(lambda v: number("c", v, low=0))  # checked on every assignment

    def __init__(self, n_arms: int, gamma: float = 0.99, c: float = SQRT2, runs: int | None = None,
                 seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.gamma = number("gamma", gamma, low=0, high=1, low_open=True)
        self.c = c
        self.counts = np.zeros(self.shape)
        self.sums = np.zeros(self.shape)
        self.name = f"D-UCB(gamma={self.gamma:g})"

    def select(self, context=None):
        n_t = self.counts.sum(axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            means = self.sums / self.counts
        return self._out(np.argmax(ucb1_index(means, self.counts, np.maximum(n_t, 1.0), self.c), axis=-1))

    def action_probabilities(self, context=None) -> np.ndarray:
        """One-hot (deterministic)."""
        return self._one_hot(self.select())

    def update(self, arm, reward, context=None):
        ix = self._ix(arm)
        self.t += 1
        self.counts *= self.gamma          # discounted_ucb_update, vectorised over runs
        self.sums *= self.gamma
        self.counts[ix] += 1
        self.sums[ix] += reward
        return self


class SlidingWindowUCB(Policy):
    """Sliding-window UCB (Garivier and Moulines 2011): UCB computed on the last ``window`` steps only.

    Index S_i / N_i + c sqrt(ln min(t, window) / N_i), with N_i and S_i the pulls and rewards of
    arm i among the last ``window`` steps; an arm absent from the window gets +inf.  The paper's
    padding B sqrt(xi ln min(t, window) / N_i), with B = 1 and xi = 1/2, is ``c = sqrt(1/2)``; the
    default ``c = sqrt(2)`` explores more.
    """

    c = Checked(lambda v: number("c", v, low=0))  # checked on every assignment

    def __init__(self, n_arms: int, window: int = 200, c: float = SQRT2, runs: int | None = None,
                 seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.window = integer("window", window, hint="the number of recent steps remembered")
        self.c = c
        self.counts = np.zeros(self.shape)
        self.sums = np.zeros(self.shape)
        self._arms = np.zeros(self.batch + (self.window,), dtype=np.int64)
        self._rewards = np.zeros(self.batch + (self.window,))
        self.name = f"SW-UCB(window={self.window})"

    def select(self, context=None):
        with np.errstate(divide="ignore", invalid="ignore"):
            means = self.sums / self.counts
        t = max(min(self.t, self.window), 1)
        return self._out(np.argmax(ucb1_index(means, self.counts, t, self.c), axis=-1))

    def action_probabilities(self, context=None) -> np.ndarray:
        """One-hot (deterministic)."""
        return self._one_hot(self.select())

    def update(self, arm, reward, context=None):
        ix = self._ix(arm)
        pos = self.t % self.window
        if self.t >= self.window:  # the oldest step leaves the window
            old = self._ix(self._arms[..., pos])
            self.counts[old] -= 1
            self.sums[old] -= self._rewards[..., pos]
        self.counts[ix] += 1
        self.sums[ix] += reward
        self._arms[..., pos] = arm
        self._rewards[..., pos] = reward
        self.t += 1
        return self


class DiscountedThompson(ThompsonBernoulli):
    """Discounted Thompson sampling (Raj and Kalyani 2017): successes and failures decay by gamma.

    Samples Beta(alpha_0 + S_i, beta_0 + F_i) with S_i, F_i discounted sums; ``gamma`` in (0, 1].
    """

    def __init__(self, n_arms: int, gamma: float = 0.99, prior: tuple[float, float] = (1.0, 1.0),
                 runs: int | None = None, seed: int = 0):
        super().__init__(n_arms, prior, runs, seed)
        self.gamma = number("gamma", gamma, low=0, high=1, low_open=True)
        self.prior = (float(prior[0]), float(prior[1]))
        self.name = f"D-TS(gamma={self.gamma:g})"

    def update(self, arm, reward, context=None):
        ix = self._ix(arm)
        self.t += 1
        a0, b0 = self.prior
        self.alpha = a0 + self.gamma * (self.alpha - a0)
        self.beta = b0 + self.gamma * (self.beta - b0)
        self.alpha[ix] += reward
        self.beta[ix] += 1.0 - reward
        return self
