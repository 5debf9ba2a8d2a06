"""Lesson 04 benchmarks: speed of the neural bandits, the tuning sweep and the full wheel table.

    python benchmarks/bench_neural.py            # decisions + updates per second, CPU (and CUDA if present)
    python benchmarks/bench_neural.py --tune     # the exploration-scale sweep the notebook's defaults come from
    python benchmarks/bench_neural.py --tune-class   # the same for the classification bandits (0/1 rewards)
    python benchmarks/bench_neural.py --tune-time    # the alpha sweep of section 10 (time-varying tastes, seed 100)
    python benchmarks/bench_neural.py --table    # all five deltas of Riquelme et al., longer runs, more seeds

Speed: one decision (``select``) plus one update per step on the wheel (d = 3 with the intercept,
5 arms, one hidden layer of 32 units), retraining included (every 50 events, 20 Adam steps), against
lesson 03's LinUCB.  Timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from course_lib.contextual import LinUCB
from course_lib.neural import NeuralLinear, NeuralTS, NeuralUCB, NoiseBandit, UniformPolicy
from course_lib.sim.wheel import run_bandit, wheel_stream

SCALES = {"LinUCB": ("alpha", 30.0), "noise": ("sigma", 1.0), "NeuralLinear": ("v", 10.0),
          "NeuralUCB": ("gamma", 30.0), "NeuralTS": ("nu", 1.0)}   # the notebook's, from tune()
NET = dict(hidden=(32,), train_every=50, train_steps=20, lr=0.05)


def make(name: str, seed: int, scale: float | None = None, device: str = "cpu", **net):
    arg, value = SCALES[name]
    value = value if scale is None else scale
    if name == "LinUCB":
        return LinUCB(5, 3, alpha=value)
    cls = {"noise": NoiseBandit, "NeuralLinear": NeuralLinear, "NeuralUCB": NeuralUCB, "NeuralTS": NeuralTS}[name]
    return cls(5, 3, seed=seed, device=device, **{arg: value}, **{**NET, **net})


def speed(steps: int = 1000) -> None:
    torch.set_num_threads(1)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    stream = wheel_stream(0.7, steps, seed=0)
    print(f"decisions + updates per second, {steps} wheel steps, one thread"
          + ("" if len(devices) > 1 else " (no CUDA device here)"))
    for device in devices:
        for name in SCALES:
            variants = [{}]
            if name in ("NeuralUCB", "NeuralTS") and device == "cpu":
                variants = [{"gradients": "closed_form"}, {"gradients": "torch.func"}, {"z": "diag"}]
            for extra in variants:
                if name == "LinUCB" and device != "cpu":
                    continue
                p = make(name, 0, device=device, **extra)
                t0 = time.perf_counter()
                run_bandit(p, stream)
                rate = steps / (time.perf_counter() - t0)
                label = name + ("" if not extra else " " + ",".join(f"{k}={v}" for k, v in extra.items()))
                print(f"  {device:4s} {label:36s} {rate:9,.0f} /s")


TUNE_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def tune(T: int = 400, seeds=(100, 101), delta: float = 0.7, grid=TUNE_GRID) -> None:
    """The wheel sweep behind the notebook's exploration scales: regret / uniform's per scale, mean of ``seeds``.

    The grid reaches a decade beyond the chosen values, so an optimum at the edge would show."""
    print(f"exploration-scale sweep, delta={delta}, T={T}, seeds {seeds}: regret / uniform's, mean (per seed)")
    streams = [wheel_stream(delta, T, seed=s) for s in seeds]
    uniform = [run_bandit(UniformPolicy(5, 3, seed=s), st).sum() for s, st in zip(seeds, streams)]
    for name in SCALES:
        row = []
        for scale in grid:
            r = [run_bandit(make(name, s, scale), st).sum() / u for s, st, u in zip(seeds, streams, uniform)]
            row.append(f"{scale:g}: {np.mean(r):.3f} ({', '.join(f'{v:.2f}' for v in r)})")
        print(f"  {name:13s} " + "  ".join(row))


def tune_class(T: int = 300, seed: int = 100) -> None:
    from course_lib.neural import NeuralLinear as NL, NeuralUCB as NU
    from course_lib.sim.wheel import classification_stream

    print(f"classification sweep, T={T}, seed {seed}: cumulative regret (wrong guesses)")
    for ds in ("wine", "digits"):
        st = classification_stream(ds, T, seed=seed)
        d, k = st.n_features, st.n_arms
        for scale in (0.03, 0.1, 0.3, 1.0, 3.0, 10.0):
            lin = run_bandit(LinUCB(k, d, alpha=scale), st).sum()
            nl = run_bandit(NL(k, d, v=scale, seed=seed, device="cpu", **NET), st).sum()
            nu = run_bandit(NU(k, d, gamma=scale, z="diag", seed=seed, device="cpu", **NET), st).sum()
            print(f"  {ds:7s} scale {scale:5g}: LinUCB {lin:4.0f}  NeuralLinear {nl:4.0f}  NeuralUCB(diag) {nu:4.0f}")


def table(T: int = 1000, n_seeds: int = 3, train_steps: int = 50) -> None:
    deltas = (0.5, 0.7, 0.9, 0.95, 0.99)
    print(f"wheel: cumulative regret / uniform's after {T} steps, mean (min-max) over {n_seeds} seeds, "
          f"train_steps={train_steps}")
    print("  " + " " * 13 + "".join(f"{'delta=' + str(d):>22s}" for d in deltas))
    res = {}
    for d in deltas:
        for s in range(n_seeds):
            st = wheel_stream(d, T, seed=s)
            u = run_bandit(UniformPolicy(5, 3, seed=s), st).sum()
            for name in SCALES:
                res.setdefault((name, d), []).append(run_bandit(make(name, s, train_steps=train_steps), st).sum() / u)
    for name in SCALES:
        cells = [f"{np.mean(res[(name, d)]):.3f} ({min(res[(name, d)]):.2f}-{max(res[(name, d)]):.2f})" for d in deltas]
        print(f"  {name:13s}" + "".join(f"{c:>22s}" for c in cells))


def tune_time(n_visits: int = 2000, n_log: int = 5000, seed: int = 100) -> None:
    """Section 10's sweep: cumulative regret per exploration scale on seed 100 (the notebook uses seeds 0, 1, 2)."""
    from course_lib.contextual import LinUCB
    from course_lib.neural import ColumnView, HyperBandit, SlidingWindowLinUCB
    from course_lib.sim.loops import run_loop
    from course_lib.sim.timevarying import TimeVaryingWorld
    from course_lib.sim.world import load_world, random_timestamps

    w = TimeVaryingWorld.from_world(load_world(), amplitude=2.0)
    d, K, du = w.context_dim, w.n_products, w.n_user_features
    user, tcols = list(range(du)), list(range(du, d))
    rng = np.random.default_rng(seed)
    lu, lp = rng.integers(0, w.n_users, n_log), rng.integers(0, K, n_log)
    lt = random_timestamps(n_log, rng, start="2024-01-29 00:00", end="2024-02-05 00:00")
    lc, LX = w.sample_clicks(lu, lp, lt, rng), w.context(lu, lt)
    net = dict(rank=4, hidden=32, train_every=250, train_steps=20, batch_size=128, device="cpu")
    makers = {
        "LinUCB": lambda a: ColumnView(LinUCB(K, du, alpha=a), user, d).partial_fit(lp, lc, LX),
        "LinUCB + time": lambda a: LinUCB(K, d, alpha=a).partial_fit(lp, lc, LX),
        "sliding LinUCB": lambda a: ColumnView(SlidingWindowLinUCB(K, du, window=1000, alpha=a), user, d)
        .partial_fit(lp, lc, LX),
        "HyperBandit": lambda a: HyperBandit(K, d, w.product_features, user, tcols, alpha=a, seed=seed, **net)
        .warm_start(lp, lc, LX, steps=100),
        "HyperBandit, no time": lambda a: HyperBandit(K, d, w.product_features, user, tcols, alpha=a, seed=seed,
                                                      use_time=False, **net).warm_start(lp, lc, LX, steps=100),
    }
    print(f"cumulative regret after {n_visits} visits, seed {seed}, per alpha:")
    for name, make_one in makers.items():
        cells = []
        for a in (0.03, 0.1, 0.3, 1.0, 3.0):
            r = run_loop(w, make_one(a), n_visits, seed=seed, batch=10, chronological=True)
            cells.append(f"{a}: {(r.p_best - r.p_slate).sum():6.1f}")
        print(f"  {name:22s}" + "   ".join(cells))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tune", action="store_true")
    ap.add_argument("--tune-class", action="store_true")
    ap.add_argument("--tune-time", action="store_true")
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--steps", type=int, default=1000)
    args = ap.parse_args()
    if args.tune:
        tune()
    elif args.tune_class:
        tune_class()
    elif args.tune_time:
        tune_time()
    elif args.table:
        table(T=args.steps)
    else:
        speed(args.steps)
