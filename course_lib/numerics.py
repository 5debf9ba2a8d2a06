"""Numerics shared by every lesson, written once: sigmoid, softmax, rolling means."""

from __future__ import annotations

import numpy as np

__all__ = ["sigmoid", "softmax", "rolling_mean"]


def sigmoid(z) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-z))``, stable for large ``|z|``."""
    z = np.asarray(z, dtype=float)
    return np.exp(-np.logaddexp(0.0, -z))


def softmax(scores, temperature: float = 1.0, axis: int = -1) -> np.ndarray:
    """``exp(s / temperature)`` normalised along ``axis`` (max-subtracted, so it never overflows)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    z = np.asarray(scores, dtype=float) / temperature
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def rolling_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (shorter at the start), along the last axis."""
    x = np.asarray(x, dtype=float)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    c = np.cumsum(x, axis=-1)
    out = c.copy()
    out[..., window:] = c[..., window:] - c[..., :-window]
    n = np.minimum(np.arange(1, x.shape[-1] + 1), window)
    return out / n
