"""Lesson 06's estimators of a target policy's value from logged events: replay, IPS, clipped IPS, SNIPS, the direct method, doubly robust, the effective sample size; each reduces over the last axis and returns an ``Estimate``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.validate import array, number


Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    """An off-policy estimate: ``value`` and standard error ``se`` (floats, or arrays over runs).

    ``n`` is the number of logged events used per run (for replay, the number matched), and
    ``ci`` the normal-approximation interval ``value -/+ z * se`` at ``level``.
    """

    name: str
    value: float | np.ndarray
    se: float | np.ndarray
    n: int | np.ndarray
    level: float = 0.95

    @property
    def ci(self) -> tuple[float | np.ndarray, float | np.ndarray]:
        from scipy.stats import norm

        z = Z95 if self.level == 0.95 else float(norm.ppf(0.5 + self.level / 2))
        return self.value - z * self.se, self.value + z * self.se


def _out(x: np.ndarray) -> float | np.ndarray:
    """0-d arrays become floats, so a single log gives plain numbers."""
    return float(x) if np.ndim(x) == 0 else x


_POSITIVITY = ("a zero propensity means the logger never takes that action, so no reweighting "
               "can evaluate it (positivity fails): log with exploration, or use the direct method")


def _same_shape(**arrays: np.ndarray) -> None:
    shapes = {k: v.shape for k, v in arrays.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"arrays must have the same shape (one entry per logged event), got {shapes}")


def _logged(rewards, propensities, target_probs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = array("rewards", rewards, min_ndim=1)
    p = array("propensities", propensities, low=0.0, high=1.0, low_open=True, hint=_POSITIVITY, min_ndim=1)
    pi = array("target_probs", target_probs, low=0.0, high=1.0, min_ndim=1)
    _same_shape(rewards=r, propensities=p, target_probs=pi)
    return r, p, pi


def _mean_se(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = terms.shape[-1]
    mean = terms.mean(axis=-1)
    se = terms.std(axis=-1, ddof=1) / np.sqrt(n) if n > 1 else np.full_like(mean, np.inf)
    return mean, se


def importance_weights(propensities, target_probs) -> np.ndarray:
    """w_i = pi(a_i | x_i) / pi_0(a_i | x_i), the lesson's importance weight."""
    p = array("propensities", propensities, low=0.0, high=1.0, low_open=True, hint=_POSITIVITY, min_ndim=1)
    pi = array("target_probs", target_probs, low=0.0, high=1.0, min_ndim=1)
    _same_shape(propensities=p, target_probs=pi)
    return pi / p


def ips(rewards, propensities, target_probs) -> Estimate:
    """Inverse propensity scoring: V_IPS = (1/n) sum_i w_i r_i, unbiased when pi_0 > 0 wherever pi > 0.

    rewards, propensities (pi_0(a_i|x_i) > 0), target_probs (pi(a_i|x_i)): shape (..., n).
    """
    r, p, pi = _logged(rewards, propensities, target_probs)
    terms = pi / p * r
    mean, se = _mean_se(terms)
    return Estimate("IPS", _out(mean), _out(se), r.shape[-1])


def clipped_ips(rewards, propensities, target_probs, cap: float) -> Estimate:
    """Clipped IPS: V = (1/n) sum_i min(w_i, M) r_i; lower variance, biased (down, for r >= 0) when weights exceed M.

    ``cap`` is M > 0; ``cap=np.inf`` gives plain IPS.
    """
    if not cap > 0:
        raise ValueError(f"cap must be > 0 (np.inf for no clipping), got {cap}")
    r, p, pi = _logged(rewards, propensities, target_probs)
    terms = np.minimum(pi / p, cap) * r
    mean, se = _mean_se(terms)
    return Estimate(f"clipped IPS (M={cap:g})", _out(mean), _out(se), r.shape[-1])


def snips(rewards, propensities, target_probs) -> Estimate:
    """Self-normalised IPS: V_SNIPS = sum_i w_i r_i / sum_i w_i; invariant to rescaling the propensities.

    Standard error by the delta method: sqrt(sum_i w_i^2 (r_i - V)^2) / sum_i w_i.
    """
    r, p, pi = _logged(rewards, propensities, target_probs)
    w = pi / p
    sw = w.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (w * r).sum(axis=-1) / sw
        se = np.sqrt((w**2 * (r - value[..., None]) ** 2).sum(axis=-1)) / sw
    return Estimate("SNIPS", _out(value), _out(se), r.shape[-1])


def direct_method(q_target) -> Estimate:
    """Direct method: V_DM = (1/n) sum_i sum_a pi(a | x_i) q_hat(x_i, a).

    ``q_target``: shape (..., n), the reward model averaged under the evaluated policy at each
    logged context.  The standard error covers only the sampling of contexts, not the reward
    model's own error (its bias), which is DM's weakness.
    """
    q = array("q_target", q_target, min_ndim=1)
    mean, se = _mean_se(q)
    return Estimate("DM", _out(mean), _out(se), q.shape[-1])


def doubly_robust(rewards, propensities, target_probs, q_logged, q_target) -> Estimate:
    """Doubly robust: V_DR = (1/n) sum_i [ q_target_i + w_i (r_i - q_hat(x_i, a_i)) ] (Dudik et al. 2011).

    Unbiased when either the propensities or the reward model are right.  ``q_logged`` is
    q_hat(x_i, a_i) at the logged action and ``q_target`` is sum_a pi(a|x_i) q_hat(x_i, a);
    all arrays have shape (..., n).
    """
    r, p, pi = _logged(rewards, propensities, target_probs)
    ql = array("q_logged", q_logged, min_ndim=1)
    qt = array("q_target", q_target, min_ndim=1)
    _same_shape(rewards=r, q_logged=ql, q_target=qt)
    terms = qt + pi / p * (r - ql)
    mean, se = _mean_se(terms)
    return Estimate("DR", _out(mean), _out(se), r.shape[-1])


