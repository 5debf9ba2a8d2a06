"""Lesson 03: contextual bandits, LinUCB and friends, and a real-time product recommender.

Disjoint linear bandits over ``n_arms`` arms with a shared context width ``d``.  Each arm keeps
the ridge statistics of Li, Chu, Langford and Schapire, "A Contextual-Bandit Approach to
Personalized News Article Recommendation", WWW 2010 (Algorithm 1):

    A_a = lambda I + sum x x^T,   b_a = sum r x,   theta_a = A_a^{-1} b_a            (ridge)
    p_a(x) = x^T theta_a + alpha sqrt(x^T A_a^{-1} x)                               (LinUCB score)

``A_a^{-1}`` is kept up to date with the Sherman-Morrison rank-one update (lesson equation SM)

    (A + x x^T)^{-1} = A^{-1} - (A^{-1} x)(A^{-1} x)^T / (1 + x^T A^{-1} x),

stored for all arms as one ``(n_arms, d, d)`` array so every arm is scored at once (einsum).
LinTS samples theta_a ~ N(theta_a, v^2 A_a^{-1}) (Agrawal and Goyal, ICML 2013); LinGreedy is
epsilon-greedy on the ridge estimates.  Same verbs for all three: ``select(context) -> arm``,
``update(arm, reward, context)``, batched ``partial_fit(arms, rewards, contexts)``,
``predict(contexts, k)`` (top-k arms) and ``predict_expectations(contexts)`` (scores).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.notebook.exercises import ExerciseResult, run_check
from course_lib.validate import number

_CHUNK = 256  # contexts scored per block, to bound the (chunk, n_arms, d) intermediate


class _LinearBandit:
    """Shared ridge state and updates of the disjoint linear bandits (see module docstring)."""

    def __init__(self, n_arms: int, n_features: int, l2_lambda: float = 1.0, seed: int | None = 0):
        if int(n_arms) < 1 or int(n_features) < 1:
            raise ValueError(f"n_arms and n_features must be >= 1, got {n_arms} and {n_features}")
        self.l2_lambda = number("l2_lambda", l2_lambda, low=0, low_open=True)
        self.n_features = int(n_features)
        d = self.n_features
        self.A_inv = np.broadcast_to(np.eye(d) / self.l2_lambda, (int(n_arms), d, d)).copy()
        self.b = np.zeros((int(n_arms), d))
        self.counts = np.zeros(int(n_arms), dtype=int)
        self.rng = np.random.default_rng(seed)

    # --- state
    @property
    def n_arms(self) -> int:
        return len(self.b)

    @property
    def theta(self) -> np.ndarray:
        """Ridge estimates ``theta_a = A_a^{-1} b_a``, shape ``(n_arms, d)``."""
        return np.einsum("kij,kj->ki", self.A_inv, self.b)

    def add_arm(self) -> int:
        """Add a new arm starting from the prior (A = lambda I, b = 0); return its index."""
        d = self.n_features
        self.A_inv = np.concatenate([self.A_inv, (np.eye(d) / self.l2_lambda)[None]])
        self.b = np.concatenate([self.b, np.zeros((1, d))])
        self.counts = np.append(self.counts, 0)
        return self.n_arms - 1

    # --- validation
    def _contexts(self, contexts: Any) -> np.ndarray:
        X = np.asarray(contexts, dtype=float)
        if X.ndim == 1:
            X = X[None]
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"contexts must have {self.n_features} features per row (shape (n, "
                             f"{self.n_features})), got shape {np.asarray(contexts).shape}")
        if not np.isfinite(X).all():
            raise ValueError("contexts contain NaN or infinite values; impute or drop them first")
        return X

    def _arms(self, arms: Any) -> np.ndarray:
        a = np.atleast_1d(np.asarray(arms))
        if a.dtype.kind not in "iu":
            raise ValueError(f"arms must be integer indices, got dtype {a.dtype}")
        if a.size and (a.min() < 0 or a.max() >= self.n_arms):
            raise ValueError(f"unknown arm: arms must lie in [0, {self.n_arms}), got {a.min()}..{a.max()}; "
                             "use add_arm() for a new one")
        return a

    # --- learning
    def partial_fit(self, arms: Any, rewards: Any, contexts: Any) -> _LinearBandit:
        """Add observations ``(arm_t, r_t, x_t)`` to each arm's ridge statistics, in order.

        Every observation is one Sherman-Morrison rank-one update (equation SM) of its arm's
        ``A^{-1}``.  The batch runs in rounds: round ``j`` applies the ``j``-th observation of every
        arm in the batch at once (distinct arms, so one vectorised step), which is exactly the
        sequence of single updates.  ``b_a += r x`` is a sum, so it is added in one go.
        """
        X = self._contexts(contexts)
        a = self._arms(arms)
        r = np.atleast_1d(np.asarray(rewards, dtype=float))
        if not (len(a) == len(r) == len(X)):
            raise ValueError(f"arms, rewards and contexts need the same length, got {len(a)}, {len(r)}, {len(X)}")
        if not np.isfinite(r).all():
            raise ValueError("rewards contain NaN or infinite values")
        np.add.at(self.b, a, r[:, None] * X)
        np.add.at(self.counts, a, 1)
        order = np.argsort(a, kind="stable")  # events grouped by arm, each arm's in time order
        sorted_arms = a[order]
        group_start = np.searchsorted(sorted_arms, sorted_arms, side="left")
        occurrence = np.empty(len(a), dtype=int)
        occurrence[order] = np.arange(len(a)) - group_start  # j: this is the arm's j-th event here
        for j in range(int(occurrence.max(initial=-1)) + 1):
            rows = np.flatnonzero(occurrence == j)  # at most one event per arm
            arm, x = a[rows], X[rows]
            Ax = np.einsum("kij,kj->ki", self.A_inv[arm], x)                   # A^{-1} x
            denom = 1.0 + np.einsum("ki,ki->k", x, Ax)                         # 1 + x^T A^{-1} x
            self.A_inv[arm] -= Ax[:, :, None] * Ax[:, None, :] / denom[:, None, None]  # (SM)
        return self

    def update(self, arm: int, reward: float, context: Any) -> _LinearBandit:
        """One observation: Sherman-Morrison update of ``A_arm^{-1}`` and ``b_arm += r x``."""
        return self.partial_fit([arm], [reward], np.atleast_2d(context))

    # --- scoring
    def mean(self, contexts: Any) -> np.ndarray:
        """Ridge predictions ``x^T theta_a`` for every context and arm, ``(n, n_arms)``."""
        return self._contexts(contexts) @ self.theta.T

    def width(self, contexts: Any) -> np.ndarray:
        """Uncertainty ``sqrt(x^T A_a^{-1} x)`` for every context and arm, ``(n, n_arms)``."""
        X = self._contexts(contexts)
        out = np.empty((len(X), self.n_arms))
        for s in range(0, len(X), _CHUNK):
            Xc = X[s:s + _CHUNK]
            out[s:s + _CHUNK] = np.einsum("nkj,nj->nk", np.einsum("ni,kij->nkj", Xc, self.A_inv), Xc)
        return np.sqrt(np.maximum(out, 0.0))

    def predict_expectations(self, contexts: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, contexts: Any, k: int = 1) -> np.ndarray:
        """The top-``k`` arms per context, best first, shape ``(n, k)`` (ties go to the lower index)."""
        if not 1 <= int(k) <= self.n_arms:
            raise ValueError(f"k must be between 1 and n_arms={self.n_arms}, got {k}")
        scores = self.predict_expectations(contexts)
        return np.argsort(-scores, axis=1, kind="stable")[:, : int(k)]

    def select(self, context: Any) -> int:
        """The arm to play for one context."""
        return int(self.predict(np.atleast_2d(context), k=1)[0, 0])


class LinUCB(_LinearBandit):
    """Disjoint LinUCB (Li et al., WWW 2010): score ``x^T theta_a + alpha sqrt(x^T A_a^{-1} x)``.

    Parameters: ``n_arms``, ``n_features`` (context width d), ``alpha >= 0`` (exploration),
    ``l2_lambda > 0`` (ridge prior, A_a starts at lambda I).
    """

    def __init__(self, n_arms: int, n_features: int, alpha: float = 1.0, l2_lambda: float = 1.0,
                 seed: int | None = 0):
        super().__init__(n_arms, n_features, l2_lambda, seed)
        self.alpha = number("alpha", alpha, low=0)

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        """LinUCB scores ``(n, n_arms)``: ridge mean plus alpha times the confidence width."""
        return self.mean(contexts) + self.alpha * self.width(contexts)


class LinTS(_LinearBandit):
    """Linear Thompson sampling (Agrawal and Goyal, ICML 2013): score ``x^T theta~``,
    ``theta~_a ~ N(theta_a, v^2 A_a^{-1})`` drawn per context and arm (Cholesky of A_a^{-1})."""

    def __init__(self, n_arms: int, n_features: int, v: float = 0.5, l2_lambda: float = 1.0,
                 seed: int | None = 0):
        super().__init__(n_arms, n_features, l2_lambda, seed)
        self.v = number("v", v, low=0)

    def sample_theta(self, n: int = 1) -> np.ndarray:
        """``n`` posterior draws of every arm's theta, shape ``(n, n_arms, d)``."""
        L = np.linalg.cholesky(self.A_inv)
        z = self.rng.standard_normal((n, self.n_arms, self.n_features))
        return self.theta[None] + self.v * np.einsum("kij,nkj->nki", L, z)

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        X = self._contexts(contexts)
        return np.einsum("nd,nkd->nk", X, self.sample_theta(len(X)))


