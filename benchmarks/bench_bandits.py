"""Speed of lesson 02's bandit simulator: simulated steps per second (course_lib.bandits).

Same problem for all three (five Bernoulli arms with means 0.10, 0.30, 0.50, 0.20, 0.15):
- vectorised: ``simulate(policy with runs=R)``, R runs advanced by one NumPy step per time step;
- per-step loop: ``simulate_loop``, one-run policies, one Python call of select/update per step;
- mabwiser: ``MAB.predict()`` then ``MAB.partial_fit([arm], [reward])`` per step, one run.
The mean final regret per run is printed beside the speed, to show the three play the same game.
Usage: python benchmarks/bench_bandits.py [runs] [horizon]
"""

import sys
import time

import numpy as np
from mabwiser.mab import MAB, LearningPolicy

from course_lib import bandits as bd

MEANS = np.array([0.10, 0.30, 0.50, 0.20, 0.15])
K = len(MEANS)

POLICIES = {
    "eps-greedy(0.1)": (lambda runs, s: bd.EpsilonGreedy(K, 0.1, runs=runs, seed=s),
                        lambda s: LearningPolicy.EpsilonGreedy(epsilon=0.1)),
    "UCB1(c=sqrt 2)": (lambda runs, s: bd.UCB1(K, runs=runs, seed=s),
                       lambda s: LearningPolicy.UCB1(alpha=1.0)),  # mabwiser: alpha*sqrt(2 ln t / n)
    "Thompson(Beta)": (lambda runs, s: bd.ThompsonBernoulli(K, runs=runs, seed=s),
                       lambda s: LearningPolicy.ThompsonSampling()),
}


def mabwiser_run(policy, horizon: int, seed: int) -> float:
    """One run of ``horizon`` steps with mabwiser; returns the pseudo-regret."""
    rng = np.random.default_rng(seed)
    arms = list(range(K))
    mab = MAB(arms, policy, seed=seed)
    first = (rng.random(K) < MEANS).astype(float)  # play every arm once to initialise
    mab.fit(arms, first.tolist())
    regret = float((MEANS.max() - MEANS).sum())
    for _ in range(horizon - K):
        arm = mab.predict()
        mab.partial_fit([arm], [float(rng.random() < MEANS[arm])])
        regret += MEANS.max() - MEANS[arm]
    return regret


def main(runs: int = 1000, horizon: int = 5000) -> None:
    loop_runs, mab_runs, mab_horizon = 20, 5, 2000
    print(f"problem: {K} Bernoulli arms {MEANS.tolist()}")
    print(f"vectorised: {runs} runs x {horizon} steps; per-step loop: {loop_runs} runs x {horizon} steps; "
          f"mabwiser: {mab_runs} runs x {mab_horizon} steps")
    print(f"{'policy':18s} {'vectorised':>14s} {'per-step loop':>14s} {'mabwiser':>14s} "
          f"{'vec/loop':>9s} {'vec/mabwiser':>12s}   mean final regret (vec | loop | mabwiser at its horizon)")
    for name, (make, mab_policy) in POLICIES.items():
        t = time.perf_counter()
        vec = bd.simulate(make(runs, 0), MEANS, horizon, seed=1)
        vec_rate = runs * horizon / (time.perf_counter() - t)
        t = time.perf_counter()
        loop = bd.simulate_loop(lambda r: make(None, r), MEANS, loop_runs, horizon, seed=1)
        loop_rate = loop_runs * horizon / (time.perf_counter() - t)
        t = time.perf_counter()
        mab_regret = np.mean([mabwiser_run(mab_policy(s), mab_horizon, s) for s in range(mab_runs)])
        mab_rate = mab_runs * mab_horizon / (time.perf_counter() - t)
        vec_at = vec.regret[:, mab_horizon - 1].mean()
        print(f"{name:18s} {vec_rate:12,.0f}/s {loop_rate:12,.0f}/s {mab_rate:12,.0f}/s "
              f"{vec_rate / loop_rate:8.0f}x {vec_rate / mab_rate:11.0f}x   "
              f"{vec.final_regret.mean():.1f} | {loop.final_regret.mean():.1f} | "
              f"{mab_regret:.1f} (vec at t={mab_horizon}: {vec_at:.1f})")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
