"""Lesson 06: off-policy evaluation, estimating a new policy's value from an old policy's log.

A logging policy pi_0 chose action a_i in context x_i with propensity p_i = pi_0(a_i | x_i) and
observed reward r_i.  The estimators below guess V(pi) = E_x E_{a ~ pi(.|x)} [r(x, a)] for a
different policy pi from those arrays alone:

- replay / rejection sampling (Li, Chu, Langford and Wang, "Unbiased offline evaluation of
  contextual-bandit-based news article recommendation algorithms", WSDM 2011);
- inverse propensity scoring (IPS, Horvitz and Thompson 1952), clipped IPS, self-normalised
  IPS (SNIPS);
- the direct method (DM) with a fitted reward model q_hat(x, a);
- doubly robust (DR; Dudik, Langford and Li, "Doubly robust policy evaluation and learning",
  ICML 2011).

Every estimator is a function of arrays of logged events and reduces over the LAST axis, so a
Monte Carlo over R logs passes arrays of shape (R, n) and gets R estimates in one call.  Each
returns an ``Estimate`` with the value, a standard error and a normal 95% confidence interval.

The module also holds the effective sample size of importance weights, inverse-examination
weighting for position bias (the position-based click model; Joachims, Swaminathan and
Schnabel, "Unbiased learning-to-rank with biased feedback", WSDM 2017), a small policy learner
that maximises a variance-penalised SNIPS objective (in the spirit of POEM; Swaminathan and
Joachims, "Counterfactual risk minimization", ICML/JMLR 2015, and "The self-normalized
estimator for counterfactual learning", NeurIPS 2015), and the references of the lesson's exercises.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.numerics import sigmoid, softmax

Z95 = 1.959963984540054


# --------------------------------------------------------------------------------------------
# Estimates and validation
# --------------------------------------------------------------------------------------------
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


def _array(name: str, x, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False, hint: str = "") -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 0 or a.shape[-1] == 0:
        raise ValueError(f"{name} must be a non-empty array of logged events, got shape {a.shape}")
    if np.isnan(a).any():
        raise ValueError(f"{name} has {int(np.isnan(a).sum())} missing (NaN) values; "
                         f"drop those events or fill them in before estimating{hint}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite, found inf")
    if lo is not None:
        bad = a <= lo if lo_open else a < lo
        if bad.any():
            op = ">" if lo_open else ">="
            raise ValueError(f"{name} must be {op} {lo}, found {a[bad].ravel()[0]:g} "
                             f"({int(bad.sum())} events){hint}")
    if hi is not None and (a > hi).any():
        raise ValueError(f"{name} must be <= {hi}, found {a[a > hi].ravel()[0]:g}")
    return a


_POSITIVITY = ("; a zero propensity means the logger never takes that action, so no reweighting "
               "can evaluate it (positivity fails): log with exploration, or use the direct method")


def _same_shape(**arrays: np.ndarray) -> None:
    shapes = {k: v.shape for k, v in arrays.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"arrays must have the same shape (one entry per logged event), got {shapes}")


def _logged(rewards, propensities, target_probs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = _array("rewards", rewards)
    p = _array("propensities", propensities, lo=0.0, hi=1.0, lo_open=True, hint=_POSITIVITY)
    pi = _array("target_probs", target_probs, lo=0.0, hi=1.0)
    _same_shape(rewards=r, propensities=p, target_probs=pi)
    return r, p, pi


def _mean_se(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = terms.shape[-1]
    mean = terms.mean(axis=-1)
    se = terms.std(axis=-1, ddof=1) / np.sqrt(n) if n > 1 else np.full_like(mean, np.inf)
    return mean, se


# --------------------------------------------------------------------------------------------
# Estimators
# --------------------------------------------------------------------------------------------
def importance_weights(propensities, target_probs) -> np.ndarray:
    """w_i = pi(a_i | x_i) / pi_0(a_i | x_i), the lesson's importance weight."""
    p = _array("propensities", propensities, lo=0.0, hi=1.0, lo_open=True, hint=_POSITIVITY)
    pi = _array("target_probs", target_probs, lo=0.0, hi=1.0)
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
    q = _array("q_target", q_target)
    mean, se = _mean_se(q)
    return Estimate("DM", _out(mean), _out(se), q.shape[-1])


