"""Lesson 02's adaptive exploration: EXP3 over UCB constants (MetaUCB, after Ding et al. 2022) and B-DES."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_lib.bandits.policies import EXP3, _SampleMean, ucb1_index
from course_lib.validate import number


class MetaUCB(_SampleMean):
    """Hyper-parameter choice as a bandit: EXP3 over UCB constants c_1..c_J (after Ding et al. 2022).

    Each step EXP3 picks a configuration j, UCB1 with c_j picks the arm, and the reward updates
    both the shared arm statistics and EXP3's weight of j.  ``cs``: the J candidate constants.
    """

    def __init__(self, n_arms: int, cs: Sequence[float] = (0.05, 0.2, 0.5, 1.0, 2.0), gamma: float = 0.1,
                 runs: int | None = None, seed: int = 0):
        super().__init__(n_arms, runs, seed)
        if len(cs) < 1:
            raise ValueError("cs must list at least one UCB constant")
        self.cs = np.array([number("every c in cs", c, low=0) for c in cs])
        self.meta = EXP3(len(self.cs), gamma=gamma, runs=runs, seed=self.rng.integers(2**63))
        self.chosen = None
        self.name = "meta-UCB(EXP3 over c)"

    def select(self, context=None):
        self.chosen = self.meta.select()
        c = self.cs[self.chosen]
        c = c if self.runs is None else c[:, None]
        return self._out(np.argmax(ucb1_index(self.values, self.counts, self.t, c), axis=-1))

    def action_probabilities(self, context=None) -> np.ndarray:
        """Exactly: EXP3's probability of each constant c_j times the one-hot choice of UCB1 with c_j."""
        p_meta = self.meta.probabilities()                                       # (..., J)
        index = ucb1_index(self.values[..., None, :], self.counts[..., None, :], self.t, self.cs[:, None])
        return np.einsum("...j,...jk->...k", p_meta, self._one_hot(np.argmax(index, axis=-1)))

    def update(self, arm, reward, context=None):
        super().update(arm, reward)
        self.meta.update(self.chosen, reward)
        return self


class BDES(_SampleMean):
    """Adaptive exploration as practitioners describe "B-DES" (no peer-reviewed source known).

    argmax mu_hat_a + beta_t sigma_a with sigma_a = 1 / sqrt(n_a) and
    beta_t = beta_0 exp(-lam * mean_a sigma_a).  Note: beta_t *grows* toward beta_0 as the
    uncertainty falls; the bonus shrinks only because every sigma_a does.
    """

    def __init__(self, n_arms: int, beta0: float = 1.0, lam: float = 1.0, runs: int | None = None,
                 seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.beta0 = number("beta0", beta0, low=0)
        self.lam = number("lam", lam, low=0)
        self.name = f"B-DES(beta0={self.beta0:g}, lam={self.lam:g})"

    def beta_t(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            sigma = 1.0 / np.sqrt(self.counts)
        return self.beta0 * np.exp(-self.lam * np.minimum(sigma, 1.0).mean(axis=-1))

    def select(self, context=None):
        with np.errstate(divide="ignore"):
            sigma = 1.0 / np.sqrt(self.counts)
        index = self.values + np.asarray(self.beta_t())[..., None] * sigma
        return self._out(np.argmax(np.where(self.counts > 0, index, np.inf), axis=-1))

    def action_probabilities(self, context=None) -> np.ndarray:
        """One-hot (deterministic)."""
        return self._one_hot(self.select())


def within_noise_of_best(regrets, z: float = 2.0) -> np.ndarray:
    """Which settings of a sweep are within noise of the best: ``regrets`` is (n, runs) final regret per run;
    True where the mean exceeds the best mean by at most ``z`` standard errors of the difference of the two means."""
    regrets = np.asarray(regrets, dtype=float)
    mean = regrets.mean(axis=1)
    var = regrets.var(axis=1, ddof=1) / regrets.shape[1]
    best = int(np.argmin(mean))
    return mean - mean[best] <= z * np.sqrt(var + var[best])


def choose_from_sweep(values, regrets, z: float = 2.0) -> float:
    """Pick a knob from a sweep (lesson 03, exercise 1): the smallest value whose mean regret is within noise of the best.

    ``values``: (n,) settings, e.g. exploration weights; ``regrets``: (n, runs) final regret of each run.
    A setting is within noise when its mean exceeds the best mean by at most ``z`` standard errors of
    the difference of the two means; among those, the smallest value (the least exploration) is returned.
    """
    values = np.asarray(values, dtype=float)
    regrets = np.asarray(regrets, dtype=float)
    if values.ndim != 1 or regrets.ndim != 2 or regrets.shape[0] != len(values) or regrets.shape[1] < 2:
        raise ValueError(f"values must be (n,) and regrets (n, runs) with runs >= 2, got {values.shape} and {regrets.shape}")
    return float(values[within_noise_of_best(regrets, z)].min())


def choose_commit_length(ms, regrets, z: float = 2.0) -> int:
    """Pick explore-then-commit's m from a sweep (lesson 02, exercise 2): within noise of the best mean, the lightest tail.

    ``ms``: (n,) pulls per arm; ``regrets``: (n, runs) final regret of each run.  Candidates are the m whose
    mean regret exceeds the best mean by at most ``z`` standard errors of the difference; among them the
    one whose worst run lost least (fewer wrong commitments), ties to the smaller m.
    """
    ms = np.asarray(ms)
    regrets = np.asarray(regrets, dtype=float)
    if ms.ndim != 1 or regrets.ndim != 2 or regrets.shape[0] != len(ms) or regrets.shape[1] < 2:
        raise ValueError(f"ms must be (n,) and regrets (n, runs) with runs >= 2, got {ms.shape} and {regrets.shape}")
    close = np.flatnonzero(within_noise_of_best(regrets, z))
    return int(ms[close[np.argmin(regrets[close].max(axis=1))]])
