"""Lesson 06's policy learning from logs: a variance-penalised SNIPS objective in the spirit of POEM (Swaminathan and Joachims 2015)."""

from __future__ import annotations

import numpy as np

from course_lib.validate import array

from course_lib.numerics import softmax
from course_lib.ope.estimators import _logged


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

        ``history`` holds the training-log SNIPS value at each step and ``weights_path`` the
        weights W before that step (``predict_proba(x, step)`` uses them).
        """
        x = array("context_features", context_features, min_ndim=1)
        y = array("item_features", item_features, min_ndim=1)
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
        self.weights_path = []
        for t in range(1, self.n_steps + 1):
            _, grad, value = poem_objective(W, x, y, a, r, p, self.lam, self.l2)
            self.history.append(value)
            self.weights_path.append(W.copy())
            m = b1 * m + (1 - b1) * grad
            v2 = b2 * v2 + (1 - b2) * grad**2
            W = W + self.lr * (m / (1 - b1**t)) / (np.sqrt(v2 / (1 - b2**t)) + 1e-8)   # Adam ascent
        self.W = W
        self.item_features_ = y
        return self

    def predict_proba(self, context_features, step: int | None = None) -> np.ndarray:
        """Action probabilities (n, K) for contexts (n, dx); with ``step``, of the policy before that Adam step (0-based)."""
        if self.W is None:
            raise ValueError("POEMPolicy is not fitted yet: call fit(...) first")
        x = np.atleast_2d(array("context_features", context_features, min_ndim=1))
        if step is None:
            W = self.W
        elif isinstance(step, (int, np.integer)) and not isinstance(step, bool) and 0 <= step < len(self.weights_path):
            W = self.weights_path[step]
        else:
            raise ValueError(f"step must be an integer in [0, {len(self.weights_path) - 1}], got {step!r}")
        return softmax(x @ W @ self.item_features_.T)

    def select(self, context_features) -> np.ndarray:
        """The most probable action for each context."""
        return self.predict_proba(context_features).argmax(axis=1)
