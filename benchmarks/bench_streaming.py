"""Speed of lesson 08's streaming components (course_lib.streaming), on real Kafka and Redis.

Prints:
- the trainer's fast path (equation FP) in events/s on decoded arrays, d = 13 and 200 arms, one
  core, beside lesson 03's LinUCB.partial_fit (Sherman-Morrison per event) on the same events;
- the full trainer step (JSON parsing and validation, then the fast path);
- serving p50/p99 from Redis (pointer read plus scoring; a fresh model fetched on every request
  too), for a packed model of 200 arms and d = 13;
- end-to-end events/s through librdkafka's mock cluster: produce, then consume and train;
- how the fast path and serving grow with the number of arms and with the context width.
Usage: python benchmarks/bench_streaming.py [seconds per measurement, default 1.0]
"""

import sys
import tempfile
import time

import numpy as np

from course_lib.contextual import LinUCB
from course_lib.streaming import trainer_process
from course_lib.streaming.events import encode_events, make_events
from course_lib.streaming.kafka_log import EventLog
from course_lib.streaming.model_store import ModelStore, start_redis
from course_lib.streaming.serving import Scorer
from course_lib.streaming.trainer import Trainer, TrainerState, fast_path, refresh_model


def rate(fn, n_per_call: int, budget: float) -> float:
    """Calls of ``fn`` for about ``budget`` seconds; items per second."""
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < budget or calls == 0:
        fn()
        calls += 1
    return calls * n_per_call / (time.perf_counter() - start)


def fast_path_rate(K: int, d: int, budget: float, batch: int = 1000) -> float:
    ev = make_events(batch, K, d, seed=1)
    s = TrainerState.fresh(K, d)
    return rate(lambda: fast_path(s, ev["arm"], ev["r"], ev["x"]), batch, budget)


def serving_latency(store: ModelStore, K: int, d: int, n: int, fresh_model: bool) -> np.ndarray:
    s = TrainerState.fresh(K, d)
    ev = make_events(5000, K, d, seed=2)
    fast_path(s, ev["arm"], ev["r"], ev["x"])
    A_inv, theta = refresh_model(s)
    store.publish(A_inv, theta, 1.0)
    scorer = Scorer(store)
    X = make_events(n, K, d, seed=3)["x"]
    out = np.empty(n)
    for i in range(n):
        if fresh_model:
            scorer._model = None  # forget the cache: fetch and unpack the blob as well
        t0 = time.perf_counter()
        scorer.recommend(X[i], k=10)
        out[i] = time.perf_counter() - t0
    return out


def main(budget: float = 1.0) -> None:
    K, d = 200, 13
    print(f"Trainer fast path (FP), {K} arms, d = {d}, batches of 1,000 decoded events, one core:")
    fp = fast_path_rate(K, d, budget)
    ev = make_events(2000, K, d, seed=1)
    lin = rate(lambda: LinUCB(K, d).partial_fit(ev["arm"], ev["r"], ev["x"]), 2000, budget)
    print(f"  course_lib.streaming fast_path           {fp:12,.0f} events/s   (goal: 100,000)")
    print(f"  lesson 03 LinUCB.partial_fit (SM)       {lin:12,.0f} events/s   (keeps A^-1 instead of A)")
    values = encode_events(ev["id"], ev["ts"], ev["user"], ev["arm"], ev["p"], ev["r"], ev["x"])
    tr = Trainer(K, d, refresh_every=0)
    full = rate(lambda: tr.handle(values), len(values), budget)
    print(f"  full trainer step (JSON + checks + FP)   {full:12,.0f} events/s")
    s = TrainerState.fresh(K, d)
    sp = rate(lambda: refresh_model(s), 1, budget)
    print(f"  slow path (SP): {1e3 / sp:.2f} ms per refresh of all {K} arms")

    with start_redis() as server:
        store = ModelStore(server.client(), prefix="bench")
        print(f"\nServing from Redis ({'embedded redis-server, unix socket' if server.embedded else server.url}), "
              f"top 10 of {K} arms, d = {d}:")
        for fresh in (False, True):
            lat = serving_latency(store, K, d, 2000, fresh) * 1e3
            label = "model fetched and unpacked" if fresh else "model cached by version   "
            print(f"  {label}  p50 {np.percentile(lat, 50):.3f} ms   p99 {np.percentile(lat, 99):.3f} ms"
                  "   (goal: p99 < 1 ms)")

        print("\nScaling (fast path events/s; serving p99 with the cached model):")
        print(f"  {'arms':>6s} {'d':>4s} {'fast path':>12s} {'serving p99 ms':>15s}")
        for K2, d2 in [(50, 13), (200, 13), (1000, 13), (200, 5), (200, 30), (200, 60)]:
            fp2 = fast_path_rate(K2, d2, budget / 2)
            p99 = np.percentile(serving_latency(ModelStore(server.client(), prefix=f"b{K2}-{d2}"), K2, d2, 500,
                                                False), 99) * 1e3
            print(f"  {K2:6d} {d2:4d} {fp2:12,.0f} {p99:15.3f}")

    with EventLog.start() as log:
        n = 50_000
        ev = make_events(n, K, d, seed=4)
        values = encode_events(ev["id"], ev["ts"], ev["user"], ev["arm"], ev["p"], ev["r"], ev["x"])
        t0 = time.perf_counter()
        log.produce("bench", values, keys=ev["user"])
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            state = trainer_process.run(log.bootstrap, "bench", tmp, K, d, checkpoint_every=10_000)
        t2 = time.perf_counter()
        assert state.n_events == n
        print(f"\nEnd to end through {'the mock cluster' if log.is_mock else log.bootstrap} ({n:,} events, d = {d}):")
        print(f"  produce {n / (t1 - t0):10,.0f} events/s;  consume + validate + train + checkpoints "
              f"{n / (t2 - t1):10,.0f} events/s")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
