"""Lesson 01 (online learning): the exercise checkers, ``check_<exercise>(candidate) -> ExerciseResult``.

Each compares a student's function with the reference implementation, which stays in the algorithm
module; the notebook calls ``checks.check_<exercise>(my_function)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from course_lib.online import adagrad_update, rmsprop_update
from course_lib.notebook.exercises import ExerciseResult, run_check


@dataclass
class _Case:
    w: np.ndarray
    G: np.ndarray
    g: np.ndarray


def _check_adagrad(fn: Callable) -> None:
    # Two hand-computed steps on one coordinate: eta = 1, eps = 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        w, G = fn(np.array([0.0]), np.array([0.0]), np.array([2.0]), 1.0, 0.0)
    w, G = np.asarray(w, dtype=float), np.asarray(G, dtype=float)
    if not np.all(np.isfinite(w)):
        raise AssertionError("the first step divided by sqrt(0): add g**2 to G first, then step with the new G")
    if np.allclose(G, [2.0]):
        raise AssertionError("G accumulates the squared gradient: G + g**2, not G + g")
    assert np.allclose(G, [4.0]), f"after g = 2, G should be 0 + 2**2 = 4, got {np.ravel(G)}"
    if np.allclose(w, [-0.5]):
        raise AssertionError("the step divides by G itself; eq. (1.2) divides by its square root, sqrt(G) + eps")
    if np.allclose(w, [1.0]):
        raise AssertionError("the step goes against the gradient: w - eta / (sqrt(G) + eps) * g")
    assert np.allclose(w, [-1.0]), (
        f"after g = 2 from w = 0, w should be 0 - 1/sqrt(4) * 2 = -1, got {np.ravel(w)} "
        "(add g**2 to G before taking the step)")
    w, G = fn(w, G, np.array([-3.0]), 1.0, 0.0)
    assert np.allclose(G, [13.0]) and np.allclose(w, [-1.0 + 3.0 / math.sqrt(13.0)]), (
        f"second step (g = -3): expected G = 13 and w = {-1 + 3 / math.sqrt(13):.4f}, got G = {np.ravel(G)}, "
        f"w = {np.ravel(w)}")
    rng = np.random.default_rng(0)
    case = _Case(rng.normal(size=5), rng.uniform(0, 2, 5), rng.normal(size=5))
    w_in, G_in, g_in = case.w.copy(), case.G.copy(), case.g.copy()
    got = fn(case.w, case.G, case.g, 0.3, 1e-8)
    assert np.array_equal(case.w, w_in) and np.array_equal(case.G, G_in) and np.array_equal(case.g, g_in), (
        "do not modify w, G or g in place (G += g**2 changes the caller's array): return new arrays, G = G + g**2")
    want = adagrad_update(w_in, G_in, case.g, 0.3, 1e-8)
    assert np.allclose(got[0], want[0]) and np.allclose(got[1], want[1]), (
        "per-coordinate update on 5 coordinates differs from eq. (1.2): each coordinate uses its own G_i")


def check_adagrad_update(fn: Callable) -> ExerciseResult:
    """Exercise 1: ``fn(w, G, g, eta, eps) -> (w, G)`` implements AdaGrad's step, eq. (1.2)."""
    return run_check("adagrad_update", fn, adagrad_update, _check_adagrad)


def _check_rmsprop(fn: Callable) -> None:
    # One hand-computed step on one coordinate: w = 0, G = 1, g = 2, eta = 1, rho = 0.9, eps = 0, so
    # G = 0.9 * 1 + 0.1 * 4 = 1.3 and w = -2 / sqrt(1.3).
    with np.errstate(divide="ignore", invalid="ignore"):
        w, G = fn(np.array([0.0]), np.array([1.0]), np.array([2.0]), 1.0, 0.9, 0.0)
    w, G = np.ravel(np.asarray(w, dtype=float)), np.ravel(np.asarray(G, dtype=float))
    if np.allclose(G, [5.0]):
        raise AssertionError("G only accumulates (that is AdaGrad's sum): the old G must decay, "
                             "G = rho * G + (1 - rho) * g**2")
    if np.allclose(G, [4.9]):
        raise AssertionError("the new squared gradient enters a decayed *average*: weight it by (1 - rho), "
                             "G = rho * G + (1 - rho) * g**2")
    if np.allclose(G, [3.7]):
        raise AssertionError("rho and 1 - rho are swapped: rho (close to 1) keeps the old G, "
                             "(1 - rho) weighs the new g**2")
    if np.allclose(G, [1.0 + 0.1 * 2.0]) or np.allclose(G, [0.9 + 0.1 * 2.0]):
        raise AssertionError("G averages the *squared* gradient: (1 - rho) * g**2, not (1 - rho) * g")
    assert np.allclose(G, [1.3]), f"with G = 1, g = 2, rho = 0.9, G should become 0.9 * 1 + 0.1 * 2**2 = 1.3, got {G}"
    if np.allclose(w, [-2.0]):
        raise AssertionError("the step used the old G: update G first, then step with the new G")
    if np.allclose(w, [-2.0 / 1.3]):
        raise AssertionError("the step divides by G itself; like AdaGrad it divides by the square root, "
                             "sqrt(G) + eps")
    if np.allclose(w, [2.0 / math.sqrt(1.3)]):
        raise AssertionError("the step goes against the gradient: w - eta / (sqrt(G) + eps) * g")
    assert np.allclose(w, [-2.0 / math.sqrt(1.3)]), (
        f"from w = 0 with the new G = 1.3, w should be -2 / sqrt(1.3) = {-2 / math.sqrt(1.3):.4f}, got {w}")
    # Many coordinates, rates and streams at once, as the lesson's grid calls it: eta is an array
    # (one rate per column) and every operation must work elementwise.
    rng = np.random.default_rng(0)
    W, G, g = rng.normal(size=(2, 3, 4)), rng.uniform(0, 2, (2, 3, 4)), rng.normal(size=(2, 3, 4))
    eta = np.array([0.01, 0.1, 1.0])[None, :, None]
    W_in, G_in, g_in = W.copy(), G.copy(), g.copy()
    try:
        got = fn(W, G, g, eta, 0.99, 1e-8)
    except (TypeError, ValueError) as err:
        raise AssertionError("the lesson calls your function on whole arrays, with eta an array of rates: "
                             f"use NumPy operations elementwise (np.sqrt, not math.sqrt or float()); got {err!r}"
                             ) from None
    assert np.array_equal(W, W_in) and np.array_equal(G, G_in) and np.array_equal(g, g_in), (
        "do not modify w, G or g in place (G *= rho changes the caller's array): return new arrays, "
        "G = rho * G + (1 - rho) * g**2")
    want = rmsprop_update(W_in, G_in, g_in, eta, 0.99, 1e-8)
    assert np.shape(got[0]) == want[0].shape and np.shape(got[1]) == want[1].shape, (
        f"return (w, G) with the shapes of the inputs, {want[0].shape}; got {np.shape(got[0])} and {np.shape(got[1])}")
    assert np.allclose(got[0], want[0]) and np.allclose(got[1], want[1]), (
        "the update on arrays differs from eq. (1.5): each coordinate uses its own G_i, and eta is elementwise")


def check_rmsprop_update(fn: Callable) -> ExerciseResult:
    """Exercise 2: ``fn(w, G, g, eta, rho, eps) -> (w, G)`` implements RMSProp's step, eq. (1.5)."""
    return run_check("rmsprop_update", fn, rmsprop_update, _check_rmsprop)
