"""Lesson 03: contextual bandits, LinUCB and friends, and a real-time product recommender.

Disjoint linear bandits over ``n_arms`` arms with a shared context width ``d``.  Each arm keeps
the ridge statistics of Li, Chu, Langford and Schapire, "A Contextual-Bandit Approach to
Personalized News Article Recommendation", WWW 2010 (Algorithm 1):

    A_a = lambda I + sum x x^T,   b_a = sum r x,   theta_a = A_a^{-1} b_a            (ridge)
    p_a(x) = x^T theta_a + alpha sqrt(x^T A_a^{-1} x)                               (LinUCB score)

``A_a^{-1}`` is kept up to date with the Sherman-Morrison rank-one update (lesson equation SM)

    (A + x x^T)^{-1} = A^{-1} - (A^{-1} x)(A^{-1} x)^T / (1 + x^T A^{-1} x),

stored for all arms as one ``(n_arms, d, d)`` array so every arm is scored at once; theta_a is
kept up to date on update.
LinTS samples theta_a ~ N(theta_a, v^2 A_a^{-1}) (Agrawal and Goyal, ICML 2013); LinGreedy is
epsilon-greedy on the ridge estimates.  Same verbs for all three: ``select(context) -> arm``,
``update(arm, reward, context)``, batched ``partial_fit(arms, rewards, contexts)``,
``predict(contexts, k)`` (top-k arms) and ``predict_expectations(contexts)`` (scores).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib import validate
from course_lib.protocols import StateDictMixin
from course_lib.validate import integer, number

_CHUNK = 256  # contexts scored per block, to bound the (chunk, n_arms, d) intermediate


class LinearBandit(StateDictMixin):
    """Shared ridge state and updates of the disjoint linear bandits (see module docstring).

    Follows ``course_lib.protocols.ContextualBandit``.  ``theta`` is kept up to date on every update
    (only the updated arms), so scoring one context is two matrix-vector products: ``theta x`` and,
    for the widths, the stacked inverses ``(n_arms d, d) @ x``.  ``update`` (one event) has its own
    path, a bare Sherman-Morrison step; ``partial_fit`` takes batches.
    """

    def __init__(self, n_arms: int, n_features: int, l2_lambda: float = 1.0, seed: int = 0):
        n_arms = integer("n_arms", n_arms, hint="the number of arms (products) to choose between")
        self.n_features = integer("n_features", n_features, hint="the context width d")
        self.l2_lambda = number("l2_lambda", l2_lambda, low=0, low_open=True)
        d = self.n_features
        self.A_inv = np.broadcast_to(np.eye(d) / self.l2_lambda, (n_arms, d, d)).copy()
        self.b = np.zeros((n_arms, d))
        self._theta = np.zeros((n_arms, d))
        self.counts = np.zeros(n_arms, dtype=int)
        self.rng = np.random.default_rng(integer("seed", seed, low=0))

    # --- state
    @property
    def n_arms(self) -> int:
        return len(self.b)

    @property
    def theta(self) -> np.ndarray:
        """Ridge estimates ``theta_a = A_a^{-1} b_a``, shape ``(n_arms, d)`` (kept up to date, read-only)."""
        view = self._theta.view()
        view.flags.writeable = False
        return view

    def _refresh_theta(self, arms: np.ndarray) -> None:
        self._theta[arms] = np.einsum("kij,kj->ki", self.A_inv[arms], self.b[arms])

    def add_arm(self) -> int:
        """Add a new arm starting from the prior (A = lambda I, b = 0); return its index."""
        d = self.n_features
        self.A_inv = np.concatenate([self.A_inv, (np.eye(d) / self.l2_lambda)[None]])
        self.b = np.concatenate([self.b, np.zeros((1, d))])
        self._theta = np.concatenate([self._theta, np.zeros((1, d))])
        self.counts = np.append(self.counts, 0)
        return self.n_arms - 1

    # --- validation
    def _contexts(self, contexts: Any) -> np.ndarray:
        return validate.contexts("contexts", contexts, self.n_features)

    def _arms(self, arms: Any) -> np.ndarray:
        return np.atleast_1d(validate.ids("arms", arms, self.n_arms, hint="an unknown arm: use add_arm() for a new one"))

    # --- learning
    def partial_fit(self, arms: Any, rewards: Any, contexts: Any) -> LinearBandit:
        """Add observations ``(arm_t, r_t, x_t)`` to each arm's ridge statistics, in order.

        Every observation is one Sherman-Morrison rank-one update (equation SM) of its arm's
        ``A^{-1}``.  The batch runs in rounds: round ``j`` applies the ``j``-th observation of every
        arm in the batch at once (distinct arms, so one vectorised step), which is exactly the
        sequence of single updates.  ``b_a += r x`` is a sum, so it is added in one go.
        """
        X = self._contexts(contexts)
        a = self._arms(arms)
        r = np.atleast_1d(validate.array("rewards", rewards, nonempty=False))
        if not (len(a) == len(r) == len(X)):
            raise ValueError(f"arms, rewards and contexts need the same length, got {len(a)}, {len(r)}, {len(X)}")
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
        self._refresh_theta(np.unique(a))
        return self

    def update(self, arm: int, reward: float, context: Any) -> LinearBandit:
        """One observation: Sherman-Morrison update of ``A_arm^{-1}``, ``b_arm += r x``, ``theta_arm``."""
        if type(arm) is not int or not 0 <= arm < self.n_arms:  # the common case skips the full check
            arm = integer("arm", arm, low=0, high=self.n_arms - 1, hint="an unknown arm: use add_arm() for a new one")
        r = number("reward", reward)
        x = np.asarray(context, dtype=float)
        if x.shape != (self.n_features,):
            x = self._contexts(context)
            if len(x) != 1:
                raise ValueError(f"context must be one row of {self.n_features} features, got shape {np.shape(context)}")
            x = x[0]
        elif not np.isfinite(x).all():
            raise ValueError("contexts contain NaN or infinite values; impute or drop them first")
        A = self.A_inv[arm]
        self.b[arm] += r * x
        self.counts[arm] += 1
        Ax = np.einsum("ij,j->i", A, x)
        A -= np.multiply.outer(Ax, Ax) / (1.0 + x @ Ax)                       # (SM), in place
        self._theta[arm] = np.einsum("ij,j->i", A, self.b[arm])
        return self

    # --- scoring
    def mean(self, contexts: Any) -> np.ndarray:
        """Ridge predictions ``x^T theta_a`` for every context and arm, ``(n, n_arms)``."""
        return self._contexts(contexts) @ self._theta.T

    def _quad(self, X: np.ndarray) -> np.ndarray:
        """``x^T A_a^{-1} x`` for every row of validated ``X`` and arm, ``(n, n_arms)``."""
        K, d = self.n_arms, self.n_features
        if len(X) == 1:  # the online path: one product with the stacked inverses
            return ((self.A_inv.reshape(K * d, d) @ X[0]).reshape(K, d) @ X[0])[None]
        out = np.empty((len(X), K))
        for s in range(0, len(X), _CHUNK):
            Xc = X[s:s + _CHUNK]
            out[s:s + _CHUNK] = np.einsum("nkj,nj->nk", np.einsum("ni,kij->nkj", Xc, self.A_inv), Xc)
        return out

    def width(self, contexts: Any) -> np.ndarray:
        """Uncertainty ``sqrt(x^T A_a^{-1} x)`` for every context and arm, ``(n, n_arms)``."""
        return np.sqrt(np.maximum(self._quad(self._contexts(contexts)), 0.0))

    def predict_expectations(self, contexts: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def action_probabilities(self, contexts: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _greedy_one_hot(self, scores: np.ndarray) -> np.ndarray:
        """One-hot rows on ``argmax`` (ties to the lower index, as ``predict``)."""
        return (np.arange(self.n_arms)[None] == scores.argmax(axis=1)[:, None]).astype(float)

    def predict(self, contexts: Any, k: int = 1) -> np.ndarray:
        """The top-``k`` arms per context, best first, shape ``(n, k)`` (ties go to the lower index)."""
        k = integer("k", k, low=1, high=self.n_arms)
        scores = self.predict_expectations(contexts)
        if k == 1:
            return scores.argmax(axis=1)[:, None]
        return np.argsort(-scores, axis=1, kind="stable")[:, :k]

    def select(self, context: Any) -> int:
        """The arm to play for one context."""
        return int(self.predict(np.atleast_2d(context), k=1)[0, 0])


class LinUCB(LinearBandit):
    """Disjoint LinUCB (Li et al., WWW 2010): score ``x^T theta_a + alpha sqrt(x^T A_a^{-1} x)``.

    Parameters: ``n_arms``, ``n_features`` (context width d), ``alpha >= 0`` (exploration, checked
    on every assignment), ``l2_lambda > 0`` (ridge prior, A_a starts at lambda I).
    """

    def __init__(self, n_arms: int, n_features: int, alpha: float = 1.0, l2_lambda: float = 1.0,
                 seed: int = 0):
        super().__init__(n_arms, n_features, l2_lambda, seed)
        self.alpha = alpha

    @property
    def alpha(self) -> float:
        return self._alpha

    @alpha.setter
    def alpha(self, value: float) -> None:
        self._alpha = number("alpha", value, low=0, hint="alpha scales the exploration bonus; 0 is greedy")

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        """LinUCB scores ``(n, n_arms)``: ridge mean plus alpha times the confidence width."""
        X = self._contexts(contexts)
        return X @ self._theta.T + self._alpha * np.sqrt(np.maximum(self._quad(X), 0.0))

    def action_probabilities(self, contexts: Any) -> np.ndarray:
        """One-hot on the arm LinUCB plays (deterministic), ``(n, n_arms)``."""
        return self._greedy_one_hot(self.predict_expectations(contexts))


class LinTS(LinearBandit):
    """Linear Thompson sampling (Agrawal and Goyal, ICML 2013): score ``x^T theta~``,
    ``theta~_a ~ N(theta_a, v^2 A_a^{-1})`` drawn per context and arm (Cholesky of A_a^{-1})."""

    def __init__(self, n_arms: int, n_features: int, v: float = 0.5, l2_lambda: float = 1.0,
                 seed: int = 0):
        super().__init__(n_arms, n_features, l2_lambda, seed)
        self.v = v

    @property
    def v(self) -> float:
        return self._v

    @v.setter
    def v(self, value: float) -> None:
        self._v = number("v", value, low=0, hint="v scales the posterior spread; 0 is greedy")

    def sample_theta(self, n: int = 1, rng: np.random.Generator | None = None) -> np.ndarray:
        """``n`` posterior draws of every arm's theta, shape ``(n, n_arms, d)`` (from ``rng``, default the policy's)."""
        L = np.linalg.cholesky(self.A_inv)
        z = (self.rng if rng is None else rng).standard_normal((n, self.n_arms, self.n_features))
        return self._theta[None] + self._v * np.einsum("kij,nkj->nki", L, z)

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        X = self._contexts(contexts)
        return np.einsum("nd,nkd->nk", X, self.sample_theta(len(X)))

    def action_probabilities(self, contexts: Any, n_draws: int = 500, seed: int = 0) -> np.ndarray:
        """Monte Carlo: how often each arm has the best sampled score over ``n_draws`` posterior draws
        per context, from ``default_rng(seed)`` (the policy's own stream is untouched); ``(n, n_arms)``.
        The error of each entry is about ``sqrt(p (1 - p) / n_draws)``."""
        X = self._contexts(contexts)
        n_draws = integer("n_draws", n_draws)
        rng = np.random.default_rng(integer("seed", seed, low=0))
        L = np.linalg.cholesky(self.A_inv)
        out = np.zeros((len(X), self.n_arms))
        chunk = max(1, 1_000_000 // (self.n_arms * max(self.n_features, len(X))))
        for start in range(0, n_draws, chunk):
            z = rng.standard_normal((min(chunk, n_draws - start), self.n_arms, self.n_features))
            theta = self._theta[None] + self._v * np.einsum("kij,mkj->mki", L, z)      # (m, n_arms, d)
            best = np.einsum("nd,mkd->mnk", X, theta).argmax(axis=-1)                    # (m, n)
            out += (best[..., None] == np.arange(self.n_arms)).sum(axis=0)
        return out / n_draws


class LinGreedy(LinearBandit):
    """Epsilon-greedy on the ridge estimates: with probability ``epsilon`` random scores, else ``x^T theta_a``."""

    def __init__(self, n_arms: int, n_features: int, epsilon: float = 0.1, l2_lambda: float = 1.0,
                 seed: int = 0):
        super().__init__(n_arms, n_features, l2_lambda, seed)
        self.epsilon = epsilon

    @property
    def epsilon(self) -> float:
        return self._epsilon

    @epsilon.setter
    def epsilon(self, value: float) -> None:
        self._epsilon = number("epsilon", value, low=0, high=1, hint="the share of random choices")

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        scores = self.mean(contexts)
        explore = self.rng.random(len(scores)) < self._epsilon
        scores[explore] = self.rng.random((int(explore.sum()), self.n_arms))
        return scores

    def action_probabilities(self, contexts: Any) -> np.ndarray:
        """Exactly ``(1 - epsilon)`` on the greedy arm plus ``epsilon / n_arms`` on each (random scores
        pick a uniform arm), ``(n, n_arms)``."""
        return (1.0 - self._epsilon) * self._greedy_one_hot(self.mean(contexts)) + self._epsilon / self.n_arms


# ----------------------------------------------------------------------------- exercise references (checkers: course_lib.notebook.checks.lesson03)


def linucb_score(x: np.ndarray, A_inv: np.ndarray, b: np.ndarray, alpha: float) -> float:
    """Reference: LinUCB score of one arm, ``x^T A^{-1} b + alpha sqrt(x^T A^{-1} x)``."""
    theta = A_inv @ b
    return float(x @ theta + alpha * np.sqrt(x @ A_inv @ x))


def sherman_morrison(A_inv: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Reference: ``(A + x x^T)^{-1}`` from ``A^{-1}`` (lesson equation SM), a new array."""
    Ax = A_inv @ x
    return A_inv - np.outer(Ax, Ax) / (1.0 + x @ Ax)


