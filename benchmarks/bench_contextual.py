"""Speed of lesson 03's LinUCB (course_lib.contextual) beside MABWiser's, on the same data.

One step = rank every arm for one context (``predict``) then learn from one reward
(``partial_fit`` of one event), the serve-and-learn cycle of the live loop.  Both start from the
same warm-up fit and receive identical streams; the script also checks that they still give the
same scores at the end.  It prints, first, the online path of lessons 04 and 08 (200 arms, d = 30,
``select`` then ``update`` of the chosen arm, one event at a time; goal: at least 100 times
MABWiser), then steps per second on 200 arms with the lesson's 13 features and how each grows with
the number of arms and with the context width.
Usage: python benchmarks/bench_contextual.py [seconds per measurement, default 1.0]
"""

import sys
import time

import numpy as np
from mabwiser.mab import MAB, LearningPolicy

from course_lib.contextual import LinUCB


def make_data(n_arms: int, d: int, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    arms = rng.integers(0, n_arms, n)
    rewards = (rng.random(n) < 0.15).astype(float)
    return X, arms, rewards


def steps_per_second(predict, partial_fit, X, arms, rewards, budget: float) -> tuple[float, int]:
    """Serve-and-learn steps per second over at most ``budget`` seconds (and ``len(X)`` steps)."""
    start = time.perf_counter()
    i = 0
    while i < len(X) and (i < 3 or time.perf_counter() - start < budget):
        predict(X[i:i + 1])
        partial_fit(arms[i:i + 1], rewards[i:i + 1], X[i:i + 1])
        i += 1
    return i / (time.perf_counter() - start), i


def measure(n_arms: int, d: int, budget: float, alpha: float = 1.0) -> tuple[float, float, float]:
    """(course_lib steps/s, mabwiser steps/s, max score difference after both streams)."""
    Xw, aw, rw = make_data(n_arms, d, 5 * n_arms, seed=1)  # warm-up: every arm about 5 events
    X, arms, rewards = make_data(n_arms, d, 100_000, seed=2)
    ours = LinUCB(n_arms, d, alpha=alpha, l2_lambda=1.0).partial_fit(aw, rw, Xw)
    mab = MAB(list(range(n_arms)), LearningPolicy.LinUCB(alpha=alpha, l2_lambda=1.0, scale=False), seed=0)
    mab.fit(aw, rw, Xw)
    rate_mab, n_mab = steps_per_second(mab.predict, mab.partial_fit, X, arms, rewards, budget)
    ours_same = LinUCB(n_arms, d, alpha=alpha, l2_lambda=1.0).partial_fit(aw, rw, Xw)
    ours_same.partial_fit(arms[:n_mab], rewards[:n_mab], X[:n_mab])  # the stream mabwiser saw
    theirs = np.array([[e[a] for a in range(n_arms)] for e in mab.predict_expectations(X[-5:])])
    diff = float(np.abs(ours_same.predict_expectations(X[-5:]) - theirs).max())
    rate_ours, _ = steps_per_second(ours.predict, ours.partial_fit, X, arms, rewards, budget)
    return rate_ours, rate_mab, diff


def online_rates(n_arms: int, d: int, budget: float, alpha: float = 1.0, repeats: int = 3) -> tuple[float, float]:
    """The online path of lessons 04 and 08, one event at a time: ``select(x)`` then ``update(arm, r, x)``
    for course_lib, ``predict(x)`` then ``partial_fit`` of the one event for MABWiser; best of ``repeats``."""
    Xw, aw, rw = make_data(n_arms, d, 5 * n_arms, seed=1)
    X, arms, rewards = make_data(n_arms, d, 200_000, seed=2)
    ours = LinUCB(n_arms, d, alpha=alpha, l2_lambda=1.0).partial_fit(aw, rw, Xw)
    mab = MAB(list(range(n_arms)), LearningPolicy.LinUCB(alpha=alpha, l2_lambda=1.0, scale=False), seed=0)
    mab.fit(aw, rw, Xw)

    def run_ours(i0: int) -> float:
        start, i = time.perf_counter(), i0
        while i - i0 < 3 or time.perf_counter() - start < budget:
            x = X[i]
            ours.update(ours.select(x), rewards[i], x)
            i += 1
        return (i - i0) / (time.perf_counter() - start)

    def run_mab(i0: int) -> float:
        start, i = time.perf_counter(), i0
        while i - i0 < 3 or time.perf_counter() - start < budget:
            arm = mab.predict(X[i:i + 1])
            mab.partial_fit([arm], rewards[i:i + 1], X[i:i + 1])
            i += 1
        return (i - i0) / (time.perf_counter() - start)

    rate_ours = max(run_ours(50_000 * r) for r in range(repeats))
    rate_mab = max(run_mab(1000 * r) for r in range(repeats))
    return rate_ours, rate_mab


def main(budget: float = 1.0) -> None:
    print("Online path: 200 arms, d = 30, one event at a time (select one context, update the chosen arm)")
    ours, theirs = online_rates(200, 30, budget)
    print(f"  course_lib {ours:10,.0f} decisions+updates/s   mabwiser {theirs:8,.1f}/s   ratio {ours / theirs:6,.0f}x"
          "   (goal >= 100x)")
    print()
    print("LinUCB serve-and-learn steps per second (predict one context over all arms, then one update)")
    print(f"{'arms':>5s} {'d':>4s} {'course_lib':>12s} {'mabwiser':>10s} {'ratio':>7s} {'max |score diff|':>17s}")
    for n_arms, d in [(200, 13), (50, 13), (800, 13), (200, 4), (200, 32), (200, 64)]:
        ours, theirs, diff = measure(n_arms, d, budget)
        print(f"{n_arms:5d} {d:4d} {ours:12,.0f} {theirs:10,.1f} {ours / theirs:7,.0f} {diff:17.1e}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
