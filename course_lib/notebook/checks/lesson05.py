"""Lesson 05's exercise checkers: the clock's Gaussian hour weights, and reading the clock at hour h."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib import clock as ck
from course_lib.notebook.exercises import ExerciseResult, run_check

__all__ = ["check_hour_weights", "check_read_hour", "hour_weights", "read_hour"]


def hour_weights(hour: int, sigma: float = 1.0) -> np.ndarray:
    """Reference: weight w(hour, t) of every clock hour t = 0..23 (eqs. 5.1-5.2), shape (24,)."""
    return ck.weight_matrix(sigma)[int(hour)]


def read_hour(clock: np.ndarray, hour: int, sigma: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """Reference: one user's clock (24, C) read at ``hour`` (eq. 5.4), keeping the top_k categories per hour."""
    return ck.read_clock(np.asarray(clock, dtype=float)[None], np.array([hour]), sigma, top_k)[0]


def _check_weights(fn: Callable) -> None:
    for hour, sigma in [(0, 1.0), (7, 1.0), (23, 1.0), (12, 2.5), (3, 0.5)]:
        got = np.asarray(fn(hour, sigma), dtype=float)
        want = hour_weights(hour, sigma)
        assert got.shape == (24,), f"return one weight per clock hour, shape (24,); got shape {got.shape}"
        assert abs(got.sum() - 1) < 1e-6, (
            f"the weights for hour={hour}, sigma={sigma} sum to {got.sum():.4f}: divide by their sum "
            "over the 24 hours so that they sum to 1")
        if hour in (0, 23) and not np.allclose(got, want, atol=1e-9):
            near = (hour + 12) % 24
            assert got[(hour - 1) % 24] > got[near], (
                f"at hour {hour} the hour {(hour - 1) % 24} is 1 hour away, not 23: the distance must wrap "
                "round midnight, d = min(|h - t| mod 24, 24 - |h - t| mod 24)")
        assert np.allclose(got, want, atol=1e-9), (
            f"for hour={hour}, sigma={sigma} expected {np.round(want[:4], 4)} ... for hours 0..3, got "
            f"{np.round(got[:4], 4)} ...; use exp(-d**2 / (2 * sigma**2)) of the circular distance d")


def check_hour_weights(candidate: Callable) -> ExerciseResult:
    """``candidate(hour, sigma)`` -> the 24 normalised Gaussian weights of eq. (5.2)."""
    return run_check("hour_weights", candidate, hour_weights, _check_weights)


def _check_read(fn: Callable) -> None:
    rng = np.random.default_rng(5)
    clock = rng.poisson(0.8, size=(24, 6)).astype(float)
    clock[6] = 0.0                                   # an empty hour between full ones
    # for the top_k cases, counts without ties inside an hour, so that any tie-breaking rule is right
    distinct = rng.permuted(np.tile(np.arange(6.0), (24, 1)), axis=1)
    distinct[6] = 0.0
    for hour, sigma, top_k in [(6, 1.0, None), (0, 1.0, None), (23, 2.0, None), (6, 1.0, 2), (13, 1.5, 1)]:
        if top_k is not None:
            clock = distinct
        before = clock.copy()
        got = np.asarray(fn(clock, hour, sigma, top_k), dtype=float)
        assert np.array_equal(clock, before), "do not change the clock in place while reading it"
        want = read_hour(clock, hour, sigma, top_k)
        assert got.shape == want.shape, f"return one value per category, shape {want.shape}; got {got.shape}"
        if top_k is None and hour == 6:
            assert got.sum() > 0, ("the 06:00 bucket is empty but its neighbours are not: the smoothed clock "
                                   "must borrow from hours 05:00 and 07:00")
        if top_k is not None and np.allclose(got, read_hour(clock, hour, sigma, None)):
            raise AssertionError(f"with top_k={top_k}, keep only the top_k largest counts of each hour "
                                 "(zero the others) before smoothing")
        assert np.allclose(got, want, atol=1e-9), (
            f"at hour={hour}, sigma={sigma}, top_k={top_k} expected {np.round(want, 3)}, got {np.round(got, 3)}; "
            "sum over the 24 hours t of w(hour, t) * clock[t]")


def check_read_hour(candidate: Callable) -> ExerciseResult:
    """``candidate(clock, hour, sigma, top_k)`` -> the clock (24, C) read at ``hour``, eq. (5.4)."""
    return run_check("read_hour", candidate, read_hour, _check_read)