def self_normalised_dr(rewards, propensities, target_probs, q_logged, q_target) -> Estimate:
    """Self-normalised doubly robust: V_SNDR = (1/n) sum_i q_target_i + sum_i w_i (r_i - q_hat(x_i, a_i)) / sum_i w_i.

    DR's correction divided by the sum of the weights instead of n, as SNIPS does for IPS: invariant to
    rescaling every propensity by one factor, slightly biased (order 1/n), less variable when a few large
    weights dominate.  Standard error by the delta method, from the terms q_target_i + w_i (e_i - c) / w_bar,
    with e_i the residual, c the self-normalised correction and w_bar the mean weight.  Shapes (..., n).
    """
    r, p, pi = _logged(rewards, propensities, target_probs)
    ql = array("q_logged", q_logged, min_ndim=1)
    qt = array("q_target", q_target, min_ndim=1)
    _same_shape(rewards=r, q_logged=ql, q_target=qt)
    w = pi / p
    e = r - ql
    w_bar = w.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = (w * e).sum(axis=-1, keepdims=True) / (w_bar * w.shape[-1])
        terms = qt + w * (e - c) / w_bar
    _, se = _mean_se(terms)
    value = qt.mean(axis=-1) + c[..., 0]
    return Estimate("SNDR", _out(value), _out(se), r.shape[-1])


def switch(rewards, propensities, target_probs, q_switched, tau: float) -> Estimate:
    """SWITCH (Wang, Agarwal and Dudik, ICML 2017): IPS where the weight is at most tau, the reward model above.

    V_SWITCH = (1/n) sum_i [ w_i r_i 1(w_i <= tau) + sum_a pi(a|x_i) q_hat(x_i, a) 1(w(x_i, a) > tau) ].
    ``q_switched`` (..., n) is the second sum at each logged context (the caller knows pi and pi_0 over all
    actions); ``tau = np.inf`` gives IPS, ``tau = 0`` DM.  The standard error treats the per-event terms as
    independent, so, as for DM, it ignores the reward model's bias.
    """
    if not (isinstance(tau, (int, float, np.floating, np.integer)) and tau == np.inf):
        tau = number("tau", tau, low=0, hint="the largest importance weight IPS keeps; np.inf for plain IPS")
    r, p, pi = _logged(rewards, propensities, target_probs)
    qs = array("q_switched", q_switched, min_ndim=1)
    _same_shape(rewards=r, q_switched=qs)
    w = pi / p
    terms = np.where(w <= tau, w * r, 0.0) + qs
    mean, se = _mean_se(terms)
    return Estimate(f"SWITCH (tau={tau:g})", _out(mean), _out(se), r.shape[-1])


def replay(rewards, logged_actions, target_actions) -> Estimate:
    """Replay / rejection sampling (Li et al. 2011): the mean reward over events where pi's action equals the logged one.

    Unbiased for V(pi) when the logger chose uniformly at random; keeps about n/K events.
    ``target_actions`` are pi's choices at each logged context (sample them for a stochastic pi).
    A run with no match gets ``nan``.
    """
    r = array("rewards", rewards, min_ndim=1)
    a = np.asarray(logged_actions)
    b = np.asarray(target_actions)
    _same_shape(rewards=r, logged_actions=a, target_actions=b)
    match = a == b
    m = match.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (r * match).sum(axis=-1) / m
        var = ((r - value[..., None]) ** 2 * match).sum(axis=-1) / (m - 1)
        se = np.sqrt(var / m)
    return Estimate("replay", _out(value), _out(se), _out(m) if np.ndim(m) else int(m))


def effective_sample_size(weights) -> float | np.ndarray:
    """Kish's effective sample size (sum_i w_i)^2 / sum_i w_i^2 of importance weights, along the last axis.

    Equals n for equal weights; a few huge weights drive it towards 1.
    """
    w = array("weights", weights, low=0.0, min_ndim=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _out(w.sum(axis=-1) ** 2 / (w**2).sum(axis=-1))


def all_estimates(rewards, propensities, target_probs, q_logged, q_target,
                  cap: float = 10.0) -> dict[str, Estimate]:
    """IPS, clipped IPS (cap M), SNIPS, DM and DR on the same arrays, keyed by short name."""
    return {
        "IPS": ips(rewards, propensities, target_probs),
        "clipped IPS": clipped_ips(rewards, propensities, target_probs, cap),
        "SNIPS": snips(rewards, propensities, target_probs),
        "DM": direct_method(q_target),
        "DR": doubly_robust(rewards, propensities, target_probs, q_logged, q_target),
    }


def ips_value(rewards, propensities, target_probs) -> float:
    """Reference for the IPS exercise: the IPS estimate as a float."""
    return float(ips(rewards, propensities, target_probs).value)


def dr_value(rewards, propensities, target_probs, q_logged, q_target) -> float:
    """The doubly robust estimate as a float."""
    return float(doubly_robust(rewards, propensities, target_probs, q_logged, q_target).value)


def sndr_value(rewards, propensities, target_probs, q_logged, q_target) -> float:
    """Reference for the self-normalised DR exercise: the SNDR estimate of one log as a float."""
    return float(self_normalised_dr(rewards, propensities, target_probs, q_logged, q_target).value)