def doubly_robust(rewards, propensities, target_probs, q_logged, q_target) -> Estimate:
    """Doubly robust: V_DR = (1/n) sum_i [ q_target_i + w_i (r_i - q_hat(x_i, a_i)) ] (Dudik et al. 2011).

    Unbiased when either the propensities or the reward model are right.  ``q_logged`` is
    q_hat(x_i, a_i) at the logged action and ``q_target`` is sum_a pi(a|x_i) q_hat(x_i, a);
    all arrays have shape (..., n).
    """
    r, p, pi = _logged(rewards, propensities, target_probs)
    ql = _array("q_logged", q_logged)
    qt = _array("q_target", q_target)
    _same_shape(rewards=r, q_logged=ql, q_target=qt)
    terms = qt + pi / p * (r - ql)
    mean, se = _mean_se(terms)
    return Estimate("DR", _out(mean), _out(se), r.shape[-1])


def replay(rewards, logged_actions, target_actions) -> Estimate:
    """Replay / rejection sampling (Li et al. 2011): the mean reward over events where pi's action equals the logged one.

    Unbiased for V(pi) when the logger chose uniformly at random; keeps about n/K events.
    ``target_actions`` are pi's choices at each logged context (sample them for a stochastic pi).
    A run with no match gets ``nan``.
    """
    r = _array("rewards", rewards)
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
    w = _array("weights", weights, lo=0.0)
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


# --------------------------------------------------------------------------------------------
# Policies on a finite context set, and fast simulation of many logs
# --------------------------------------------------------------------------------------------
# softmax(scores, temperature) is course_lib.numerics.softmax (re-exported here).


def epsilon_greedy_probs(scores: np.ndarray, epsilon: float) -> np.ndarray:
    """Action probabilities (..., K): 1 - epsilon + epsilon/K on the argmax of ``scores``, epsilon/K elsewhere."""
    if not 0 <= epsilon <= 1:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
    s = np.asarray(scores, dtype=float)
    k = s.shape[-1]
    probs = np.full(s.shape, epsilon / k)
    np.put_along_axis(probs, s.argmax(axis=-1)[..., None], 1 - epsilon + epsilon / k, axis=-1)
    return probs


