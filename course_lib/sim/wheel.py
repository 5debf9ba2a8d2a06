"""Lesson 04's benchmark worlds: the wheel bandit and classification data sets turned into bandits.

The wheel (Riquelme, Tucker and Snoek, "Deep Bayesian Bandits Showdown", ICLR 2018): contexts
uniform in the unit disc, 5 arms.  Arm 0 always pays ``N(1.2, 0.01^2)``.  Inside radius
``delta`` the other arms pay ``N(1.0, 0.01^2)``; outside it the arm of the context's quadrant
(arms 1-4 for quadrants x>0,y>0 / x<0,y>0 / x<0,y<0 / x>0,y<0) pays ``N(50, 0.01^2)`` and
the other two ``N(1.0, 0.01^2)``.  The larger ``delta``, the rarer the rich outer ring.

Classification as a bandit (Riquelme et al.; Zhou et al., ICML 2020): each row of a labelled
data set is a context, each class an arm, reward 1 for the right class and 0 otherwise.

``run_bandit`` plays a policy on a prepared stream and returns its pseudo-regret per step
(expected reward of the best arm minus that of the chosen arm).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.validate import integer, number

WHEEL_ARMS = 5
WHEEL_MEANS = (1.2, 1.0, 50.0)  # arm 0; the others; the quadrant arm outside delta
WHEEL_NOISE = 0.01
CLASSIFICATION_DATASETS = ("digits", "wine", "breast_cancer")


@dataclass
class Stream:
    """A bandit problem drawn in advance: contexts ``(T, d)``, rewards ``(T, K)``, expected rewards ``(T, K)``."""

    contexts: np.ndarray
    rewards: np.ndarray
    expected: np.ndarray

    @property
    def n_arms(self) -> int:
        return self.rewards.shape[1]

    @property
    def n_features(self) -> int:
        return self.contexts.shape[1]


def wheel_points(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniform in the unit disc, ``(n, 2)`` (radius ``sqrt(U)`` for uniform area)."""
    r = np.sqrt(rng.random(n))
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    return np.column_stack([r * np.cos(phi), r * np.sin(phi)])


def wheel_expected(points: np.ndarray, delta: float) -> np.ndarray:
    """Expected reward of each arm at each point, ``(n, 5)``."""
    delta = number("delta", delta, low=0, high=1, low_open=True, high_open=True)
    p = np.asarray(points, dtype=float)
    means = np.full((len(p), WHEEL_ARMS), WHEEL_MEANS[1])
    means[:, 0] = WHEEL_MEANS[0]
    x, y = p[:, 0], p[:, 1]
    quadrant = np.where(x >= 0, np.where(y >= 0, 1, 4), np.where(y >= 0, 2, 3))
    outside = np.hypot(x, y) > delta
    means[np.flatnonzero(outside), quadrant[outside]] = WHEEL_MEANS[2]
    return means


def wheel_stream(delta: float, n: int, seed: int, intercept: bool = True) -> Stream:
    """A wheel problem of ``n`` steps; contexts are ``(x, y, 1)`` with ``intercept`` (linear models need it)."""
    n = integer("n", n, low=1)
    rng = np.random.default_rng(seed)
    pts = wheel_points(n, rng)
    mu = wheel_expected(pts, delta)
    rewards = mu + WHEEL_NOISE * rng.standard_normal(mu.shape)
    ctx = np.column_stack([pts, np.ones(n)]) if intercept else pts
    return Stream(ctx, rewards, mu)


def load_classification(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A scikit-learn bundled data set (no download): standardised features ``(N, d)``, labels ``(N,)``."""
    from sklearn import datasets

    loaders = {"digits": datasets.load_digits, "wine": datasets.load_wine,
               "breast_cancer": datasets.load_breast_cancer}
    if name not in loaders:
        raise ValueError(f"name must be one of {CLASSIFICATION_DATASETS}, got {name!r}")
    X, y = loaders[name](return_X_y=True)
    sd = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return X, y.astype(int)


def classification_stream(name: str, n: int, seed: int) -> Stream:
    """``n`` rows drawn with replacement from data set ``name``; reward 1 for the true class, else 0."""
    n = integer("n", n, low=1)
    X, y = load_classification(name)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(y), n)
    k = int(y.max()) + 1
    expected = np.eye(k)[y[rows]]
    return Stream(X[rows], expected.copy(), expected)


def run_bandit(policy, stream: Stream) -> np.ndarray:
    """Play ``policy`` on ``stream`` (select, then update with the chosen arm's reward); regret per step ``(T,)``."""
    if policy.n_arms != stream.n_arms or policy.n_features != stream.n_features:
        raise ValueError(f"the policy has {policy.n_arms} arms and {policy.n_features} features, the stream "
                         f"{stream.n_arms} and {stream.n_features}")
    T = len(stream.contexts)
    chosen = np.empty(T, dtype=int)
    for t in range(T):
        x = stream.contexts[t]
        a = policy.select(x)
        policy.update(a, float(stream.rewards[t, a]), x)
        chosen[t] = a
    return stream.expected.max(axis=1) - stream.expected[np.arange(T), chosen]