class LinGreedy(_LinearBandit):
    """Epsilon-greedy on the ridge estimates: with probability ``epsilon`` random scores, else ``x^T theta_a``."""

    def __init__(self, n_arms: int, n_features: int, epsilon: float = 0.1, l2_lambda: float = 1.0,
                 seed: int | None = 0):
        super().__init__(n_arms, n_features, l2_lambda, seed)
        self.epsilon = number("epsilon", epsilon, low=0, high=1)

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        scores = self.mean(contexts)
        explore = self.rng.random(len(scores)) < self.epsilon
        scores[explore] = self.rng.random((int(explore.sum()), self.n_arms))
        return scores


# ----------------------------------------------------------------------------- exercises


def linucb_score(x: np.ndarray, A_inv: np.ndarray, b: np.ndarray, alpha: float) -> float:
    """Reference: LinUCB score of one arm, ``x^T A^{-1} b + alpha sqrt(x^T A^{-1} x)``."""
    theta = A_inv @ b
    return float(x @ theta + alpha * np.sqrt(x @ A_inv @ x))


def sherman_morrison(A_inv: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Reference: ``(A + x x^T)^{-1}`` from ``A^{-1}`` (lesson equation SM), a new array."""
    Ax = A_inv @ x
    return A_inv - np.outer(Ax, Ax) / (1.0 + x @ Ax)


def _random_spd(rng: np.random.Generator, d: int) -> np.ndarray:
    M = rng.standard_normal((d, d))
    return M @ M.T + d * np.eye(d)


def check_linucb_score(candidate) -> ExerciseResult:
    """Exercise 1: ``candidate(x, A_inv, b, alpha) -> float`` against the reference on random arms."""

    def check(f):
        rng = np.random.default_rng(7)
        for d, alpha in ((3, 0.0), (5, 1.0), (8, 2.5)):
            A_inv = np.linalg.inv(_random_spd(rng, d))
            x, b = rng.standard_normal(d), rng.standard_normal(d)
            got = f(x.copy(), A_inv.copy(), b.copy(), alpha)
            want = linucb_score(x, A_inv, b, alpha)
            assert np.ndim(got) == 0, f"return one number (a float), got shape {np.shape(got)}"
            assert np.isclose(got, want, rtol=1e-9), (
                f"d={d}, alpha={alpha}: expected {want:.6f}, got {float(got):.6f}; "
                "did you take the square root of x^T A^-1 x and multiply it by alpha?")

    return run_check("linucb_score", candidate, linucb_score, check)


def check_sherman_morrison(candidate) -> ExerciseResult:
    """Exercise 2: ``candidate(A_inv, x) -> (A + x x^T)^{-1}`` against ``np.linalg.inv``."""

    def check(f):
        rng = np.random.default_rng(11)
        for d in (2, 4, 9):
            A = _random_spd(rng, d)
            x = rng.standard_normal(d)
            A_inv = np.linalg.inv(A)
            got = np.asarray(f(A_inv.copy(), x.copy()))
            assert got.shape == (d, d), f"return a ({d}, {d}) matrix, got shape {got.shape}"
            want = np.linalg.inv(A + np.outer(x, x))
            assert np.allclose(got, want, atol=1e-10), (
                f"d={d}: the result is not (A + x x^T)^-1 (max error {np.abs(got - want).max():.2e}); "
                "check the sign and the denominator 1 + x^T A^-1 x")

    return run_check("sherman_morrison", candidate, sherman_morrison, check)
