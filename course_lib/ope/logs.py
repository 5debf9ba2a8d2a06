"""Lesson 06's simulated logs on a finite context table: draw logs, the true value of a policy, every estimate on a log."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.validate import array

from course_lib.ope.estimators import Estimate, all_estimates
from course_lib.ope.policies import sample_actions


@dataclass(frozen=True)
class SimulatedLogs:
    """R logs of n events each, drawn from a finite world: arrays of shape (R, n)."""

    contexts: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    propensities: np.ndarray


def simulate_logs(click_probs: np.ndarray, context_probs: np.ndarray, logging_probs: np.ndarray,
                  n_events: int, n_logs: int, rng: np.random.Generator) -> SimulatedLogs:
    """Simulate ``n_logs`` independent logs of ``n_events`` each, vectorised over logs and events.

    click_probs: (C, K) true click probability of action k in context c; context_probs: (C,)
    how often each context occurs; logging_probs: (C, K) the logger pi_0.
    """
    q = array("click_probs", click_probs, low=0.0, high=1.0, min_ndim=1)
    pc = array("context_probs", context_probs, low=0.0, min_ndim=1)
    if q.ndim != 2 or np.shape(logging_probs) != q.shape or pc.shape != (q.shape[0],):
        raise ValueError(f"need click_probs (C, K), logging_probs (C, K) and context_probs (C,); got "
                         f"{q.shape}, {np.shape(logging_probs)}, {pc.shape}")
    if n_events < 2 or n_logs < 1:
        raise ValueError(f"need n_events >= 2 and n_logs >= 1, got {n_events} and {n_logs}")
    ctx = rng.choice(q.shape[0], size=(n_logs, n_events), p=pc / pc.sum())
    act = sample_actions(logging_probs, ctx, rng)
    rew = (rng.random(ctx.shape) < q[ctx, act]).astype(float)
    return SimulatedLogs(ctx, act, rew, np.asarray(logging_probs)[ctx, act])


def policy_value(click_probs: np.ndarray, policy_probs: np.ndarray, context_probs: np.ndarray) -> float:
    """The true value V(pi) = sum_c P(c) sum_a pi(a|c) q(c, a), from the hidden click model."""
    pc = np.asarray(context_probs, dtype=float)
    return float(pc @ (np.asarray(policy_probs) * np.asarray(click_probs)).sum(axis=1) / pc.sum())


def estimates_on_logs(logs: SimulatedLogs, policy_probs: np.ndarray, q_hat: np.ndarray,
                      cap: float = 10.0) -> dict[str, Estimate]:
    """Every estimator of ``all_estimates`` on every log of ``logs`` for the policy ``policy_probs`` (C, K)."""
    pi = np.asarray(policy_probs)[logs.contexts, logs.actions]
    q_logged = q_hat[logs.contexts, logs.actions]
    q_target = (policy_probs * q_hat).sum(axis=1)[logs.contexts]
    return all_estimates(logs.rewards, logs.propensities, pi, q_logged, q_target, cap=cap)