def sample_actions(probs: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one action per entry of ``rows`` from ``probs[rows]`` (probs: (C, K) rows summing to 1).

    Vectorised inverse-CDF sampling over any shape of ``rows`` without building (..., K)
    arrays: the C cumulative rows are laid end to end, row c shifted by c, and one
    ``searchsorted`` finds every action.
    """
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 2:
        raise ValueError(f"probs must be (contexts, actions), got shape {probs.shape}")
    if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-8) or (probs < 0).any():
        raise ValueError("each row of probs must be a probability distribution (>= 0, summing to 1)")
    c, k = probs.shape
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    flat = (cum + np.arange(c)[:, None]).ravel()
    rows = np.asarray(rows)
    u = rows + rng.random(rows.shape)
    idx = np.searchsorted(flat, u, side="right")
    return np.minimum(idx - rows * k, k - 1)


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
    q = _array("click_probs", click_probs, lo=0.0, hi=1.0)
    pc = _array("context_probs", context_probs, lo=0.0)
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


# --------------------------------------------------------------------------------------------
# Position bias
# --------------------------------------------------------------------------------------------
# examination_probs and position_based_clicks (the position-based click model): course_lib.sim.clicks


def item_click_rates(items, positions, clicks, n_items: int,
                     examination: np.ndarray | None = None) -> np.ndarray:
    """Per-item click rate from impressions; with ``examination`` each click counts 1/theta_position.

    Naive (no examination): clicks / impressions, biased towards items usually shown on top.
    Inverse examination weighting recovers the attractiveness alpha(item) of the position-based
    model: E[click / theta_k] = alpha.  items, positions (0-based ranks), clicks: flat arrays of
    impressions.  Items never shown get ``nan``.
    """
    items = np.asarray(items).ravel()
    positions = np.asarray(positions).ravel()
    c = _array("clicks", clicks, lo=0.0).ravel()
    if not (items.shape == positions.shape == c.shape):
        raise ValueError("items, positions and clicks must have one entry per impression")
    if examination is not None:
        e = _array("examination", examination, lo=0.0, hi=1.0, lo_open=True,
                   hint="; a position nobody examines carries no information")
        c = c / e[positions]
    shown = np.bincount(items, minlength=n_items).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(items, weights=c, minlength=n_items) / shown


# --------------------------------------------------------------------------------------------
# Learning a policy from logs: variance-penalised SNIPS (POEM-style)
# --------------------------------------------------------------------------------------------
def poem_objective(W: np.ndarray, x: np.ndarray, y: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                   propensities: np.ndarray, lam: float, l2: float = 0.0) -> tuple[float, np.ndarray, float]:
    """Penalised SNIPS objective J(W) = V_SNIPS - lam * SE_SNIPS - l2 ||W||^2 of pi_W(a|x) ∝ exp(x^T W y_a), and dJ/dW.

    x (n, dx), y (K, dy), actions, rewards, propensities (n,).  Returns (J, gradient (dx, dy), V_SNIPS).
    The gradient uses d log pi_W(a_i|x_i) / dW = x_i (y_{a_i} - sum_a pi_W(a|x_i) y_a)^T.
    """
    n = len(rewards)
    probs = softmax(x @ W @ y.T)                                   # (n, K)
    w = probs[np.arange(n), actions] / propensities
    s0 = w.sum()
    v = (w * rewards).sum() / s0
    d = rewards - v
    q = (w**2 * d**2).sum() + 1e-12
    se = np.sqrt(q) / s0
    # dJ/dw_i through V, Q and the normalisation, then times w_i for d/d log pi
    dv = d / s0
    dq = 2 * w * d**2 - 2 * (w**2 * d).sum() * dv
    dse = dq / (2 * np.sqrt(q) * s0) - se / s0
    g = (dv - lam * dse) * w
    grad = x.T @ (g[:, None] * (y[actions] - probs @ y)) - 2 * l2 * W
    return float(v - lam * se - l2 * (W**2).sum()), grad, float(v)


class POEMPolicy:
    """Softmax policy pi_W(a|x) ∝ exp(x^T W y_a) learned from a log by maximising a penalised SNIPS.

    Objective (the lesson's counterfactual risk minimisation, Swaminathan and Joachims 2015):
    V_SNIPS(W) - lam * SE_SNIPS(W) - l2 ||W||^2, with w_i = pi_W(a_i|x_i)/p_i and SE by the
    delta method (``poem_objective``), maximised by full-batch Adam from W = 0.
    Verbs: ``fit`` on a log, ``predict_proba`` / ``select`` on new contexts.
    """

    def __init__(self, lam: float = 1.0, l2: float = 1e-3, lr: float = 0.05, n_steps: int = 200):
        if lam < 0 or l2 < 0 or lr <= 0 or n_steps < 1:
            raise ValueError(f"need lam >= 0, l2 >= 0, lr > 0, n_steps >= 1; got {lam}, {l2}, {lr}, {n_steps}")
        self.lam, self.l2, self.lr, self.n_steps = lam, l2, lr, n_steps
        self.W: np.ndarray | None = None
        self.history: list[float] = []

    def fit(self, context_features, item_features, actions, rewards, propensities) -> "POEMPolicy":
        """context_features (n, dx) of the logged events, item_features (K, dy), actions, rewards, propensities (n,).

        ``history`` holds the training-log SNIPS value at each step.
        """
        x = _array("context_features", context_features)
        y = _array("item_features", item_features)
        r, p, _ = _logged(rewards, propensities, np.zeros(np.shape(rewards)))
        a = np.asarray(actions)
        if x.ndim != 2 or y.ndim != 2 or len(x) != len(r) or a.shape != r.shape:
            raise ValueError("need context_features (n, dx), item_features (K, dy), and n actions, rewards, propensities")
        if a.min() < 0 or a.max() >= len(y):
            raise ValueError(f"actions must index item_features rows 0..{len(y) - 1}")
        W = np.zeros((x.shape[1], y.shape[1]))
        m, v2 = np.zeros_like(W), np.zeros_like(W)
        b1, b2 = 0.9, 0.999
        self.history = []
        for t in range(1, self.n_steps + 1):
            _, grad, value = poem_objective(W, x, y, a, r, p, self.lam, self.l2)
            self.history.append(value)
            m = b1 * m + (1 - b1) * grad
            v2 = b2 * v2 + (1 - b2) * grad**2
            W = W + self.lr * (m / (1 - b1**t)) / (np.sqrt(v2 / (1 - b2**t)) + 1e-8)   # Adam ascent
        self.W = W
        self.item_features_ = y
        return self

    def predict_proba(self, context_features) -> np.ndarray:
        """Action probabilities (n, K) for contexts (n, dx)."""
        if self.W is None:
            raise ValueError("POEMPolicy is not fitted yet: call fit(...) first")
        x = np.atleast_2d(_array("context_features", context_features))
        return softmax(x @ self.W @ self.item_features_.T)

    def select(self, context_features) -> np.ndarray:
        """The most probable action for each context."""
        return self.predict_proba(context_features).argmax(axis=1)


# --------------------------------------------------------------------------------------------
# Exercise references (the checkers: course_lib.notebook.checks.lesson06)
# --------------------------------------------------------------------------------------------


def ips_value(rewards, propensities, target_probs) -> float:
    """Reference for the IPS exercise: the IPS estimate as a float."""
    return float(ips(rewards, propensities, target_probs).value)


def dr_value(rewards, propensities, target_probs, q_logged, q_target) -> float:
    """Reference for the DR exercise: the doubly robust estimate as a float."""
    return float(doubly_robust(rewards, propensities, target_probs, q_logged, q_target).value)


# --------------------------------------------------------------------------------------------
# The lesson's finite view of lesson 03's product world, and a reward model
# --------------------------------------------------------------------------------------------
# ContextTable and context_table (every context of lesson 03's world): course_lib.sim.world


class RewardModel:
    """Logistic regression of clicks on context, item and their products: q_hat(x, a) = sigmoid(x^T W y_a + b^T x + c^T y_a + d).

    The reward model of the direct method and of DR.  ``fit`` on logged (x_i, a_i, r_i);
    ``predict(contexts)`` returns q_hat for every item, shape (n, K).  ``C`` is scikit-learn's
    inverse L2 strength.
    """

    def __init__(self, C: float = 1.0):
        if not C > 0:
            raise ValueError(f"C must be > 0, got {C}")
        self.C = C
        self.coef_: np.ndarray | None = None

    @staticmethod
    def _design(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.hstack([x, y, (x[:, :, None] * y[:, None, :]).reshape(len(x), -1)])

    def fit(self, context_features, item_features, actions, rewards) -> "RewardModel":
        """context_features (n, dx) of logged events, item_features (K, dy), actions and 0/1 rewards (n,)."""
        from sklearn.linear_model import LogisticRegression

        x = _array("context_features", context_features)
        y = _array("item_features", item_features)
        a = np.asarray(actions)
        r = _array("rewards", rewards)
        if x.ndim != 2 or y.ndim != 2 or len(x) != len(r) or a.shape != r.shape:
            raise ValueError("need context_features (n, dx), item_features (K, dy), and n actions and rewards")
        lr = LogisticRegression(C=self.C, max_iter=2000)
        lr.fit(self._design(x, y[a]), r)
        dx, dy = x.shape[1], y.shape[1]
        c = lr.coef_[0]
        self.b_, self.c_, self.W_ = c[:dx], c[dx:dx + dy], c[dx + dy:].reshape(dx, dy)
        self.intercept_ = float(lr.intercept_[0])
        self.coef_ = c
        self.item_features_ = y
        return self

    def predict(self, context_features) -> np.ndarray:
        """q_hat (n, K): predicted click probability of every item in each context."""
        if self.coef_ is None:
            raise ValueError("RewardModel is not fitted yet: call fit(...) first")
        x = np.atleast_2d(_array("context_features", context_features))
        y = self.item_features_
        z = x @ self.W_ @ y.T + (x @ self.b_)[:, None] + (y @ self.c_)[None, :] + self.intercept_
        return sigmoid(z)
