"""Lesson 03 (LinUCB recommender): the exercise checkers, ``check_<exercise>(candidate) -> ExerciseResult``.

Each compares a student's function with the reference implementation, which stays in the algorithm
module; the notebook calls ``checks.check_<exercise>(my_function)``.
"""

from __future__ import annotations

import numpy as np

from course_lib.contextual import linucb_score, sherman_morrison
from course_lib.notebook.exercises import ExerciseResult, run_check


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
