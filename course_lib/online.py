"""Lesson 01: online learning with SGD, AdaGrad and FTRL-Proximal.

Learners follow the scikit-learn verbs: ``partial_fit(X, y)`` takes one optimiser step per row,
in order; ``predict_proba`` / ``predict`` score rows.  ``X`` is a dense array or a SciPy sparse
matrix with ``n_features`` columns (hashed click features are sparse).  Optimisers update only the
coordinates a row touches, so a step costs O(non-zeros), not O(n_features).

Equations, numbered as in the lesson:
  (1.1) SGD           theta <- theta - eta_t g_t,  eta_t = eta (constant) or eta / sqrt(t)
  (1.2) AdaGrad       G_i <- G_i + g_i^2,  theta_i <- theta_i - eta / (sqrt(G_i) + eps) g_i
                      (Duchi, Hazan and Singer, JMLR 2011)
  (1.3) FTRL-Proximal per-coordinate z_i, n_i (McMahan et al., "Ad Click Prediction: a View from
                      the Trenches", KDD 2013, Algorithm 1)
  (1.4) progressive validation: predict each event, score it, then learn from it
                      (Blum, Kalai and Langford, COLT 1999)
  (1.5) RMSProp       G_i <- rho G_i + (1 - rho) g_i^2,  theta_i <- theta_i - eta / (sqrt(G_i) + eps) g_i
                      (Tieleman and Hinton, COURSERA lecture 6.5, 2012): AdaGrad with a decayed accumulator
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from course_lib.numerics import recovery_time, rolling_mean, sigmoid, sigmoid_scalar
from course_lib.protocols import StateDictMixin
from course_lib.validate import integer, number, number_array

__all__ = [
    "SGD", "AdaGrad", "RMSProp", "FTRLProximal", "OnlineLogisticRegression", "OnlineLinearRegression",
    "sgd_update", "adagrad_update", "rmsprop_update", "ftrl_update", "progressive_validation", "progressive_sgd_grid",
    "logloss_per_event", "rolling_logloss", "windowed_auc", "recovery_time",
]


# --------------------------------------------------------------------------- validation helpers

def _check_X(X, n_features: int):
    """Return X as CSR or a 2-D float array, after checking width and finiteness."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=float)
        data = X.data
    else:
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            raise ValueError(f"X must be 2-D (n_events, n_features); got shape {X.shape}. "
                             "For one event use X.reshape(1, -1).")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_events, n_features); got shape {X.shape}")
        data = X
    if X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features but the model was built with n_features={n_features}")
    if not np.all(np.isfinite(data)):
        raise ValueError("X contains NaN or infinite values; impute or drop them before learning")
    return X


def _check_y(y, n_rows: int, binary: bool) -> np.ndarray:
    y = np.asarray(y, dtype=float).ravel()
    if y.shape[0] != n_rows:
        raise ValueError(f"y has {y.shape[0]} values but X has {n_rows} rows")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite values")
    if binary and not np.all((y == 0) | (y == 1)):
        raise ValueError("y must hold 0/1 labels (click or no click) for logistic regression")
    return y


# --------------------------------------------------------------------------- update rules (pure)

def sgd_update(w: np.ndarray, g: np.ndarray, eta: float) -> np.ndarray:
    """Eq. (1.1): ``w - eta * g``."""
    return w - eta * g


