"""Throughput of course_lib.ope's estimators on 10 million logged events (lesson 06).

Prints events per second for each estimator, beside a bare NumPy one-liner of the same
formula (the cost of course_lib's validation and standard errors) and a pure-Python loop
(timed on 200,000 events).  No OPE library is a dependency of the course (Open Bandit
Pipeline is not installed), so NumPy is the peer.  Usage: python benchmarks/bench_ope.py [n_events]

It then times the replay of a LEARNING LinUCB (``ope.replay_learning``) on a uniform log of lesson 03's
world against Li et al.'s per-event loop and the generic chunked path, all three keeping the same events.
"""

import sys
import time

import numpy as np

from course_lib import ope


def best_of(f, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main(n: int = 10_000_000) -> None:
    rng = np.random.default_rng(0)
    k = 50
    r = (rng.random(n) < 0.1).astype(float)
    a = rng.integers(0, k, n)
    p = np.full(n, 1 / k)
    pi = rng.dirichlet(np.ones(k), size=1)[0][a]
    b = rng.integers(0, k, n)
    ql = rng.uniform(0, 0.3, n)
    qt = rng.uniform(0, 0.3, n)
    cases = {
        "IPS": (lambda: ope.ips(r, p, pi), lambda: np.mean(pi / p * r)),
        "clipped IPS": (lambda: ope.clipped_ips(r, p, pi, 10.0), lambda: np.mean(np.minimum(pi / p, 10.0) * r)),
        "SNIPS": (lambda: ope.snips(r, p, pi), lambda: (pi / p * r).sum() / (pi / p).sum()),
        "DM": (lambda: ope.direct_method(qt), lambda: qt.mean()),
        "DR": (lambda: ope.doubly_robust(r, p, pi, ql, qt), lambda: np.mean(qt + pi / p * (r - ql))),
        "replay": (lambda: ope.replay(r, a, b), lambda: r[a == b].mean()),
        "ESS": (lambda: ope.effective_sample_size(pi / p), lambda: (pi / p).sum() ** 2 / ((pi / p) ** 2).sum()),
    }
    m = 200_000
    rl, pl, pil = r[:m].tolist(), p[:m].tolist(), pi[:m].tolist()

    def python_ips():
        s = 0.0
        for ri, pi_, pii in zip(rl, pl, pil):
            s += pii / pi_ * ri
        return s / m

    t_py = best_of(python_ips, 1)
    print(f"{n:,} logged events, one thread (OMP_NUM_THREADS={__import__('os').environ.get('OMP_NUM_THREADS', 'unset')})")
    print(f"{'estimator':<12} {'course_lib':>14} {'bare NumPy':>14}   (million events per second; course_lib adds SE and validation)")
    for name, (ours, bare) in cases.items():
        t1, t2 = best_of(ours), best_of(bare)
        print(f"{name:<12} {n / t1 / 1e6:>14.1f} {n / t2 / 1e6:>14.1f}")
    print(f"pure-Python IPS loop: {m / t_py / 1e6:.1f} million events per second")


def learning_replay(n: int = 20_000) -> None:
    from course_lib.contextual import LinUCB
    from course_lib.sim.world import context_table, load_world

    world = load_world()
    table = context_table(world)
    uniform = np.full(table.click_probs.shape, 1 / world.n_products)
    L = ope.simulate_logs(table.click_probs, table.probs, uniform, n, 1, np.random.default_rng(0))
    X, a, r = table.features[L.contexts[0]], L.actions[0], L.rewards[0]

    def fresh(cls=LinUCB):
        return cls(world.n_products, world.context_dim, alpha=1.0)

    class Generic(LinUCB):          # same model, but takes the generic path (predict_expectations per chunk)
        pass

    def per_event():
        bandit, kept = fresh(), []
        for i in range(n):
            if bandit.select(X[i]) == a[i]:
                bandit.update(int(a[i]), float(r[i]), X[i])
                kept.append(i)
        return kept

    timings = {"replay_learning (LinUCB path)": lambda: ope.replay_learning(fresh(), X, a, r),
               "replay_learning (generic chunks)": lambda: ope.replay_learning(fresh(Generic), X, a, r),
               "per-event loop (select/update)": per_event}
    kept = len(ope.replay_learning(fresh(), X, a, r).kept)
    print(f"\nReplay of a learning LinUCB on a uniform log of {n:,} events ({world.n_products} products, "
          f"{kept} kept), one thread:")
    for name, f in timings.items():
        t = best_of(f, 1)
        print(f"{name:<34} {t:7.2f} s   ({n / t / 1e3:8.0f} thousand log events per second)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
    learning_replay()
