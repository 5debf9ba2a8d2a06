"""Lesson 02's stationary policies: epsilon-greedy, UCB1, Thompson sampling (Beta, Gaussian), softmax, EXP3, random; the index formulas of the lesson's equations 2-4."""

from __future__ import annotations

import math

import numpy as np

from course_lib.numerics import softmax
from course_lib.protocols import StateDictMixin
from course_lib.validate import Checked, integer, number


SQRT2 = math.sqrt(2.0)


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

    epsilon = Checked(lambda v: number("epsilon", v, low=0, high=1))  # checked on every assignment

    def __init__(self, n_arms: int, epsilon: float = 0.1, decay: float | None = None,
                 runs: int | None = None, seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.epsilon = epsilon
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

    c = Checked(lambda v: number("c", v, low=0))  # checked on every assignment

    def __init__(self, n_arms: int, c: float = SQRT2, runs: int | None = None, seed: int = 0):
        super().__init__(n_arms, runs, seed)
        self.c = c
        self.name = f"UCB1(c={self.c:.3g})"

    def select(self, context=None):
        return self._out(np.argmax(ucb1_index(self.values, self.counts, self.t, self.c), axis=-1))

    def action_probabilities(self, context=None) -> np.ndarray:
        """One-hot on the arm ``select`` plays (UCB1 is deterministic)."""
        return self._one_hot(self.select())


def ucb1_batch_arms(values: np.ndarray, counts: np.ndarray, t: float, c: float, n: int) -> np.ndarray:
    """The ``n`` arms UCB1 shows during a batch whose rewards arrive only at its end (lesson 02, exercise 4).

    Each pull already scheduled counts as a pull (``n_i`` and ``t`` grow) but, with no reward yet, leaves the
    mean unchanged, so the bonus of a scheduled arm shrinks and the batch spreads over the uncertain arms
    (the "hallucinated" observations of Desautels, Krause and Burdick, JMLR 2014).  Returns (n,) arm indices;
    the inputs are unchanged.
    """
    values = np.asarray(values, dtype=float)
    pending = np.zeros(values.shape)
    arms = np.empty(integer("n", n), dtype=np.int64)
    for j in range(n):
        arms[j] = np.argmax(ucb1_index(values, np.asarray(counts, dtype=float) + pending, t + j, c))
        pending[arms[j]] += 1
    return arms


class PendingUCB1(UCB1):
    """UCB1 that counts the pulls whose rewards are still pending (``ucb1_batch_arms``, one step at a time).

    ``select`` books the pull it returns; ``update`` settles it.  With feedback after every step it plays
    exactly as UCB1; with feedback in batches (``simulate(..., batch_size=N)``) it spreads a batch over
    the arms it is unsure about instead of repeating one arm.
    """

    def __init__(self, n_arms: int, c: float = SQRT2, runs: int | None = None, seed: int = 0):
        super().__init__(n_arms, c, runs, seed)
        self.pending = np.zeros(self.shape)
        self.name = f"pending-UCB1(c={self.c:.3g})"

    def _choice(self):
        booked = self.pending.sum(axis=-1)
        t = self.t + (booked if self.runs is None else booked[:, None])
        return np.argmax(ucb1_index(self.values, self.counts + self.pending, t, self.c), axis=-1)

    def select(self, context=None):
        arms = self._choice()
        self.pending[self._rows, arms] += 1
        return self._out(arms)

    def action_probabilities(self, context=None) -> np.ndarray:
        """One-hot on the arm the next ``select`` books (deterministic); the state is unchanged."""
        return self._one_hot(self._choice())

    def update(self, arm, reward, context=None):
        ix = self._ix(arm)
        self.pending[ix] = np.maximum(self.pending[ix] - 1, 0)
        return super().update(arm, reward)


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


class ExploreThenCommit(_SampleMean):
    """Explore-then-commit (Lattimore and Szepesvari 2020, ch. 6): an A/B/n test, then ship the winner.

    Plays the arms in turn (arm ``t mod K`` at step t) for ``m * K`` steps, ``m`` pulls each, then
    commits for good to the arm with the best sample mean at that moment (ties to the lowest index).
    ``m``: pulls per arm, an int >= 1, or a (runs,) array of them (one per run, to sweep m in one
    simulation).  Deterministic given the rewards.
    """

    def __init__(self, n_arms: int, m, runs: int | None = None, seed: int = 0):
        super().__init__(n_arms, runs, seed)
        hint = "the pulls of every arm before committing, e.g. m=50"
        if np.ndim(m) == 0:
            self.m = np.asarray(integer("m", m, hint=hint))
        else:
            if self.runs is None or np.shape(m) != (self.runs,):
                raise ValueError(f"m must be one integer >= 1 or an array of shape (runs,) = ({self.runs},), "
                                 f"got shape {np.shape(m)}; pass an int for a single run")
            self.m = np.array([integer("every m", v, hint=hint) for v in np.ravel(m)], dtype=np.int64)
        self.committed = np.full(self.batch, -1, dtype=np.int64)   # -1 while still exploring
        self.name = f"ETC(m={int(self.m)})" if self.m.ndim == 0 else "ETC(m per run)"

    def select(self, context=None):
        arms = np.where(self.t < self.m * self.n_arms, self.t % self.n_arms, self.committed)
        return self._out(np.broadcast_to(arms, self.batch).astype(np.int64))

    def action_probabilities(self, context=None) -> np.ndarray:
        """One-hot on the arm ``select`` plays (ETC is deterministic)."""
        return self._one_hot(self.select())

    def update(self, arm, reward, context=None):
        super().update(arm, reward)
        done = (self.t >= self.m * self.n_arms) & (self.committed < 0)
        if np.any(done):
            self.committed = np.where(done, np.argmax(self.values, axis=-1), self.committed)
        return self
