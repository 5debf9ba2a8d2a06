"""Lesson 02 (multi-armed bandits): the exercise checkers, ``check_<exercise>(candidate) -> ExerciseResult``.

Each compares a student's function with the reference implementation, which stays in the algorithm
module; the notebook calls ``checks.check_<exercise>(my_function)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib.bandits import (SQRT2, choose_commit_length, discounted_ucb_update, epsilon_greedy_choice, etc_final_regret,
                                etc_theory_m, thompson_beta_update, ucb1_batch_arms, ucb1_index, within_noise_of_best)
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


def _commit_cases() -> list[tuple[np.ndarray, np.ndarray, float, int]]:
    """Sweeps of explore-then-commit's m: (ms, regrets (n, runs), smallest gap, horizon), the lesson's problem first."""
    cases = []
    for means, ms, horizon, seed in (
            ([0.10, 0.30, 0.50, 0.20, 0.15], [5, 10, 15, 20, 30, 40, 60, 80, 100, 150, 200, 300], 3000, 21),
            ([0.50, 0.45], [10, 25, 50, 100, 200, 400, 800, 1600, 3200], 20_000, 22),
            ([0.04, 0.02, 0.03], [25, 50, 100, 200, 400, 800, 1600], 20_000, 23)):
        means = np.asarray(means)
        gap = float(np.min(means.max() - means[means < means.max()]))
        cases.append((np.array(ms), etc_final_regret(means, ms, horizon, 300, seed), gap, horizon))
    return cases


def _check_commit(f) -> None:
    for ms, regrets, gap, horizon in _commit_cases():
        m_in, r_in = ms.copy(), regrets.copy()
        got = f(m_in, r_in)
        assert np.array_equal(m_in, ms) and np.array_equal(r_in, regrets), "do not modify the sweep you are given"
        assert np.ndim(got) == 0, "return one number: the m you would deploy"
        got = float(got)
        theory = {etc_theory_m(gap, horizon), etc_theory_m(gap, horizon, 0.5)}
        if not np.any(np.isclose(got, ms)):
            if any(abs(got - t) <= 1 for t in theory):
                raise AssertionError(f"m = {got:g} is the theory choice: it needs the gap between the best arms, which "
                                     "you do not know before the test; choose from the sweep you measured")
            raise AssertionError(f"return one of the m of the sweep {ms.tolist()}, got {got:g}: a value nobody measured "
                                 "is a guess, not a choice from the curve")
        j = int(np.flatnonzero(np.isclose(got, ms))[0])
        mean = regrets.mean(axis=1)
        best = int(np.argmin(mean))
        if within_noise_of_best(regrets)[j]:
            continue
        if j == int(np.argmin(np.median(regrets, axis=1))):
            wrong = float(np.mean(regrets[j] > 2 * np.median(regrets[j])))
            raise AssertionError(f"m = {got:g} has the lowest median, but {wrong:.0%} of its runs committed to a worse arm "
                                 f"and paid on every later visitor: its mean is {mean[j]:.0f} against {mean[best]:.0f}. "
                                 "The shop pays the mean; compare means, with their standard errors")
        if j == len(ms) - 1:
            raise AssertionError(f"m = {got:g}, the largest of the sweep, never commits wrongly but every run pays its long "
                                 f"test: mean {mean[j]:.0f} against {mean[best]:.0f} at m = {ms[best]:g}")
        if j == int(np.argmin(regrets.max(axis=1))):
            raise AssertionError(f"m = {got:g} has the smallest worst run, but costs {mean[j]:.0f} on average against "
                                 f"{mean[best]:.0f}: trade the tail only among the m within noise of the best mean")
        raise AssertionError(f"m = {got:g} has mean regret {mean[j]:.0f}, clearly above the best, {mean[best]:.0f} at "
                             f"m = {ms[best]:g} (more than two standard errors of the difference)")


def check_choose_commit_length(candidate: Callable) -> ExerciseResult:
    """Checks ``candidate(ms, regrets) -> m`` on three sweeps; any m within noise of the best mean regret passes."""
    return run_check("choose_commit_length", candidate, choose_commit_length, _check_commit)


def _batch_fixed_t(values, counts, t, c, n):
    """The reference with t held at the batch's start: also a fair reading of "pulls so far"."""
    pending, arms = np.zeros(len(values)), []
    for _ in range(n):
        arms.append(int(np.argmax(ucb1_index(values, counts + pending, t, c))))
        pending[arms[-1]] += 1
    return np.array(arms)


