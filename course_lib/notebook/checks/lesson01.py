"""Lesson 01 (online learning): the exercise checkers, ``check_<exercise>(candidate) -> ExerciseResult``.

Each compares a student's function with the reference implementation, which stays in the algorithm
module; the notebook calls ``checks.check_<exercise>(my_function)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from course_lib.online import OnlineLogisticRegression, SGD, adagrad_update, progressive_validation
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


def _check_pv(fn: Callable) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    y = (rng.uniform(size=60) < 0.5).astype(float)
    model = OnlineLogisticRegression(3, SGD(0.5))
    got = np.asarray(fn(model, X, y), dtype=float)
    ref_model = OnlineLogisticRegression(3, SGD(0.5))
    want = progressive_validation(ref_model, X, y)
    assert got.shape == want.shape, f"return one prediction per event: expected shape {want.shape}, got {got.shape}"
    assert np.isclose(got[0], 0.5), (
        "the first prediction must come from the untouched model (0.5): predict each event before learning from it")
    assert np.allclose(got, want), "predictions differ from predict-then-learn on each event, in order"
    assert np.allclose(model.w, ref_model.w), "the model must have learned from every event by the end"


def check_progressive_validation(fn: Callable) -> ExerciseResult:
    """Exercise 2: ``fn(model, X, y) -> predictions`` is the predict-then-learn loop, eq. (1.4)."""
    return run_check("progressive_validation", fn, progressive_validation, _check_pv)
