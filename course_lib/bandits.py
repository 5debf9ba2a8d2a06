"""Lesson 02: multi-armed bandits, exploration versus exploitation.

Every policy has the same two verbs: ``select()`` returns the arm to play and
``update(arm, reward)`` learns from the reward it paid.  A policy plays one run
(``runs=None``: ``select()`` returns an ``int``, ``update`` takes an ``int`` and a ``float``)
or ``R`` independent runs at once (``runs=R``: state arrays of shape ``(R, K)``, ``select()``
returns ``R`` arms, ``update`` takes arrays of shape ``(R,)``).  The two modes share one
implementation, so a run of the batched policy with ``runs=1`` and the one-run policy with the
same seed make exactly the same choices.  ``simulate`` plays a policy on a Bernoulli or Gaussian
problem, vectorised over runs; ``simulate_loop`` plays one-run policies one step at a time.

Ties between arms go to the lowest arm index (``numpy.argmax``); an arm never played has an
infinite index, so the value-based policies (greedy, epsilon-greedy, UCB) play every arm once first.

References
----------
- P. Auer, N. Cesa-Bianchi, P. Fischer. Finite-time analysis of the multiarmed bandit problem.
  Machine Learning 47(2-3):235-256, 2002.  (UCB1, epsilon_n-greedy, regret bound.)
- T. L. Lai, H. Robbins. Asymptotically efficient adaptive allocation rules.
  Advances in Applied Mathematics 6(1):4-22, 1985.  (Lower bound.)
- W. R. Thompson. On the likelihood that one unknown probability exceeds another in view of
  the evidence of two samples. Biometrika 25(3-4):285-294, 1933.
- S. Agrawal, N. Goyal. Analysis of Thompson sampling for the multi-armed bandit problem.
  COLT 2012 (JMLR W&CP 23:39.1-39.26).
- P. Auer, N. Cesa-Bianchi, Y. Freund, R. E. Schapire. The nonstochastic multiarmed bandit
  problem. SIAM Journal on Computing 32(1):48-77, 2002.  (EXP3.)
- A. Garivier, E. Moulines. On upper-confidence bound policies for switching bandit problems.
  ALT 2011, LNCS 6925:174-188.  (Discounted and sliding-window UCB.)
- V. Raj, S. Kalyani. Taming non-stationary bandits: a Bayesian approach. arXiv:1707.09727, 2017.
  (Discounted Thompson sampling.)
- Q. Ding, Y. Kang, Y.-W. Liu, T. C. M. Lee, C.-J. Hsieh, J. Sharpnack. Syndicated bandits: a
  framework for auto tuning hyper-parameters in contextual bandit algorithms. NeurIPS 2022.
  (EXP3 over hyper-parameter values: ``MetaUCB``.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from course_lib.numerics import recovery_time as _recovery_time
from course_lib.numerics import softmax
from course_lib.protocols import StateDictMixin
from course_lib.validate import integer, number

SQRT2 = math.sqrt(2.0)

__all__ = [
    "Policy", "RandomPolicy", "EpsilonGreedy", "UCB1", "ThompsonBernoulli", "ThompsonGaussian",
    "Softmax", "EXP3", "DiscountedUCB", "SlidingWindowUCB", "DiscountedThompson", "MetaUCB", "BDES",
    "BanditRun", "simulate", "simulate_loop", "mean_schedule",
    "epsilon_greedy_choice", "ucb1_index", "thompson_beta_update",
    "bernoulli_kl", "ucb1_regret_bound", "lai_robbins_lower_bound", "recovery_time",
]


# --------------------------------------------------------------------------- index formulas
def epsilon_greedy_choice(values: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """Epsilon-greedy's choice (lesson eq. 2): a uniform arm with probability epsilon, else argmax.

    ``values``: (K,) estimated mean rewards.  Ties go to the lowest index.
    """
    values = np.asarray(values, dtype=float)
    if rng.random() < epsilon:
        return int(rng.integers(len(values)))
    return int(np.argmax(values))


def ucb1_index(values: np.ndarray, counts: np.ndarray, t: float, c: float = SQRT2) -> np.ndarray:
    """UCB1 index (lesson eq. 3, Auer et al. 2002): ``mu_hat_i + c sqrt(ln t / n_i)``.

    ``values``, ``counts``: arrays of shape (..., K); ``t``: plays so far (scalar or broadcastable).
    Arms never played (``n_i = 0``) get ``+inf`` so they are tried first.
    """
    values = np.asarray(values, dtype=float)
    counts = np.asarray(counts, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        bonus = c * np.sqrt(np.log(t) / counts)
    return np.where(counts > 0, values + bonus, np.inf)


def thompson_beta_update(alpha: np.ndarray, beta: np.ndarray, arm: int,
                         reward: float) -> tuple[np.ndarray, np.ndarray]:
    """Beta posterior update of Thompson sampling (lesson eq. 4): alpha_a += r, beta_a += 1 - r.

    ``alpha``, ``beta``: (K,) posterior parameters; returns new arrays (the inputs are unchanged).
    """
    alpha = np.array(alpha, dtype=float)
    beta = np.array(beta, dtype=float)
    alpha[arm] += reward
    beta[arm] += 1.0 - reward
    return alpha, beta


def _inverse_cdf(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Sample an arm per row of ``probs`` (..., K) from uniforms ``u`` (...)."""
    below = np.cumsum(probs, axis=-1) < u[..., None]
    return np.minimum(below.sum(axis=-1), probs.shape[-1] - 1)


