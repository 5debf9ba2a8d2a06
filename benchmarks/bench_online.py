"""Speed of lesson 01's online learners: events per second of progressive validation (course_lib.online).

The stream is lesson 01's hashed click stream (``streams.make_click_stream``: five non-zeros per
event among 2**16 columns, an intercept added).  Each optimiser runs one predict-then-learn pass
over it with ``progressive_validation``; its progressive log-loss is printed beside the speed to
show every learner does the same job.  When river (https://riverml.xyz) is importable, its
``linear_model.LogisticRegression`` with the equivalent optimiser runs on the first events of the
same stream, fed the same hashed features as dicts: a peer for comparison, not a course dependency
(``pip install river`` into the environment to see it).  river learns the intercept with plain SGD at
its own rate (``intercept_lr``, here set to match the SGD rows; river's default 0.01 for AdaGrad and
FTRL), so its log-loss differs a little; both are printed on the same first events.
Usage: python benchmarks/bench_online.py [n_events] [river_events]
"""

import sys
import time

import numpy as np

from course_lib import online as ol
from course_lib.sim import streams

LEARNERS = {
    "SGD(eta=0.1)": lambda: ol.SGD(0.1),
    "SGD(eta=0.5/sqrt t)": lambda: ol.SGD(0.5, schedule="invsqrt"),
    "AdaGrad(eta=0.3)": lambda: ol.AdaGrad(0.3),
    "FTRL(alpha=0.3, l1=1)": lambda: ol.FTRLProximal(alpha=0.3, beta=1.0, l1=1.0),
}


def river_learners():
    """river's equivalents of LEARNERS, or {} when river is not installed."""
    try:
        from river import linear_model, optim
    except ImportError:
        return {}
    return {
        "SGD(eta=0.1)": lambda: linear_model.LogisticRegression(optim.SGD(0.1), l2=0.0, clip_gradient=1e12,
                                                                intercept_lr=0.1),
        "SGD(eta=0.5/sqrt t)": lambda: linear_model.LogisticRegression(
            optim.SGD(optim.schedulers.InverseScaling(0.5, power=0.5)), l2=0.0, clip_gradient=1e12,
            intercept_lr=optim.schedulers.InverseScaling(0.5, power=0.5)),
        "AdaGrad(eta=0.3)": lambda: linear_model.LogisticRegression(optim.AdaGrad(0.3), l2=0.0, clip_gradient=1e12),
        "FTRL(alpha=0.3, l1=1)": lambda: linear_model.LogisticRegression(
            optim.FTRLProximal(alpha=0.3, beta=1.0, l1=1.0, l2=0.0), l2=0.0, clip_gradient=1e12),
    }


def river_pass(make, X, y) -> tuple[float, float]:
    """Progressive validation with a river model; returns (events per second, mean log-loss)."""
    rows = [dict(zip(X.indices[X.indptr[i]:X.indptr[i + 1]].tolist(), X.data[X.indptr[i]:X.indptr[i + 1]].tolist()))
            for i in range(X.shape[0])]
    model, preds = make(), np.empty(len(y))
    start = time.perf_counter()
    for t, (x, label) in enumerate(zip(rows, y.astype(bool).tolist())):
        preds[t] = model.predict_proba_one(x).get(True, 0.5)
        model.learn_one(x, label)
    rate = len(y) / (time.perf_counter() - start)
    return rate, float(ol.logloss_per_event(y, preds).mean())


def main(n_events: int = 1_000_000, river_events: int = 100_000) -> None:
    start = time.perf_counter()
    clicks = streams.make_click_stream(n_events, n_items=50_000, seed=1)
    print(f"stream: {n_events:,} events x {clicks.X.shape[1]:,} hashed columns, "
          f"{clicks.X.nnz / n_events:.0f} non-zeros per event (built in {time.perf_counter() - start:.1f} s)")
    peers = river_learners()
    river_events = min(river_events, n_events)
    print("river: " + (f"on the first {river_events:,} events" if peers else "not installed (pip install river)"))
    print(f"{'optimiser':24s} {'course_lib':>14s} {'log-loss':>9s}"
          + (f" {'river':>14s} {'ratio':>7s}   log-loss on the first {river_events:,}: course_lib | river" if peers else ""))
    for name, make in LEARNERS.items():
        model = ol.OnlineLogisticRegression(clicks.X.shape[1], make())
        t = time.perf_counter()
        preds = ol.progressive_validation(model, clicks.X, clicks.y)
        rate = n_events / (time.perf_counter() - t)
        line = f"{name:24s} {rate:12,.0f}/s {ol.logloss_per_event(clicks.y, preds).mean():9.4f}"
        if name in peers:
            r_rate, r_loss = river_pass(peers[name], clicks.X[:river_events], clicks.y[:river_events])
            ours = ol.logloss_per_event(clicks.y[:river_events], preds[:river_events]).mean()
            line += f" {r_rate:12,.0f}/s {rate / r_rate:6.1f}x   {ours:.4f} | {r_loss:.4f}"
        print(line)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
