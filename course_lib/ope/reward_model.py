"""Lesson 06's reward model q_hat(x, a) for the direct method and doubly robust."""

from __future__ import annotations

import numpy as np

from course_lib.validate import array

from course_lib.numerics import sigmoid


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

        x = array("context_features", context_features, min_ndim=1)
        y = array("item_features", item_features, min_ndim=1)
        a = np.asarray(actions)
        r = array("rewards", rewards, min_ndim=1)
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
        x = np.atleast_2d(array("context_features", context_features, min_ndim=1))
        y = self.item_features_
        z = x @ self.W_ @ y.T + (x @ self.b_)[:, None] + (y @ self.c_)[None, :] + self.intercept_
        return sigmoid(z)
