"""Lesson 02's simulator: play a policy on a Bernoulli or Gaussian problem, vectorised over runs (``simulate``), or one-run policies step by step (``simulate_loop``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from course_lib.bandits.policies import Policy
from course_lib.validate import integer, number


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


def _play(policy: Policy, m: np.ndarray, blocks: Iterator[np.ndarray], kind: str, noise_sd: float,
          batch_size: int = 1) -> BanditRun:
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
            arms[:, t] = a
            rewards[:, t] = r
            t += 1
            if t % batch_size == 0 or t == horizon:   # the batch's feedback arrives, in order of play
                for s in range(t - (t - 1) % batch_size - 1, t):
                    if single:
                        policy.update(int(arms[0, s]), float(rewards[0, s]))
                    else:
                        policy.update(arms[:, s], rewards[:, s])
    gaps = m.max(axis=1)[None, :] - m[np.arange(horizon)[None, :], arms]
    return BanditRun(arms, rewards, np.cumsum(gaps, axis=1), np.asarray(m))


def _check_kind(kind: str, noise_sd: float) -> None:
    if kind not in ("bernoulli", "gaussian"):
        raise ValueError(f"rewards must be 'bernoulli' or 'gaussian', got {kind!r}")
    number("noise_sd", noise_sd, low=0, low_open=True)


def simulate(policy: Policy, means, horizon: int | None = None, seed: int | None = 0,
             rewards: str = "bernoulli", noise_sd: float = 1.0, chunk: int = 1024, batch_size: int = 1) -> BanditRun:
    """Play ``policy`` (one run, or ``policy.runs`` runs at once) on a bandit problem.

    ``means``: (K,) expected rewards, or a (T, K) schedule for non-stationary problems.
    ``rewards``: ``"bernoulli"`` (reward 1 when U < mu) or ``"gaussian"`` (mu + noise_sd Z).
    The reward noise comes from a child stream of ``seed`` (independent of a policy seeded with
    the same integer), drawn in steps-by-runs order, so ``simulate_loop`` with the same seed pays
    the same rewards for the same choices.
    ``batch_size``: delayed feedback.  The policy chooses every step, but the rewards reach it only every
    ``batch_size`` steps (then all of that batch's updates, in order of play); in between its state is
    frozen.  ``1`` (the default) updates after every step.  (``MetaUCB`` remembers only its last choice of
    configuration, so it needs ``batch_size=1``.)
    """
    _check_kind(rewards, noise_sd)
    batch_size = integer("batch_size", batch_size, hint="the steps between two updates of the policy; 1 updates every step")
    if batch_size > 1 and hasattr(policy, "meta"):
        raise ValueError("batch_size: MetaUCB learns which configuration chose each arm at the next update; use batch_size=1")
    m = mean_schedule(means, horizon)
    runs = policy.runs or 1
    return _play(policy, m, _noise_blocks(seed, m.shape[0], runs, rewards, chunk), rewards, noise_sd, batch_size)


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