def adagrad_update(w: np.ndarray, G: np.ndarray, g: np.ndarray, eta: float, eps: float = 1e-8
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Eq. (1.2), per coordinate: accumulate ``G += g**2`` first, then ``w -= eta / (sqrt(G) + eps) * g``.

    Returns the new ``(w, G)``; the inputs are left unchanged.
    """
    G = G + g * g
    return w - eta / (np.sqrt(G) + eps) * g, G


def rmsprop_update(w: np.ndarray, G: np.ndarray, g: np.ndarray, eta, rho: float, eps: float = 1e-8
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Eq. (1.5), per coordinate: decay and accumulate ``G = rho G + (1 - rho) g**2`` first, then
    ``w -= eta / (sqrt(G) + eps) * g``.  Elementwise, so ``w, G, g`` may have any (broadcastable) shape.

    Returns the new ``(w, G)``; the inputs are left unchanged.
    """
    G = rho * G + (1.0 - rho) * (g * g)
    return w - eta / (np.sqrt(G) + eps) * g, G


def ftrl_update(w: np.ndarray, z: np.ndarray, n: np.ndarray, g: np.ndarray, alpha: float, beta: float,
                l1: float, l2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eq. (1.3), McMahan et al. (2013) Algorithm 1 for the touched coordinates; returns new ``(w, z, n)``.

    sigma = (sqrt(n + g^2) - sqrt(n)) / alpha;  z += g - sigma w;  n += g^2;
    w = 0 if |z| <= l1 else -(z - sign(z) l1) / ((beta + sqrt(n)) / alpha + l2).
    """
    n_new = n + g * g
    sigma = (np.sqrt(n_new) - np.sqrt(n)) / alpha
    z = z + g - sigma * w
    w = np.where(np.abs(z) <= l1, 0.0, -(z - np.sign(z) * l1) / ((beta + np.sqrt(n_new)) / alpha + l2))
    return w, z, n_new


# --------------------------------------------------------------------------- optimisers

class SGD(StateDictMixin):
    """Plain SGD, eq. (1.1), with a ``"constant"`` or ``"invsqrt"`` (eta / sqrt(t)) learning rate."""

    def __init__(self, eta: float = 0.1, schedule: str = "constant"):
        self.eta = number("eta (the learning rate)", eta, low=0, low_open=True)
        if schedule not in ("constant", "invsqrt"):
            raise ValueError(f"schedule must be 'constant' or 'invsqrt', got {schedule!r}")
        self.schedule = schedule
        self.t = 0

    def init(self, n_weights: int) -> None:
        self.t = 0

    def rate(self) -> float:
        """eta_t for the step about to be taken (t counts steps from 1)."""
        return self.eta if self.schedule == "constant" else self.eta / math.sqrt(self.t + 1)

    def step(self, w: np.ndarray, idx: np.ndarray, g: np.ndarray) -> None:
        w[idx] = sgd_update(w[idx], g, self.rate())
        self.t += 1

    def kernel(self, w: list) -> tuple[Callable[[list, list], None], Callable[[], None]]:
        """``step`` on Python floats, for the fused loop (an event touches a handful of weights, where
        NumPy's per-call overhead dominates); ``finish`` writes the state back.  Same maths as ``step``."""
        eta, invsqrt, t0 = self.eta, self.schedule == "invsqrt", self.t
        t = [t0]

        def step(idx: list, g: list) -> None:
            rate = eta / math.sqrt(t[0] + 1) if invsqrt else eta
            for i, gi in zip(idx, g):
                w[i] -= rate * gi
            t[0] += 1

        def finish() -> None:
            self.t = t[0]
        return step, finish

    def __repr__(self) -> str:
        return f"SGD(eta={self.eta:g}, schedule={self.schedule!r})"


class AdaGrad(StateDictMixin):
    """AdaGrad, eq. (1.2): each coordinate's rate shrinks with its own squared-gradient sum G_i."""

    def __init__(self, eta: float = 0.5, eps: float = 1e-8,
                 update: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None):
        self.eta = number("eta (the learning rate)", eta, low=0, low_open=True)
        self.eps = number("eps", eps, low=0)
        self.update = update or adagrad_update
        self.G = np.zeros(0)

    def init(self, n_weights: int) -> None:
        self.G = np.zeros(n_weights)

    def step(self, w: np.ndarray, idx: np.ndarray, g: np.ndarray) -> None:
        w[idx], self.G[idx] = self.update(w[idx], self.G[idx], g, self.eta, self.eps)

    def kernel(self, w: list) -> tuple[Callable[[list, list], None], Callable[[], None]] | None:
        """Python-float ``step`` for the fused loop (see ``SGD.kernel``); None with a custom ``update``,
        which then runs as written."""
        if self.update is not adagrad_update:
            return None
        eta, eps, G = self.eta, self.eps, self.G.tolist()
        sqrt = math.sqrt

        def step(idx: list, g: list) -> None:
            for i, gi in zip(idx, g):
                if not gi:      # no gradient, no change (and no 0/0 when eps = 0)
                    continue
                Gi = G[i] + gi * gi
                G[i] = Gi
                w[i] -= eta / (sqrt(Gi) + eps) * gi

        def finish() -> None:
            self.G[:] = G
        return step, finish

    def __repr__(self) -> str:
        return f"AdaGrad(eta={self.eta:g})"


class RMSProp(StateDictMixin):
    """RMSProp, eq. (1.5): AdaGrad's per-coordinate rate with an exponentially decayed accumulator, so the
    rate stops shrinking; ``rho`` sets the memory, about ``1 / (1 - rho)`` steps of each coordinate.

    A coordinate's G decays only when a row touches it (all coordinates for dense rows)."""

    def __init__(self, eta: float = 0.01, rho: float = 0.999, eps: float = 1e-8,
                 update: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None):
        self.eta = number("eta (the learning rate)", eta, low=0, low_open=True)
        self.rho = number("rho (the decay of the accumulator)", rho, low=0, high=1, high_open=True)
        self.eps = number("eps", eps, low=0)
        self.update = update or rmsprop_update
        self.G = np.zeros(0)

    def init(self, n_weights: int) -> None:
        self.G = np.zeros(n_weights)

    def step(self, w: np.ndarray, idx: np.ndarray, g: np.ndarray) -> None:
        w[idx], self.G[idx] = self.update(w[idx], self.G[idx], g, self.eta, self.rho, self.eps)

    def kernel(self, w: list) -> tuple[Callable[[list, list], None], Callable[[], None]] | None:
        """Python-float ``step`` for the fused loop (see ``SGD.kernel``); None with a custom ``update``."""
        if self.update is not rmsprop_update:
            return None
        eta, rho, eps, G = self.eta, self.rho, self.eps, self.G.tolist()
        sqrt = math.sqrt

        def step(idx: list, g: list) -> None:
            for i, gi in zip(idx, g):
                Gi = rho * G[i] + (1.0 - rho) * (gi * gi)
                G[i] = Gi
                if gi:      # no gradient, no step (and no 0/0 when eps = 0)
                    w[i] -= eta / (sqrt(Gi) + eps) * gi

        def finish() -> None:
            self.G[:] = G
        return step, finish

    def __repr__(self) -> str:
        return f"RMSProp(eta={self.eta:g}, rho={self.rho:g})"


class FTRLProximal(StateDictMixin):
    """FTRL-Proximal with L1 and L2, eq. (1.3) (McMahan et al., KDD 2013): sparse weights under L1."""

    def __init__(self, alpha: float = 0.5, beta: float = 1.0, l1: float = 0.0, l2: float = 0.0):
        self.alpha = number("alpha", alpha, low=0, low_open=True)
        self.beta = number("beta", beta, low=0)
        self.l1 = number("l1", l1, low=0)
        self.l2 = number("l2", l2, low=0)
        self.z = np.zeros(0)
        self.n = np.zeros(0)

    def init(self, n_weights: int) -> None:
        self.z = np.zeros(n_weights)
        self.n = np.zeros(n_weights)

    def step(self, w: np.ndarray, idx: np.ndarray, g: np.ndarray) -> None:
        w[idx], self.z[idx], self.n[idx] = ftrl_update(w[idx], self.z[idx], self.n[idx], g,
                                                       self.alpha, self.beta, self.l1, self.l2)

    def kernel(self, w: list) -> tuple[Callable[[list, list], None], Callable[[], None]]:
        """Python-float ``step`` for the fused loop (see ``SGD.kernel``); same maths as ``ftrl_update``."""
        alpha, beta, l1, l2 = self.alpha, self.beta, self.l1, self.l2
        z, n = self.z.tolist(), self.n.tolist()
        sqrt = math.sqrt

        def step(idx: list, g: list) -> None:
            for i, gi in zip(idx, g):
                ni = n[i]
                n_new = ni + gi * gi
                zi = z[i] + gi - (sqrt(n_new) - sqrt(ni)) / alpha * w[i]
                z[i], n[i] = zi, n_new
                if abs(zi) <= l1:
                    w[i] = 0.0
                else:
                    w[i] = -(zi - math.copysign(l1, zi)) / ((beta + sqrt(n_new)) / alpha + l2)

        def finish() -> None:
            self.z[:] = z
            self.n[:] = n
        return step, finish

    def __repr__(self) -> str:
        return f"FTRLProximal(alpha={self.alpha:g}, beta={self.beta:g}, l1={self.l1:g}, l2={self.l2:g})"


# --------------------------------------------------------------------------- learners

class _OnlineLinearModel(StateDictMixin):
    """Shared weights and learning loop of the online linear models; follows ``course_lib.protocols.OnlineLearner``
    (``partial_fit``, ``predict``, ``state_dict``/``load_state_dict``, the optimiser's state included)."""

    _binary = False

    def __init__(self, n_features: int, optimizer=None, fit_intercept: bool = True):
        self.n_features = integer("n_features", n_features)
        self.optimizer = optimizer if optimizer is not None else SGD()
        if not all(hasattr(self.optimizer, m) for m in ("init", "step")):
            raise ValueError("optimizer must be an optimiser object such as SGD(), AdaGrad() or FTRLProximal()")
        self.fit_intercept = bool(fit_intercept)
        self.w = np.zeros(self.n_features + 1)  # the last weight is the intercept
        self.optimizer.init(self.n_features + 1)
        self.n_seen = 0

    @property
    def coef_(self) -> np.ndarray:
        return self.w[:-1]

    @property
    def intercept_(self) -> float:
        return float(self.w[-1])

    def decision_function(self, X) -> np.ndarray:
        X = _check_X(X, self.n_features)
        return np.asarray(X @ self.w[:-1]).ravel() + self.w[-1]

    def _link(self, z: float) -> float:
        return z

    def _rows(self, X):
        """Yield (indices, values) per row, the intercept's column appended."""
        bias = self.n_features
        if sp.issparse(X):
            indptr, indices, data = X.indptr, X.indices, X.data
            for i in range(X.shape[0]):
                a, b = indptr[i], indptr[i + 1]
                yield np.append(indices[a:b], bias), np.append(data[a:b], 1.0)
        else:
            idx = np.arange(self.n_features + 1)
            ones = np.ones((X.shape[0], 1))
            for row in np.hstack([X, ones]):
                yield idx, row

    def _learn(self, X, y: np.ndarray) -> np.ndarray:
        """Predict-then-learn over the rows of validated X; returns the predictions made before each step.

        The built-in optimisers run on Python floats (``optimizer.kernel``): an event touches a
        handful of weights, too few for NumPy's per-call overhead to pay.  An optimiser without a
        kernel (AdaGrad with a student's ``update``) runs its NumPy ``step``.
        """
        kernel = getattr(self.optimizer, "kernel", None)
        wl = self.w.tolist()
        fast = kernel(wl) if kernel is not None else None
        if fast is None:
            return self._learn_numpy(X, y)
        step, finish = fast
        link, bias, fit_b = self._link, self.n_features, self.fit_intercept
        preds = [0.0] * len(y)
        if sp.issparse(X):
            indptr, indices, data = X.indptr.tolist(), X.indices.tolist(), X.data.tolist()
            rows = ((indices[a:b], data[a:b]) for a, b in zip(indptr[:-1], indptr[1:]))
        else:
            cols = list(range(self.n_features))
            rows = ((cols, r) for r in X.tolist())
        for t, ((idx, x), label) in enumerate(zip(rows, y.tolist())):
            if fit_b:
                idx, x = idx + [bias], x + [1.0]
            p = link(sum(wl[i] * v for i, v in zip(idx, x)))
            preds[t] = p
            r = p - label
            step(idx, [r * v for v in x])  # both losses have gradient (prediction - y) x
        finish()
        self.w[:] = wl
        self.n_seen += len(y)
        return np.array(preds)

    def _learn_numpy(self, X, y: np.ndarray) -> np.ndarray:
        w, step, link = self.w, self.optimizer.step, self._link
        preds = np.empty(len(y))
        for t, (idx, x) in enumerate(self._rows(X)):
            if not self.fit_intercept:
                idx, x = idx[:-1], x[:-1]
            p = link(float(w[idx] @ x))
            preds[t] = p
            step(w, idx, (p - y[t]) * x)  # both losses have gradient (prediction - y) x
        self.n_seen += len(y)
        return preds

    def partial_fit(self, X, y):
        """One optimiser step per row of ``X`` (n_events, n_features), in order; returns self."""
        X = _check_X(X, self.n_features)
        y = _check_y(y, X.shape[0], self._binary)
        self._learn(X, y)
        return self


class OnlineLogisticRegression(_OnlineLinearModel):
    """Logistic regression learned one event at a time: p = sigmoid(w.x + b), log-loss gradient (p - y) x."""

    _binary = True

    def _link(self, z: float) -> float:
        return sigmoid_scalar(z)

    def predict_proba(self, X) -> np.ndarray:
        """Click probability of each row, shape (n_events,)."""
        z = self.decision_function(X)
        return sigmoid(z)

    def predict(self, X) -> np.ndarray:
        """0/1 labels at threshold 0.5."""
        return (self.predict_proba(X) >= 0.5).astype(int)


class OnlineLinearRegression(_OnlineLinearModel):
    """Least-squares regression learned one event at a time: y_hat = w.x + b, gradient (y_hat - y) x."""

    def predict(self, X) -> np.ndarray:
        return self.decision_function(X)


# --------------------------------------------------------------------------- progressive validation

def progressive_validation(model: _OnlineLinearModel, X, y) -> np.ndarray:
    """Eq. (1.4): for each event in order, predict it, then learn from it; returns the predictions.

    Each prediction is made before the model has seen its label, so the mean loss of these
    predictions is an honest, held-out estimate that uses every event for both testing and training.
    """
    X = _check_X(X, model.n_features)
    y = _check_y(y, X.shape[0], model._binary)
    return model._learn(X, y)


def progressive_sgd_grid(X: np.ndarray, y: np.ndarray, etas, fit_intercept: bool = True) -> np.ndarray:
    """Progressive validation of many SGD logistic learners at once (constant rates ``etas``).

    ``X``: (n_streams, n_events, n_features) dense, ``y``: (n_streams, n_events).  Returns the
    predictions, shape (n_streams, len(etas), n_events): entry [s, k] equals
    ``progressive_validation(OnlineLogisticRegression(d, SGD(etas[k])), X[s], y[s])``, computed
    with one loop over time for all streams and rates together.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 3 or y.shape != X.shape[:2]:
        raise ValueError(f"X must be (n_streams, n_events, n_features) and y (n_streams, n_events); "
                         f"got {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite")
    etas = number_array("etas", np.atleast_1d(etas), low=0, low_open=True)
    S, T, d = X.shape
    if fit_intercept:
        X = np.concatenate([X, np.ones((S, T, 1))], axis=2)
    W = np.zeros((S, len(etas), X.shape[2]))
    preds = np.empty((S, len(etas), T))
    for t in range(T):
        x = X[:, t, :]                                   # (S, d)
        z = np.einsum("skd,sd->sk", W, x)
        p = 0.5 * (1.0 + np.tanh(0.5 * z))
        preds[:, :, t] = p
        W -= (etas * (p - y[:, t, None]))[:, :, None] * x[:, None, :]
    return preds


_GRID_METHODS = ("sgd", "adagrad", "ftrl", "rmsprop")


def progressive_grid(X: np.ndarray, y: np.ndarray, rates, method: str = "sgd", beta: float = 1.0,
                     eps: float = 1e-8, fit_intercept: bool = True, rho: float = 0.999,
                     update: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """Progressive validation of many logistic learners at once: one optimiser, many rates.

    ``method``: ``"sgd"`` (constant rate eta, eq. 1.1), ``"adagrad"`` (eta, eq. 1.2) or ``"ftrl"``
    (alpha, with ``beta`` and no L1/L2, eq. 1.3) or ``"rmsprop"`` (eta, with decay ``rho``, eq. 1.5;
    ``update`` replaces ``rmsprop_update``, called elementwise on (n_streams, n_rates, d) arrays with
    eta of shape (1, n_rates, 1)).  ``X``: (n_streams, n_events, n_features) dense,
    ``y``: (n_streams, n_events).  Returns the predictions, (n_streams, len(rates), n_events): entry
    [s, k] equals ``progressive_validation`` of that optimiser with ``rates[k]`` on stream s, computed
    with one loop over time for all streams and rates together.
    """
    if method not in _GRID_METHODS:
        raise ValueError(f"method must be one of {_GRID_METHODS}, got {method!r}")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 3 or y.shape != X.shape[:2]:
        raise ValueError(f"X must be (n_streams, n_events, n_features) and y (n_streams, n_events); "
                         f"got {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite")
    rates = number_array("rates", np.atleast_1d(rates), low=0, low_open=True)
    beta = number("beta", beta, low=0)
    rho = number("rho (the decay of the accumulator)", rho, low=0, high=1, high_open=True)
    update = update or rmsprop_update
    S, T, _ = X.shape
    if fit_intercept:
        X = np.concatenate([X, np.ones((S, T, 1))], axis=2)
    W = np.zeros((S, len(rates), X.shape[2]))
    G = np.zeros_like(W)          # AdaGrad's G, FTRL's n
    Z = np.zeros_like(W)          # FTRL's z
    r = rates[None, :, None]
    preds = np.empty((S, len(rates), T))
    for t in range(T):
        x = X[:, t, :]                                            # (S, d)
        p = 0.5 * (1.0 + np.tanh(0.5 * np.einsum("skd,sd->sk", W, x)))
        preds[:, :, t] = p
        g = (p - y[:, t, None])[:, :, None] * x[:, None, :]     # (S, R, d)
        if method == "sgd":
            W -= r * g
        elif method == "adagrad":
            G += g * g
            W -= r / (np.sqrt(G) + eps) * g
        elif method == "rmsprop":
            W, G = update(W, G, g, r, rho, eps)
        else:
            n_new = G + g * g
            Z += g - (np.sqrt(n_new) - np.sqrt(G)) / r * W
            G = n_new
            W = -Z / ((beta + np.sqrt(G)) / r)
    return preds


# --------------------------------------------------------------------------- stream metrics

def logloss_per_event(y, p, eps: float = 1e-15) -> np.ndarray:
    """-[y log p + (1 - y) log(1 - p)] for each event (p clipped to [eps, 1 - eps])."""
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    y = np.asarray(y, dtype=float)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


def rolling_logloss(y, p, window: int) -> np.ndarray:
    """Mean log-loss over the trailing ``window`` events at each point of the stream."""
    return rolling_mean(logloss_per_event(y, p), window)


def windowed_auc(y, p, window: int) -> tuple[np.ndarray, np.ndarray]:
    """AUC of consecutive blocks of ``window`` events; returns (block end positions, AUCs)."""
    from sklearn.metrics import roc_auc_score

    y, p = np.asarray(y), np.asarray(p)
    ends, aucs = [], []
    for a in range(0, len(y) - window + 1, window):
        yy = y[a:a + window]
        if 0 < yy.sum() < len(yy):
            ends.append(a + window)
            aucs.append(roc_auc_score(yy, p[a:a + window]))
    return np.array(ends), np.array(aucs)


# recovery_time (events until the excess loss is small again) is course_lib.numerics.recovery_time.