# --------------------------------------------------------------------------- policies
class Policy(StateDictMixin):
    """Base class: state of shape (K,) for one run (``runs=None``) or (R, K) for R runs.

    Follows ``course_lib.protocols.Bandit``: ``select(context=None) -> arm`` (an int, or (R,) ints;
    the context is ignored by these context-free policies); ``update(arm, reward, context=None)``
    (an int and a float, or (R,) arrays) returns the policy; ``action_probabilities()`` is
    P(select() = i), shape ``self.shape``; ``state_dict``/``load_state_dict`` (RNG included).
    ``t`` counts the steps played so far.  ``seed`` defaults to 0: the same policy makes the same draws.
    """

    name = "policy"

    def __init__(self, n_arms: int, runs: int | None = None, seed: int = 0):
        self.n_arms = integer("n_arms", n_arms, hint="the number of arms to choose between")
        self.runs = None if runs is None else integer("runs", runs, hint="pass None for a single run")
        self.batch: tuple[int, ...] = () if self.runs is None else (self.runs,)
        self.shape = self.batch + (self.n_arms,)
        self.rng = np.random.default_rng(integer("seed", seed, low=0))
        self._rows = None if self.runs is None else np.arange(self.runs)
        self.t = 0

    def _ix(self, arm):
        """Index of the played arm(s) into a state array of shape ``self.shape``."""
        if self.runs is None:
            if not 0 <= int(arm) < self.n_arms:
                raise ValueError(f"arm must be in 0..{self.n_arms - 1}, got {arm}")
            return int(arm)
        arm = np.asarray(arm)
        if arm.shape != (self.runs,):
            raise ValueError(f"arm must have shape ({self.runs},) (one arm per run), got {arm.shape}")
        return (self._rows, arm)

    def _out(self, arms: np.ndarray):
        return int(arms) if self.runs is None else arms

    def select(self, context=None):
        raise NotImplementedError

    def update(self, arm, reward, context=None):
        raise NotImplementedError

    def action_probabilities(self, context=None) -> np.ndarray:
        """P(select() returns arm i) for every arm, shape ``self.shape``; deterministic policies give one-hot rows."""
        raise NotImplementedError

    def _one_hot(self, arms) -> np.ndarray:
        return (np.arange(self.n_arms) == np.asarray(arms)[..., None]).astype(float)

    def _monte_carlo(self, draw, n_draws: int, seed: int) -> np.ndarray:
        """Frequencies of the argmax over ``n_draws`` posterior draws ``draw(rng, size)`` from ``default_rng(seed)``.

        Its own Generator: estimating the probabilities leaves the policy's random stream untouched.
        """
        n_draws = integer("n_draws", n_draws)
        rng = np.random.default_rng(integer("seed", seed, low=0))
        counts = np.zeros(self.shape)
        chunk = max(1, 2_000_000 // int(np.prod(self.shape)))  # draws per block, to bound memory
        for start in range(0, n_draws, chunk):
            winners = np.argmax(draw(rng, (min(chunk, n_draws - start),) + self.shape), axis=-1)
            counts += self._one_hot(winners).sum(axis=0)
        return counts / n_draws

    def __repr__(self) -> str:
        return self.name


class _SampleMean(Policy):
    """Keeps counts n_i and sample means mu_hat_i, updated incrementally."""

    def __init__(self, n_arms: int, runs: int | None = None, seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.counts = np.zeros(self.shape)
        self.values = np.zeros(self.shape)

    def update(self, arm, reward, context=None):
        ix = self._ix(arm)
        self.t += 1
        self.counts[ix] += 1
        self.values[ix] += (reward - self.values[ix]) / self.counts[ix]
        return self


class RandomPolicy(Policy):
    """Uniformly random arm every step: the baseline with linear regret."""

    name = "random"

    def select(self, context=None):
        return self._out((self.rng.random(self.batch) * self.n_arms).astype(np.int64))

    def action_probabilities(self, context=None) -> np.ndarray:
        """Uniform, exactly."""
        return np.full(self.shape, 1.0 / self.n_arms)

    def update(self, arm, reward, context=None):
        self._ix(arm)
        self.t += 1
        return self


class EpsilonGreedy(_SampleMean):
    """Epsilon-greedy (lesson eq. 2): explore uniformly with probability epsilon_t, else greedy.

    ``epsilon``: fixed rate in [0, 1] (0 is pure greedy).  ``decay``: if given, the
    epsilon_n-greedy schedule of Auer et al. (2002), ``epsilon_t = min(epsilon, decay * K / t)``.
    """

    def __init__(self, n_arms: int, epsilon: float = 0.1, decay: float | None = None,
                 runs: int | None = None, seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.epsilon = number("epsilon", epsilon, low=0, high=1)
        self.decay = None if decay is None else number("decay", decay, low=0, low_open=True)
        self.name = ("greedy" if self.epsilon == 0 else f"eps-greedy({self.epsilon:g})") if decay is None \
            else f"eps-decay({self.decay:g})"

    def epsilon_at(self, t: int) -> float:
        """Exploration rate at step t (1-based)."""
        return self.epsilon if self.decay is None else min(self.epsilon, self.decay * self.n_arms / t)

    def select(self, context=None):
        u = self.rng.random(self.batch + (2,))
        explore = u[..., 0] < self.epsilon_at(self.t + 1)
        random_arm = (u[..., 1] * self.n_arms).astype(np.int64)
        greedy = np.argmax(np.where(self.counts > 0, self.values, np.inf), axis=-1)
        return self._out(np.where(explore, random_arm, greedy))

    def action_probabilities(self, context=None) -> np.ndarray:
        """Exactly ``(1 - epsilon_t)`` on the greedy arm (an untried arm first) plus ``epsilon_t / K`` each."""
        eps = self.epsilon_at(self.t + 1)
        greedy = np.argmax(np.where(self.counts > 0, self.values, np.inf), axis=-1)
        return (1.0 - eps) * self._one_hot(greedy) + eps / self.n_arms


class UCB1(_SampleMean):
    """UCB1 (lesson eq. 3, Auer, Cesa-Bianchi and Fischer 2002): argmax mu_hat_i + c sqrt(ln t / n_i).

    ``c = sqrt(2)`` is the paper's constant; smaller c explores less.  Deterministic given the rewards.
    """

    def __init__(self, n_arms: int, c: float = SQRT2, runs: int | None = None, seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.c = number("c", c, low=0)
        self.name = f"UCB1(c={self.c:.3g})"

    def select(self, context=None):
        return self._out(np.argmax(ucb1_index(self.values, self.counts, self.t, self.c), axis=-1))

    def action_probabilities(self, context=None) -> np.ndarray:
        """One-hot on the arm ``select`` plays (UCB1 is deterministic)."""
        return self._one_hot(self.select())


class ThompsonBernoulli(Policy):
    """Thompson sampling with Beta posteriors (lesson eq. 4; Thompson 1933, Agrawal and Goyal 2012).

    Rewards in [0, 1]; a fractional reward r adds r to alpha and 1 - r to beta.
    ``prior``: (alpha_0, beta_0), both > 0; (1, 1) is uniform.
    """

    name = "Thompson(Beta)"

    def __init__(self, n_arms: int, prior: tuple[float, float] = (1.0, 1.0), runs: int | None = None,
                 seed: int = 0):
        super().__init__(n_arms, runs, seed)
        a0 = number("prior alpha_0", prior[0], low=0, low_open=True)
        b0 = number("prior beta_0", prior[1], low=0, low_open=True)
        self.alpha = np.full(self.shape, a0)
        self.beta = np.full(self.shape, b0)

    def select(self, context=None):
        return self._out(np.argmax(self.rng.beta(self.alpha, self.beta), axis=-1))

    def action_probabilities(self, context=None, n_draws: int = 2000, seed: int = 0) -> np.ndarray:
        """Monte Carlo: how often each arm wins over ``n_draws`` Beta posterior draws (seeded; the policy's
        own stream is untouched).  No closed form for K > 2; the error is about ``sqrt(p(1-p)/n_draws)``."""
        return self._monte_carlo(lambda rng, size: rng.beta(self.alpha, self.beta, size), n_draws, seed)

    def update(self, arm, reward, context=None):
        ix = self._ix(arm)
        self.t += 1
        self.alpha[ix] += reward
        self.beta[ix] += 1.0 - reward
        return self


class ThompsonGaussian(Policy):
    """Thompson sampling for Gaussian rewards with known noise sd ``sigma`` and prior N(mu_0, s_0^2).

    Posterior of arm i: precision 1/s_0^2 + n_i/sigma^2, mean (mu_0/s_0^2 + S_i/sigma^2) / precision.
    """

    name = "Thompson(Gauss)"

    def __init__(self, n_arms: int, sigma: float = 1.0, prior_mean: float = 0.0, prior_sd: float = 1.0,
                 runs: int | None = None, seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.sigma = number("sigma", sigma, low=0, low_open=True)
        self.prior_mean = float(prior_mean)
        self.prior_sd = number("prior_sd", prior_sd, low=0, low_open=True)
        self.counts = np.zeros(self.shape)
        self.sums = np.zeros(self.shape)

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and standard deviations, each of shape ``self.shape``."""
        precision = 1.0 / self.prior_sd**2 + self.counts / self.sigma**2
        mean = (self.prior_mean / self.prior_sd**2 + self.sums / self.sigma**2) / precision
        return mean, 1.0 / np.sqrt(precision)

    def select(self, context=None):
        mean, sd = self.posterior()
        return self._out(np.argmax(mean + sd * self.rng.standard_normal(self.shape), axis=-1))

    def action_probabilities(self, context=None, n_draws: int = 2000, seed: int = 0) -> np.ndarray:
        """Monte Carlo over ``n_draws`` Gaussian posterior draws (seeded), as ``ThompsonBernoulli``'s."""
        mean, sd = self.posterior()
        return self._monte_carlo(lambda rng, size: mean + sd * rng.standard_normal(size), n_draws, seed)

    def update(self, arm, reward, context=None):
        ix = self._ix(arm)
        self.t += 1
        self.counts[ix] += 1
        self.sums[ix] += reward
        return self


class Softmax(_SampleMean):
    """Softmax (Boltzmann) exploration: P(i) proportional to exp(mu_hat_i / temperature); ``temperature > 0``.

    Small temperature is nearly greedy, large nearly uniform (the lesson's tau).
    """

    def __init__(self, n_arms: int, temperature: float = 0.1, runs: int | None = None, seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.temperature = temperature
        self.name = f"softmax({self.temperature:g})"

    @property
    def temperature(self) -> float:
        return self._temperature

    @temperature.setter
    def temperature(self, value: float) -> None:
        self._temperature = number("temperature", value, low=0, low_open=True)

    def probabilities(self) -> np.ndarray:
        return softmax(self.values, self.temperature)

    def action_probabilities(self, context=None) -> np.ndarray:
        """Exactly the softmax probabilities."""
        return self.probabilities()

    def select(self, context=None):
        return self._out(_inverse_cdf(self.probabilities(), self.rng.random(self.batch)))


class EXP3(Policy):
    """EXP3 (Auer, Cesa-Bianchi, Freund and Schapire 2002) for adversarial rewards in [0, 1].

    p_i = (1 - gamma) w_i / sum_j w_j + gamma / K; after playing a, w_a *= exp(gamma r / (p_a K)).
    ``gamma`` in (0, 1].  Weights are kept as logarithms so they never overflow.
    """

    def __init__(self, n_arms: int, gamma: float = 0.1, runs: int | None = None, seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.gamma = number("gamma", gamma, low=0, high=1, low_open=True)
        self.log_w = np.zeros(self.shape)
        self.p: np.ndarray | None = None
        self.name = f"EXP3(gamma={self.gamma:g})"

    def probabilities(self) -> np.ndarray:
        w = np.exp(self.log_w - self.log_w.max(axis=-1, keepdims=True))
        return (1 - self.gamma) * w / w.sum(axis=-1, keepdims=True) + self.gamma / self.n_arms

    def select(self, context=None):
        self.p = self.probabilities()
        return self._out(_inverse_cdf(self.p, self.rng.random(self.batch)))

    def action_probabilities(self, context=None) -> np.ndarray:
        """Exactly EXP3's mixture ``(1 - gamma) w / sum w + gamma / K``."""
        return self.probabilities()

    def update(self, arm, reward, context=None):
        if self.p is None:
            raise ValueError("EXP3.update needs the probabilities of the last select(): call select() first")
        ix = self._ix(arm)
        self.t += 1
        self.log_w[ix] += self.gamma * reward / (self.p[ix] * self.n_arms)
        return self


class DiscountedUCB(Policy):
    """Discounted UCB (Garivier and Moulines 2011) for rewards that drift or jump.

    Discounted counts N_i = sum_s gamma^(t-s) 1{a_s = i} and sums; index
    S_i / N_i + c sqrt(ln n_t / N_i) with n_t = sum_i N_i.  ``gamma`` in (0, 1]: 1 is UCB1;
    the memory is about 1 / (1 - gamma) steps.  The paper's padding 2B sqrt(xi ln n_t / N_i), with
    rewards bounded by B = 1 and xi = 1/2, is ``c = sqrt(2)`` (the default).
    """

    def __init__(self, n_arms: int, gamma: float = 0.99, c: float = SQRT2, runs: int | None = None,
                 seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.gamma = number("gamma", gamma, low=0, high=1, low_open=True)
        self.c = number("c", c, low=0)
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
        self.counts *= self.gamma
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

    def __init__(self, n_arms: int, window: int = 200, c: float = SQRT2, runs: int | None = None,
                 seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.window = integer("window", window, hint="the number of recent steps remembered")
        self.c = number("c", c, low=0)
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


# --------------------------------------------------------------------------- simulation
@dataclass
class BanditRun:
    """Result of playing R runs of T steps: arrays of shape (R, T) and the mean schedule (T, K)."""

    arms: np.ndarray
    rewards: np.ndarray
    regret: np.ndarray  # cumulative pseudo-regret sum_s (mu*_s - mu_{s, a_s})
    means: np.ndarray

    @property
    def final_regret(self) -> np.ndarray:
        """(R,) pseudo-regret at the last step."""
        return self.regret[:, -1]

    def best_arm_rate(self) -> np.ndarray:
        """(T,) fraction of runs playing the best arm of each step."""
        best = np.argmax(self.means, axis=1)
        return (self.arms == best[None, :]).mean(axis=0)


def mean_schedule(means: Sequence[float] | np.ndarray, horizon: int | None = None) -> np.ndarray:
    """Expected rewards per step, shape (T, K): a (K,) vector repeated, or a (T, K) schedule as is."""
    m = np.asarray(means, dtype=float)
    if m.ndim == 1:
        horizon = integer("horizon", horizon, hint="a fixed mean vector needs the number of steps to play")
        if m.size < 1:
            raise ValueError("means must list at least one arm")
        return np.broadcast_to(m, (horizon, m.size))
    if m.ndim != 2 or m.shape[1] < 1:
        raise ValueError(f"means must have shape (K,) or (T, K), got {m.shape}")
    if horizon is not None and horizon != m.shape[0]:
        raise ValueError(f"horizon {horizon} disagrees with the schedule's {m.shape[0]} steps; leave it out")
    return m


def _noise_blocks(seed: int | None, horizon: int, runs: int, kind: str, chunk: int) -> Iterator[np.ndarray]:
    # A child of seed's SeedSequence: a policy seeded with the same integer draws other numbers.
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    for t0 in range(0, horizon, chunk):
        size = (min(chunk, horizon - t0), runs)
        yield rng.random(size) if kind == "bernoulli" else rng.standard_normal(size)


def _play(policy: Policy, m: np.ndarray, blocks: Iterator[np.ndarray], kind: str, noise_sd: float) -> BanditRun:
    horizon, k = m.shape
    if policy.n_arms != k:
        raise ValueError(f"the policy has {policy.n_arms} arms but the problem has {k}")
    single = policy.runs is None
    runs = 1 if single else policy.runs
    arms = np.empty((runs, horizon), dtype=np.int64)
    rewards = np.empty((runs, horizon))
    t = 0
    for block in blocks:
        for noise in block:
            a = np.atleast_1d(policy.select())
            mu = m[t, a]
            r = (noise < mu).astype(float) if kind == "bernoulli" else mu + noise_sd * noise
            if single:
                policy.update(int(a[0]), float(r[0]))
            else:
                policy.update(a, r)
            arms[:, t] = a
            rewards[:, t] = r
            t += 1
    gaps = m.max(axis=1)[None, :] - m[np.arange(horizon)[None, :], arms]
    return BanditRun(arms, rewards, np.cumsum(gaps, axis=1), np.asarray(m))


def _check_kind(kind: str, noise_sd: float) -> None:
    if kind not in ("bernoulli", "gaussian"):
        raise ValueError(f"rewards must be 'bernoulli' or 'gaussian', got {kind!r}")
    number("noise_sd", noise_sd, low=0, low_open=True)


def simulate(policy: Policy, means, horizon: int | None = None, seed: int | None = 0,
             rewards: str = "bernoulli", noise_sd: float = 1.0, chunk: int = 1024) -> BanditRun:
    """Play ``policy`` (one run, or ``policy.runs`` runs at once) on a bandit problem.

    ``means``: (K,) expected rewards, or a (T, K) schedule for non-stationary problems.
    ``rewards``: ``"bernoulli"`` (reward 1 when U < mu) or ``"gaussian"`` (mu + noise_sd Z).
    The reward noise comes from a child stream of ``seed`` (independent of a policy seeded with
    the same integer), drawn in steps-by-runs order, so ``simulate_loop`` with the same seed pays
    the same rewards for the same choices.
    """
    _check_kind(rewards, noise_sd)
    m = mean_schedule(means, horizon)
    runs = policy.runs or 1
    return _play(policy, m, _noise_blocks(seed, m.shape[0], runs, rewards, chunk), rewards, noise_sd)


def simulate_loop(make_policy: Callable[[int], Policy], means, runs: int, horizon: int | None = None,
                  seed: int | None = 0, rewards: str = "bernoulli", noise_sd: float = 1.0) -> BanditRun:
    """Play ``runs`` one-run policies ``make_policy(r)`` one step at a time (the per-step API).

    Same problem and reward noise as ``simulate(policy_with_runs, ...)`` with the same seed.
    """
    _check_kind(rewards, noise_sd)
    runs = integer("runs", runs, hint="the number of one-run policies to play")
    m = mean_schedule(means, horizon)
    noise = np.concatenate(list(_noise_blocks(seed, m.shape[0], runs, rewards, 1024)), axis=0)
    parts = []
    for r in range(runs):
        policy = make_policy(r)
        if policy.runs is not None:
            raise ValueError("make_policy must return one-run policies (runs=None)")
        parts.append(_play(policy, m, iter([noise[:, r:r + 1]]), rewards, noise_sd))
    return BanditRun(np.vstack([p.arms for p in parts]), np.vstack([p.rewards for p in parts]),
                     np.vstack([p.regret for p in parts]), np.asarray(m))


# --------------------------------------------------------------------------- theory
def bernoulli_kl(p: np.ndarray | float, q: np.ndarray | float) -> np.ndarray:
    """KL(Bernoulli(p) || Bernoulli(q)), elementwise; p, q clipped to [1e-12, 1 - 1e-12]."""
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    q = np.clip(np.asarray(q, dtype=float), 1e-12, 1 - 1e-12)
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def _gaps(means) -> np.ndarray:
    m = np.asarray(means, dtype=float)
    if m.ndim != 1 or m.size < 1:
        raise ValueError(f"means must be a non-empty (K,) vector, got shape {m.shape}")
    return m.max() - m


def ucb1_regret_bound(means, t: np.ndarray | float) -> np.ndarray:
    """Auer et al. (2002) Theorem 1: E[R_t] <= 8 sum_{i: D_i > 0} ln t / D_i + (1 + pi^2/3) sum_i D_i.

    Holds for UCB1 with c = sqrt(2) and rewards in [0, 1]; ``t`` may be an array of horizons.
    """
    d = _gaps(means)
    d = d[d > 0]
    return 8 * np.log(np.asarray(t, dtype=float)) * np.sum(1 / d) + (1 + math.pi**2 / 3) * d.sum()


def lai_robbins_lower_bound(means, t: np.ndarray | float) -> np.ndarray:
    """Lai and Robbins (1985) asymptotic lower bound for Bernoulli arms: ln t sum_i D_i / KL(mu_i, mu*).

    An asymptotic rate (liminf R_t / ln t), not a bound at finite t.
    """
    m = np.asarray(means, dtype=float)
    d = _gaps(m)
    sub = d > 0
    return np.log(np.asarray(t, dtype=float)) * np.sum(d[sub] / bernoulli_kl(m[sub], m.max()))


def recovery_time(run: BanditRun, change_at: int, level: float = 0.5, window: int = 50) -> int | None:
    """Steps after ``change_at`` until the fraction of runs playing the new best arm, averaged
    over a trailing ``window`` of steps, first reaches ``level``; ``None`` if it never does.

    The best-arm rate of ``run``, handed to ``course_lib.numerics.recovery_time`` (the one implementation).
    """
    if not 0 < change_at < run.arms.shape[1]:
        raise ValueError(f"change_at must be inside the horizon (1..{run.arms.shape[1] - 1}), got {change_at}")
    best = int(np.argmax(run.means[change_at]))
    rate = (run.arms[:, change_at:] == best).mean(axis=0)
    steps = int(_recovery_time(rate, 0, level, window, above=True, full_window=False, never=-1))
    return None if steps < 0 else steps


# --------------------------------------------------------------------------- exercise references (checkers: course_lib.notebook.checks)


