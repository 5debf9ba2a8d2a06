"""Numerics shared by every lesson, written once: sigmoid, softmax, rolling means, recovery times."""

from __future__ import annotations

import math

import numpy as np

from course_lib.validate import integer, number

__all__ = ["sigmoid", "sigmoid_scalar", "softmax", "rolling_mean", "recovery_time"]


def sigmoid(z) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-z))``, stable for large ``|z|``."""
    z = np.asarray(z, dtype=float)
    return np.exp(-np.logaddexp(0.0, -z))


def sigmoid_scalar(z: float) -> float:
    """The logistic function on one Python float (the per-event loops of lesson 01, where NumPy's call
    overhead would dominate); stable for large ``|z|``."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def softmax(scores, temperature: float = 1.0, axis: int = -1) -> np.ndarray:
    """``exp(s / temperature)`` normalised along ``axis`` (max-subtracted, so it never overflows)."""
    temperature = number("temperature", temperature, low=0, low_open=True)
    z = np.asarray(scores, dtype=float) / temperature
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def rolling_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (shorter at the start), along the last axis."""
    x = np.asarray(x, dtype=float)
    window = integer("window", window)
    c = np.cumsum(x, axis=-1)
    out = c.copy()
    out[..., window:] = c[..., window:] - c[..., :-window]
    n = np.minimum(np.arange(1, x.shape[-1] + 1), window)
    return out / n


def recovery_time(series, start: int, threshold: float, window: int, *, above: bool = False,
                  full_window: bool = True, never: float | None = None) -> np.ndarray:
    """Steps after ``start`` until the trailing-``window`` mean of ``series`` first falls below ``threshold``
    (``above=True``: first reaches ``>= threshold``), along the last axis.

    Lesson 01 asks how long an excess log-loss stays high after a drift (``full_window=True``: only
    full windows count); lesson 02 how long until most runs play the new best arm (``above=True``,
    ``full_window=False``, through ``course_lib.bandits.recovery_time``).  Returns ``hit + 1``, or
    ``never`` (default: the number of steps left) where it never happens.
    """
    x = np.asarray(series, dtype=float)
    start = integer("start", start, low=0, high=x.shape[-1] - 1)
    threshold = number("threshold", threshold)
    window = integer("window", window)
    r = rolling_mean(x[..., start:], window)
    if full_window:  # a full window after the change before we call it recovered
        r[..., : window - 1] = -np.inf if above else np.inf
    hit_mask = r >= threshold if above else r < threshold
    hit = hit_mask.argmax(axis=-1)
    return np.where(hit_mask.any(axis=-1), hit + 1, r.shape[-1] if never is None else never)
