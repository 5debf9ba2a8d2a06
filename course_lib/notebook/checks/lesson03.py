"""Lesson 03 (LinUCB recommender): the exercise checkers, ``check_<exercise>(candidate) -> ExerciseResult``.

Each compares a student's function with the reference implementation, which stays in the algorithm
module; the notebook calls ``checks.check_<exercise>(my_function)``.
"""

from __future__ import annotations

import numpy as np

from course_lib.bandits import choose_from_sweep, within_noise_of_best
from course_lib.contextual import hybrid_linucb_score, sherman_morrison
from course_lib.notebook.checks._guards import no_linalg_solvers
from course_lib.notebook.exercises import ExerciseResult, run_check


def _random_spd(rng: np.random.Generator, d: int) -> np.ndarray:
    M = rng.standard_normal((d, d))
    return M @ M.T + d * np.eye(d)


def _check_sm(f) -> None:
    rng = np.random.default_rng(11)
    for d in (2, 4, 9):
        A = _random_spd(rng, d)
        x = rng.standard_normal(d)
        A_inv = np.linalg.inv(A)
        want = np.linalg.inv(A + np.outer(x, x))
        A_in, x_in = A_inv.copy(), x.copy()
        with no_linalg_solvers("compute (A + x x^T)^-1 from A_inv with the rank-one formula (SM), "
                               "without np.linalg.inv, solve or pinv: that is the point of Sherman-Morrison"):
            got = f(A_in, x_in)
        assert np.array_equal(A_in, A_inv) and np.array_equal(x_in, x), (
            "do not modify A_inv (or x) in place: return a new matrix, e.g. A_inv - ..., not A_inv -= ...")
        got = np.asarray(got, dtype=float)
        assert got.shape == (d, d), f"return a ({d}, {d}) matrix, got shape {got.shape}"
        if np.allclose(got, want, atol=1e-10):
            continue
        Ax = A_inv @ x
        outer, q = np.outer(Ax, Ax), x @ Ax
        if np.allclose(got, A_inv + outer / (1 + q)):
            raise AssertionError("the correction is subtracted: (A + x x^T)^-1 = A^-1 - (A^-1 x)(A^-1 x)^T / (1 + x^T A^-1 x)")
        if np.allclose(got, A_inv - outer / q) or np.allclose(got, A_inv - outer) or np.allclose(got, A_inv - outer / (1 - q)):
            raise AssertionError("check the denominator: it is 1 + x^T A^-1 x, a number")
        if np.allclose(got, A_inv - np.outer(x, x) / (1 + x @ x)) or np.allclose(got, A_inv - np.outer(x, x) / (1 + q)):
            raise AssertionError("the outer product is of A^-1 x with itself, not of x: (A^-1 x)(A^-1 x)^T")
        raise AssertionError(f"d={d}: the result is not (A + x x^T)^-1 (max error {np.abs(got - want).max():.2e}); "
                             "check the sign and the denominator 1 + x^T A^-1 x")


def check_sherman_morrison(candidate) -> ExerciseResult:
    """Exercise 2: ``candidate(A_inv, x) -> (A + x x^T)^{-1}`` against ``np.linalg.inv``; no solver, no in-place update."""
    return run_check("sherman_morrison", candidate, sherman_morrison, _check_sm)


def _hybrid_case(rng: np.random.Generator, d: int = 4, k: int = 6):
    def spd(n):
        M = rng.normal(size=(n, n))
        return np.linalg.inv(M @ M.T + n * np.eye(n))
    return (rng.normal(size=d), rng.normal(size=k), rng.normal(size=k), spd(k), spd(d),
            rng.normal(size=(d, k)), rng.normal(size=d), float(rng.uniform(0.2, 2.0)))


