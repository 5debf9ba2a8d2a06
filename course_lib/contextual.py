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


# ----------------------------------------------------------------------------- hybrid LinUCB


def hybrid_linucb_score(x: np.ndarray, z: np.ndarray, beta: np.ndarray, A0_inv: np.ndarray, A_inv: np.ndarray,
                        B: np.ndarray, b: np.ndarray, alpha: float) -> float:
    """Hybrid LinUCB's score of one arm, lesson 03 equation (H) (Li et al. 2010, Algorithm 2, lines 8-12)."""
    theta = A_inv @ (b - B @ beta)
    Ax = A_inv @ x
    s = z @ A0_inv @ z - 2 * z @ A0_inv @ B.T @ Ax + x @ Ax + Ax @ B @ A0_inv @ B.T @ Ax
    return float(z @ beta + x @ theta + alpha * np.sqrt(max(s, 0.0)))


class HybridLinUCB(StateDictMixin):
    """Hybrid LinUCB (Li, Chu, Langford and Schapire, WWW 2010, Algorithm 2): shared and per-arm features.

    Arm ``a`` in context ``x`` has the shared features ``z = vec(x f_a^T)`` (every pair of a context
    feature and a product feature ``f_a``, ``k = d m`` of them) with coefficients ``beta`` common to
    all arms, plus the disjoint part ``x^T theta_a``.  Score (lesson 03, equation H)

        p_a(x) = z^T beta + x^T theta_a + alpha sqrt(s_a),
        s_a = z^T A0^-1 z - 2 z^T A0^-1 B_a^T A_a^-1 x + x^T A_a^-1 x + x^T A_a^-1 B_a A0^-1 B_a^T A_a^-1 x,

    with ``A_a = lambda I + sum x x^T``, ``B_a = sum x z^T``, ``b_a = sum r x`` per arm and ``A0``, ``b0``
    the shared statistics of Algorithm 2; ``beta = A0^-1 b0``, ``theta_a = A_a^-1 (b_a - B_a beta)``.
    It is ridge regression on ``[z, x in arm a's block]``: a new arm with features ``f`` starts from
    ``z^T beta``, what similar products taught, instead of 0.

    Because ``z = vec(x f_a^T)``, ``B_a = G_a (x) f_a^T`` with ``G_a = A_a - lambda I``, and
    ``z - B_a^T A_a^-1 x = lambda vec(A_a^-1 x f_a^T)``: no ``d x k`` matrix per arm is stored, and
    ``s_a = lambda^2 vec(u f_a^T)^T A0^-1 vec(u f_a^T) + x^T u`` with ``u = A_a^-1 x``.
    Parameters: ``arm_features`` (n_arms, m), ``n_features`` (d), ``alpha >= 0``, ``l2_lambda > 0``.
    Follows ``course_lib.protocols.ContextualBandit``; ``add_arm(features)`` needs the new product's ``f``.
    """

    def __init__(self, arm_features: Any, n_features: int, alpha: float = 1.0, l2_lambda: float = 1.0,
                 seed: int = 0):
        F = np.asarray(arm_features, dtype=float)
        if F.ndim != 2 or F.shape[0] < 1 or F.shape[1] < 1 or not np.isfinite(F).all():
            raise ValueError(f"arm_features must be a finite (n_arms, m) array with n_arms, m >= 1, got shape {F.shape}")
        self.n_features = integer("n_features", n_features, hint="the context width d")
        self.alpha = number("alpha", alpha, low=0)
        self.l2_lambda = number("l2_lambda", l2_lambda, low=0, low_open=True)
        d, n = self.n_features, len(F)
        self.arm_features = F.copy()
        self.A_inv = np.broadcast_to(np.eye(d) / self.l2_lambda, (n, d, d)).copy()
        self.gram = np.zeros((n, d, d))            # G_a = sum x x^T, so B_a = G_a (x) f_a^T
        self.b = np.zeros((n, d))
        k = d * F.shape[1]
        self.A0 = np.eye(k) * self.l2_lambda
        self.A0_inv = np.eye(k) / self.l2_lambda
        self.b0 = np.zeros(k)
        self.counts = np.zeros(n, dtype=int)
        self.rng = np.random.default_rng(integer("seed", seed, low=0))

    @property
    def n_arms(self) -> int:
        return len(self.arm_features)

    @property
    def n_shared(self) -> int:
        """k = d m, the number of shared features z."""
        return self.n_features * self.arm_features.shape[1]

    @property
    def beta(self) -> np.ndarray:
        """Shared coefficients ``A0^-1 b0`` as a ``(d, m)`` matrix: ``z^T beta = x^T beta f_a``."""
        return (self.A0_inv @ self.b0).reshape(self.n_features, -1)

    def add_arm(self, features: Any) -> int:
        """A new arm with product features ``features`` (m,), at the prior; returns its index."""
        f = np.asarray(features, dtype=float).reshape(-1)
        m = self.arm_features.shape[1]
        if f.shape != (m,) or not np.isfinite(f).all():
            raise ValueError(f"features must be a finite vector of the {m} product features, got shape {f.shape}")
        d = self.n_features
        self.arm_features = np.vstack([self.arm_features, f])
        self.A_inv = np.concatenate([self.A_inv, np.eye(d)[None] / self.l2_lambda])
        self.gram = np.concatenate([self.gram, np.zeros((1, d, d))])
        self.b = np.vstack([self.b, np.zeros(d)])
        self.counts = np.append(self.counts, 0)
        return self.n_arms - 1

    def shared_features(self, context: Any, arms: Any) -> np.ndarray:
        """``z = vec(x f_a^T)`` for one context and the given arms, ``(len(arms), k)``."""
        x = np.asarray(context, dtype=float).reshape(-1)
        return (x[None, :, None] * self.arm_features[np.asarray(arms)][:, None, :]).reshape(-1, self.n_shared)

    def _arm_terms(self, arms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sums over ``arms`` of ``B_a^T A_a^-1 B_a`` (k, k) and ``B_a^T A_a^-1 b_a`` (k,)."""
        d, k = self.n_features, self.n_shared
        B = (self.gram[arms][:, :, :, None] * self.arm_features[arms][:, None, None, :]).reshape(len(arms), d, k)
        AB = self.A_inv[arms] @ B
        return B.reshape(-1, k).T @ AB.reshape(-1, k), np.einsum("nik,ni->k", AB, self.b[arms])

    def partial_fit(self, arms: Any, rewards: Any, contexts: Any) -> "HybridLinUCB":
        """Algorithm 2's updates for a batch of ``(arm_t, r_t, x_t)``, in order.

        Algorithm 2 adds ``B_a^T A_a^-1 B_a`` to A0 before an arm's update and subtracts it after, so over
        a batch the terms telescope: A0 gains ``sum z z^T`` plus (before - after) of each touched arm's
        term; b0 likewise.  The per-arm inverses take one Sherman-Morrison step per event (equation SM).
        """
        X = np.atleast_2d(np.asarray(contexts, dtype=float))
        a = np.atleast_1d(np.asarray(arms))
        r = np.atleast_1d(np.asarray(rewards, dtype=float))
        if X.shape[1:] != (self.n_features,):
            raise ValueError(f"contexts must have {self.n_features} columns, got shape {X.shape}")
        if a.dtype.kind not in "iu" or (a.size and (a.min() < 0 or a.max() >= self.n_arms)):
            raise ValueError(f"arms must be integers in [0, {self.n_arms}), got {a[:5]}")
        if not (len(a) == len(r) == len(X)):
            raise ValueError(f"arms, rewards and contexts need the same length, got {len(a)}, {len(r)}, {len(X)}")
        if not (np.isfinite(r).all() and np.isfinite(X).all()):
            raise ValueError("rewards and contexts must be finite")
        touched = np.unique(a)
        before_M, before_v = self._arm_terms(touched)
        Z = (X[:, :, None] * self.arm_features[a][:, None, :]).reshape(len(a), -1)
        np.add.at(self.gram, a, X[:, :, None] * X[:, None, :])
        np.add.at(self.b, a, r[:, None] * X)
        np.add.at(self.counts, a, 1)
        order = np.argsort(a, kind="stable")
        sorted_arms = a[order]
        occurrence = np.empty(len(a), dtype=int)
        occurrence[order] = np.arange(len(a)) - np.searchsorted(sorted_arms, sorted_arms, side="left")
        for j in range(int(occurrence.max(initial=-1)) + 1):
            rows = np.flatnonzero(occurrence == j)
            arm, x = a[rows], X[rows]
            Ax = np.einsum("kij,kj->ki", self.A_inv[arm], x)
            self.A_inv[arm] -= Ax[:, :, None] * Ax[:, None, :] / (1.0 + np.einsum("ki,ki->k", x, Ax))[:, None, None]
        after_M, after_v = self._arm_terms(touched)
        self.A0 += Z.T @ Z + before_M - after_M
        self.b0 += r @ Z + before_v - after_v
        self.A0_inv = np.linalg.inv(self.A0)
        return self

    def arm_statistics(self, arm: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(A_a^-1, B_a, b_a)`` of one arm, with ``B_a = sum x z^T`` of shape ``(d, k)``."""
        arm = integer("arm", arm, low=0, high=self.n_arms - 1)
        B = (self.gram[arm][:, :, None] * self.arm_features[arm][None, None, :]).reshape(self.n_features, -1)
        return self.A_inv[arm].copy(), B, self.b[arm].copy()

    def update(self, arm: int, reward: float, context: Any) -> "HybridLinUCB":
        """One observation (Algorithm 2, lines 15-20)."""
        return self.partial_fit([arm], [reward], np.atleast_2d(context))

    def parts(self, contexts: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(z^T beta, x^T theta_a, sqrt(s_a))`` for every context and arm, each ``(n, n_arms)``."""
        X = np.atleast_2d(np.asarray(contexts, dtype=float))
        if X.shape[1:] != (self.n_features,):
            raise ValueError(f"contexts must have {self.n_features} columns, got shape {X.shape}")
        lam, F = self.l2_lambda, self.arm_features
        g = F @ self.beta.T                                                     # (n_arms, d): beta f_a
        theta = (self.A_inv @ (self.b + lam * g)[:, :, None])[..., 0] - g       # A^-1 (b - G g), G = A - lam I
        shared, own = X @ g.T, X @ theta.T
        width = np.empty_like(own)
        for i, x in enumerate(X):
            u = self.A_inv @ x                                                  # (n_arms, d)
            diff = lam * (u[:, :, None] * F[:, None, :]).reshape(self.n_arms, -1)  # z - B^T A^-1 x
            width[i] = np.sqrt(np.maximum(np.einsum("nk,nk->n", diff @ self.A0_inv, diff) + u @ x, 0.0))
        return shared, own, width

    def mean(self, contexts: Any) -> np.ndarray:
        s, o, _ = self.parts(contexts)
        return s + o

    def width(self, contexts: Any) -> np.ndarray:
        return self.parts(contexts)[2]

    def predict_expectations(self, contexts: Any) -> np.ndarray:
        """Scores ``(n, n_arms)``: shared and per-arm means plus alpha times the width."""
        s, o, w = self.parts(contexts)
        return s + o + self.alpha * w

    def predict(self, contexts: Any, k: int = 1) -> np.ndarray:
        k = integer("k", k, low=1, high=self.n_arms)
        return np.argsort(-self.predict_expectations(contexts), axis=1, kind="stable")[:, :k]

    def select(self, context: Any) -> int:
        return int(self.predict(np.atleast_2d(context), k=1)[0, 0])

    def action_probabilities(self, contexts: Any) -> np.ndarray:
        """Deterministic: one-hot on the top arm (propensities 0 or 1, no importance weighting)."""
        top = self.predict(contexts, k=1)[:, 0]
        out = np.zeros((len(top), self.n_arms))
        out[np.arange(len(top)), top] = 1.0
        return out
