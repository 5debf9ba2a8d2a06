"""Lesson 02 (multi-armed bandits): the exercise checkers, ``check_<exercise>(candidate) -> ExerciseResult``.

Each compares a student's function with the reference implementation, which stays in the algorithm
module; the notebook calls ``checks.check_<exercise>(my_function)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib.bandits import SQRT2, discounted_ucb_update, epsilon_greedy_choice, thompson_beta_update, ucb1_index
from course_lib.notebook.checks._guards import no_global_random
from course_lib.notebook.exercises import ExerciseResult, run_check


def _check_eps(candidate: Callable) -> None:
    values = np.array([0.2, 0.7, 0.1, 0.4])
    for eps in (0.0, 1.0, 0.3):
        rng = np.random.default_rng(11)
        n = 6000
        with no_global_random("draw every random number from the rng you are given (rng.random(), rng.integers()), "
                              "not from np.random: the lesson's runs must be reproducible from their seed"):
            picks = np.array([candidate(values.copy(), eps, rng) for _ in range(n)])
        assert np.issubdtype(np.asarray(picks).dtype, np.integer), "return the arm as an int (an index)"
        assert picks.min() >= 0 and picks.max() < len(values), "return an arm index between 0 and K-1"
        freq = np.bincount(picks, minlength=len(values)) / n
        expected = np.full(len(values), eps / len(values))
        expected[1] += 1 - eps
        sd = np.sqrt(expected * (1 - expected) / n)
        worst = int(np.argmax(np.abs(freq - expected) - 5 * sd))
        assert np.all(np.abs(freq - expected) <= 5 * sd + 1e-12), (
            f"with epsilon={eps} arm {worst} was chosen {freq[worst]:.3f} of the time, expected "
            f"{expected[worst]:.3f}: explore (a uniform arm, the greedy one included) with probability epsilon, "
            "otherwise play argmax(values)")


def check_epsilon_greedy_choice(candidate: Callable) -> ExerciseResult:
    """Checks ``candidate(values, epsilon, rng) -> int`` by the frequencies of its choices."""
    return run_check("epsilon_greedy_choice", candidate, epsilon_greedy_choice, _check_eps)


def _check_ucb(candidate: Callable) -> None:
    rng = np.random.default_rng(5)
    cases = [(np.array([0.5, 0.5]), np.array([1.0, 4.0]), 5, SQRT2),
             (np.array([0.2, 0.9, 0.4]), np.array([10.0, 3.0, 0.0]), 13, 1.0)]
    for _ in range(5):
        k = int(rng.integers(2, 8))
        cases.append((rng.random(k), rng.integers(1, 50, k).astype(float), int(rng.integers(60, 500)),
                      float(rng.uniform(0, 3))))
    for values, counts, t, c in cases:
        got = np.asarray(candidate(values.copy(), counts.copy(), t, c), dtype=float)
        want = ucb1_index(values, counts, t, c)
        assert got.shape == want.shape, f"return one index per arm, shape {want.shape}, got {got.shape}"
        assert np.array_equal(np.isinf(got), np.isinf(want)), "an arm with n_i = 0 must get index +inf"
        fin = np.isfinite(want)
        assert np.allclose(got[fin], want[fin], rtol=1e-9, atol=1e-12), (
            f"for values={np.round(values, 3).tolist()}, counts={counts.tolist()}, t={t}, c={c:.3g} expected "
            f"{np.round(want, 4).tolist()}, got {np.round(got, 4).tolist()}: index = value + c*sqrt(ln t / n)")


def check_ucb1_index(candidate: Callable) -> ExerciseResult:
    """Checks ``candidate(values, counts, t, c) -> (K,) indices`` against hand cases and the reference."""
    return run_check("ucb1_index", candidate, ucb1_index, _check_ucb)


def _check_beta(candidate: Callable) -> None:
    alpha, beta = np.array([1.0, 2.0, 1.0]), np.array([1.0, 1.0, 3.0])
    for arm, reward, want_a, want_b in [(0, 1.0, [2, 2, 1], [1, 1, 3]), (2, 0.0, [1, 2, 1], [1, 1, 4]),
                                        (1, 0.25, [1, 2.25, 1], [1, 1.75, 3])]:
        out = candidate(alpha.copy(), beta.copy(), arm, reward)
        assert isinstance(out, tuple) and len(out) == 2, "return the pair (alpha, beta)"
        a, b = (np.asarray(x, dtype=float) for x in out)
        assert np.allclose(a, want_a) and np.allclose(b, want_b), (
            f"after reward {reward} on arm {arm} from alpha={alpha.tolist()}, beta={beta.tolist()} expected "
            f"alpha={want_a}, beta={want_b}, got alpha={a.tolist()}, beta={b.tolist()}: "
            "a success adds to alpha, a failure to beta")


def check_thompson_beta_update(candidate: Callable) -> ExerciseResult:
    """Checks ``candidate(alpha, beta, arm, reward) -> (alpha, beta)`` on hand-computed updates."""
    return run_check("thompson_beta_update", candidate, thompson_beta_update, _check_beta)


def _check_ducb(candidate: Callable) -> None:
    counts, sums = np.array([3.0, 1.5, 0.0, 2.0]), np.array([1.0, 0.5, 0.0, 1.5])
    c0, s0 = counts.copy(), sums.copy()
    out = candidate(counts, sums, 1, 1.0, 0.9)
    assert np.array_equal(counts, c0) and np.array_equal(sums, s0), (
        "return new arrays and leave counts and sums unchanged (no in-place updates such as counts *= gamma)")
    assert isinstance(out, tuple) and len(out) == 2, "return the pair (counts, sums)"
    got_c, got_s = (np.asarray(x, dtype=float) for x in out)
    want_c, want_s = discounted_ucb_update(c0, s0, 1, 1.0, 0.9)
    if not np.allclose(got_c, want_c):
        if np.allclose(got_c, [3.0, 0.9 * 1.5 + 1, 0.0, 2.0]):
            raise AssertionError("only the played arm was discounted: every arm forgets at each step, played or not")
        if np.allclose(got_c, 0.9 * (c0 + np.eye(4)[1])):
            raise AssertionError("the new pull was discounted too: shrink the old counts first, then add this pull with weight 1")
        if np.allclose(got_c, c0 + np.eye(4)[1]):
            raise AssertionError("the counts were not discounted: multiply every count by gamma before adding the new pull")
        raise AssertionError(f"counts: expected {want_c.tolist()}, got {got_c.tolist()}")
    if not np.allclose(got_s, want_s):
        if np.allclose(got_s, s0 + np.eye(4)[1]):
            raise AssertionError("the reward sums were not discounted: they forget at the same rate as the counts")
        raise AssertionError(f"sums: expected {want_s.tolist()}, got {got_s.tolist()}")
    # a run: with the student's update, a policy recovers from a shift like the reference
    rng = np.random.default_rng(3)
    c1, s1, c2, s2 = np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3)
    for t in range(300):
        arm, reward = int(rng.integers(3)), float(rng.random() < 0.5)
        c1, s1 = candidate(c1, s1, arm, reward, 0.97)
        c2, s2 = discounted_ucb_update(c2, s2, arm, reward, 0.97)
    assert np.allclose(c1, c2) and np.allclose(s1, s2), "after 300 steps your statistics drift from the reference"


def check_discounted_ucb_update(candidate: Callable) -> ExerciseResult:
    """Checks ``candidate(counts, sums, arm, reward, gamma) -> (counts, sums)``; hints name the usual mistakes."""
    return run_check("discounted_ucb_update", candidate, discounted_ucb_update, _check_ducb)