def _check_hybrid(f) -> None:
    rng = np.random.default_rng(12)
    for _ in range(6):
        x, z, beta, A0_inv, A_inv, B, b, alpha = case = _hybrid_case(rng)
        before = [np.array(a, copy=True) for a in case[:7]]
        got = f(*case)
        assert all(np.array_equal(a, c) for a, c in zip(case[:7], before)), "do not modify the arrays you are given"
        assert np.ndim(got) == 0, "return one number, the score of this arm"
        want = hybrid_linucb_score(*case)
        if np.isclose(got, want, rtol=1e-8, atol=1e-10):
            continue
        theta = A_inv @ (b - B @ beta)
        Ax = A_inv @ x
        s_full = z @ A0_inv @ z - 2 * z @ A0_inv @ B.T @ Ax + x @ Ax + Ax @ B @ A0_inv @ B.T @ Ax
        if np.isclose(got, x @ A_inv @ b + alpha * np.sqrt(x @ Ax)):
            raise AssertionError("that is disjoint LinUCB's score: add the shared part z^T beta, use "
                                 "theta = A^-1 (b - B beta), and the z terms of s")
        if np.isclose(got, z @ beta + x @ (A_inv @ b) + alpha * np.sqrt(s_full)):
            raise AssertionError("theta must be A^-1 (b - B beta): the shared part explains some of b already")
        if np.isclose(got, z @ beta + x @ theta + alpha * np.sqrt(s_full + 2 * z @ A0_inv @ B.T @ Ax)):
            raise AssertionError("s is missing the cross term -2 z^T A0^-1 B^T A^-1 x")
        if np.isclose(got, z @ beta + x @ theta + alpha * s_full):
            raise AssertionError("the bonus is alpha times the square root of s")
        raise AssertionError(f"expected {want:.6f}, got {float(got):.6f}: score = z^T beta + x^T theta + alpha sqrt(s), eq. (H)")


def check_hybrid_linucb_score(candidate) -> ExerciseResult:
    """Checks ``candidate(x, z, beta, A0_inv, A_inv, B, b, alpha) -> float``; hints name the usual mistakes."""
    return run_check("hybrid_linucb_score", candidate, hybrid_linucb_score, _check_hybrid)


def _sweep_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """Sweeps of final regret, (values, (n_values, runs)), with known answers."""
    rng = np.random.default_rng(21)
    alphas = np.array([0.0, 0.3, 1.0, 3.0])
    u_shape = np.array([205.0, 80.0, 150.0, 230.0])[:, None] + rng.normal(0, 8, (4, 5))
    # run 0 is misleading: alpha = 3 was lucky once, its mean is the worst
    lucky = np.array([[200, 210, 205, 198, 207], [90, 95, 85, 92, 88], [120, 125, 118, 122, 121],
                      [40, 260, 255, 270, 265]], dtype=float)
    # a tie within noise between 0.3 and 1: both are defensible
    tie = np.array([[300, 310, 295, 305], [100, 140, 90, 130], [110, 105, 120, 100], [200, 210, 190, 205]], dtype=float)
    # more is better on this horizon
    rising = np.array([400.0, 300.0, 200.0, 120.0])[:, None] + rng.normal(0, 5, (4, 6))
    return [(alphas, u_shape), (alphas, lucky), (alphas, tie), (alphas, rising)]


def _check_choose_alpha(f) -> None:
    for values, regrets in _sweep_cases():
        v_in, r_in = values.copy(), regrets.copy()
        got = f(v_in, r_in)
        assert np.array_equal(v_in, values) and np.array_equal(r_in, regrets), "do not modify the sweep you are given"
        assert np.ndim(got) == 0, "return one number: the alpha you would deploy"
        got = float(got)
        assert np.any(np.isclose(got, values)), (
            f"return one of the alphas of the sweep {values.tolist()}, got {got:g}: a value nobody measured "
            "(Li et al.'s 2.4, say) is a guess, not a choice from the curve")
        j = int(np.flatnonzero(np.isclose(got, values))[0])
        mean = regrets.mean(axis=1)
        best = int(np.argmin(mean))
        if within_noise_of_best(regrets)[j]:
            continue
        if j == int(np.argmin(regrets[:, 0])) or j == int(np.argmin(regrets.min(axis=1))):
            raise AssertionError(f"alpha = {got:g} won one run but not on average ({mean[j]:.0f} against {mean[best]:.0f}): "
                                 "compare the mean over runs, with its standard error")
        if j == int(np.argmax(mean)):
            raise AssertionError(f"alpha = {got:g} has the largest mean regret of the sweep: regret is lost clicks, lower is better")
        raise AssertionError(f"alpha = {got:g} has mean regret {mean[j]:.0f}, clearly above the best, {mean[best]:.0f} at "
                             f"alpha = {values[best]:g} (more than two standard errors of the difference)")


def check_choose_alpha(candidate) -> ExerciseResult:
    """Exercise 1: ``candidate(alphas, regrets) -> alpha``; any alpha within noise of the best mean regret passes."""
    return run_check("choose_alpha", candidate, choose_from_sweep, _check_choose_alpha)
