"""Exercise checkers of lesson 04 (neural bandits): the NeuralLinear posterior update and
NeuralUCB's exploration bonus.  References live in ``course_lib.neural``."""

from __future__ import annotations

from unittest import mock

import numpy as np

from course_lib.neural import neural_linear_update, neural_ucb_bonus
from course_lib.notebook.exercises import ExerciseResult, run_check


def _spd_inverse(rng: np.random.Generator, h: int) -> np.ndarray:
    M = rng.standard_normal((h, h))
    return np.linalg.inv(M @ M.T + h * np.eye(h))


def check_neural_linear_update(candidate) -> ExerciseResult:
    """Exercise 2: ``candidate(A_inv, b, phi, reward) -> (A_inv_new, b_new)``, Sherman-Morrison, inputs untouched.

    Compared with ``np.linalg.inv(A + phi phi^T)`` and ``b + r phi`` on random arms; ``np.linalg.inv``,
    ``solve``, ``pinv``, ``lstsq`` and ``scipy.linalg.inv``/``solve`` are switched off while the candidate
    runs (a rank-one update is asked for).
    """

    def check(f):
        rng = np.random.default_rng(4)
        for h, reward in ((2, 1.0), (5, 0.0), (8, -2.5)):
            A_inv = _spd_inverse(rng, h)
            b, phi = rng.standard_normal(h), rng.standard_normal(h)
            A_in, b_in, phi_in = A_inv.copy(), b.copy(), phi.copy()

            def forbidden(*args, **kwargs):
                raise AssertionError("use the Sherman-Morrison rank-one update, not an inverse, pseudo-inverse or solve "
                                     "(an O(h^3) inverse at every event is what the update avoids)")

            import scipy.linalg
            with mock.patch.object(np.linalg, "inv", forbidden), mock.patch.object(np.linalg, "solve", forbidden), \
                    mock.patch.object(np.linalg, "pinv", forbidden), mock.patch.object(np.linalg, "lstsq", forbidden), \
                    mock.patch.object(scipy.linalg, "inv", forbidden), mock.patch.object(scipy.linalg, "solve", forbidden):
                out = f(A_in, b_in, phi_in, reward)
            assert isinstance(out, tuple) and len(out) == 2, "return a pair (A_inv_new, b_new)"
            A_new, b_new = (np.asarray(o) for o in out)
            assert np.array_equal(A_in, A_inv) and np.array_equal(b_in, b), (
                "your function changed A_inv or b in place; return new arrays (the caller may still need the old ones)")
            assert A_new.shape == (h, h) and b_new.shape == (h,), (
                f"expected shapes ({h}, {h}) and ({h},), got {A_new.shape} and {b_new.shape}")
            want = np.linalg.inv(np.linalg.inv(A_inv) + np.outer(phi, phi))
            assert np.allclose(b_new, b + reward * phi), "b_new should be b + reward * phi"
            assert np.allclose(A_new, want, atol=1e-10), (
                f"h={h}: A_inv_new is not (A + phi phi^T)^-1 (max error {np.abs(A_new - want).max():.2e}); "
                "check the minus sign and the denominator 1 + phi^T A^-1 phi")

    return run_check("neural_linear_update", candidate, neural_linear_update, check)


def check_neural_ucb_bonus(candidate) -> ExerciseResult:
    """Exercise 1: ``candidate(g, Z_inv, m, gamma) -> gamma sqrt(g^T Z^-1 g / m)`` on random gradients."""

    def check(f):
        rng = np.random.default_rng(9)
        for P, m, gamma in ((4, 1, 1.0), (12, 16, 0.5), (30, 64, 3.0)):
            Z_inv = _spd_inverse(rng, P)
            g = rng.standard_normal(P)
            got = f(g.copy(), Z_inv.copy(), m, gamma)
            want = neural_ucb_bonus(g, Z_inv, m, gamma)
            assert np.ndim(got) == 0, f"return one number (a float), got shape {np.shape(got)}"
            got = float(got)
            if m > 1 and np.isclose(got, want * np.sqrt(m)):
                raise AssertionError("divide g^T Z^-1 g by the width m before the square root")
            if m > 1 and np.isclose(got, gamma * np.sqrt(float(g @ Z_inv @ g)) / m):
                raise AssertionError("divide by m inside the square root: gamma * sqrt(g^T Z^-1 g / m), "
                                     "not gamma * sqrt(g^T Z^-1 g) / m")
            if np.isclose(got, gamma * float(g @ Z_inv @ g) / m):
                raise AssertionError("take the square root of g^T Z^-1 g / m")
            if gamma != 1 and np.isclose(got, want / gamma):
                raise AssertionError("multiply by the exploration scale gamma")
            assert np.isclose(got, want, rtol=1e-9), (
                f"P={P}, m={m}, gamma={gamma}: expected {want:.6f}, got {got:.6f}")

    return run_check("neural_ucb_bonus", candidate, neural_ucb_bonus, check)