def _batch_guessed(values, counts, t, c, n, guess):
    values, counts, arms = np.array(values, dtype=float), np.array(counts, dtype=float), []
    for j in range(n):
        arms.append(int(np.argmax(ucb1_index(values, counts, t + j, c))))
        a = arms[-1]
        counts[a] += 1
        values[a] += (guess(values[a]) - values[a]) / counts[a]
    return np.array(arms)


def _batch_cases() -> list[tuple[np.ndarray, np.ndarray, int, float, int]]:
    rng = np.random.default_rng(17)
    cases = [(np.zeros(5), np.zeros(5), 0, 0.3, 12),                                  # nothing learned yet
             (np.array([0.5, 0.3, 0.1]), np.array([8.0, 4.0, 4.0]), 16, 0.5, 30),     # a leader and two uncertain arms
             (np.array([0.2, 0.6, 0.55, 0.0]), np.array([5.0, 50.0, 8.0, 0.0]), 63, 1.0, 20)]
    for _ in range(4):
        k = int(rng.integers(2, 7))
        counts = rng.integers(1, 16, k).astype(float)
        cases.append((np.round(rng.random(k), 2), counts, int(counts.sum()), float(rng.choice([0.5, 1.0, 1.4])),
                      int(rng.integers(5, 40))))
    return cases


def _check_batch(f) -> None:
    for values, counts, t, c, n in _batch_cases():
        v_in, c_in = values.copy(), counts.copy()
        got = f(v_in, c_in, t, c, n)
        assert np.array_equal(v_in, values) and np.array_equal(c_in, counts), (
            "leave values and counts unchanged: the batch is planned from the state the last update left; "
            "copy them before you count the scheduled pulls")
        got = np.asarray(got)
        assert got.shape == (n,), f"return one arm per visitor of the batch, shape ({n},), got {got.shape}"
        assert np.issubdtype(got.dtype, np.integer) and got.min() >= 0 and got.max() < len(values), (
            f"return arm indices between 0 and {len(values) - 1}")
        want = ucb1_batch_arms(values, counts, t, c, n)
        if np.array_equal(got, want) or np.array_equal(got, _batch_fixed_t(values, counts, t, c, n)):
            continue
        case = f"values={values.tolist()}, counts={counts.tolist()}, t={t}, c={c:g}, n={n}"
        if np.all(got == got[0]) and not np.all(want == want[0]):
            raise AssertionError(f"for {case} every visitor of the batch gets arm {got[0]}: with frozen statistics UCB1 "
                                 "repeats one arm. A scheduled pull is a pull: count it in n_i before choosing the next one")
        if np.array_equal(got, np.arange(n) % len(values)):
            raise AssertionError(f"for {case} your batch is a round robin that ignores what was learned; "
                                 f"UCB1 counting the scheduled pulls gives {want.tolist()}")
        for guess, what in ((lambda v: 0.0, "no click"), (lambda v: 1.0, "a click")):
            if np.array_equal(got, _batch_guessed(values, counts, t, c, n, guess)):
                raise AssertionError(f"for {case} you updated the means with a guessed reward ({what}); a pending pull has "
                                     "no reward yet: count it in n_i, leave the mean where it is")
        raise AssertionError(f"for {case} expected {want.tolist()}, got {np.asarray(got).tolist()}: at each visitor "
                             "play the UCB index (3) with every pull scheduled so far counted in n_i")


def check_batch_arms(candidate: Callable) -> ExerciseResult:
    """Checks ``candidate(values, counts, t, c, n) -> (n,) arms`` on hand-made and random states; hints name the usual mistakes."""
    return run_check("batch_arms", candidate, ucb1_batch_arms, _check_batch)
