"""Lesson 08: the closed loop on real parts, and the freshness-cost simulation of the refresh interval.

``run_closed_loop``: visits of lesson 03's world -> stateless serving (model from Redis) -> a click
drawn from the world's oracle -> the impression logged to Kafka -> the trainer consumes it (fast
path) and republishes the model every ``refresh_every`` events (slow path).  All parts run in this
process, talking to the real Kafka client and the real Redis; each stage's latency is sampled.

``refresh_tradeoff``: model staleness (events the served model has not seen) against the share of a
core spent refreshing, as a function of the refresh interval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from confluent_kafka import TopicPartition

from course_lib.sim.world import random_timestamps
from course_lib.streaming.events import encode_event
from course_lib.streaming.kafka_log import EventLog
from course_lib.streaming.model_store import ModelStore
from course_lib.streaming.serving import Scorer
from course_lib.streaming.trainer import Trainer
from course_lib.validate import integer, number

__all__ = ["LoopResult", "run_closed_loop", "publish_latency", "refresh_tradeoff"]


@dataclass
class LoopResult:
    """What the loop served and learnt, with latency samples in seconds per stage."""

    users: np.ndarray
    timestamps: np.ndarray
    contexts: np.ndarray
    arms: np.ndarray
    clicks: np.ndarray
    propensities: np.ndarray
    versions: np.ndarray
    trainer: Trainer
    latency: dict[str, np.ndarray] = field(default_factory=dict)


def publish_latency(log: EventLog, topic: str, n: int = 300, payload: bytes | None = None) -> np.ndarray:
    """Seconds from ``produce`` to the broker's acknowledgement, one event at a time (``acks=all``)."""
    p = log.producer(**{"linger.ms": 0, "acks": "all"})
    payload = payload or encode_event(0, 0.0, 0, 0, 1.0, 0, [0.0] * 13)
    out = np.empty(integer("n", n, low=1))
    for i in range(n):
        t0 = time.perf_counter()
        p.produce(topic, payload, key=b"0")
        p.flush(10)
        out[i] = time.perf_counter() - t0
    return out


def run_closed_loop(world, log: EventLog, store: ModelStore, topic: str, n_visits: int, alpha: float = 1.0,
                    epsilon: float = 0.05, refresh_every: int = 500, batch: int = 100, seed: int = 0) -> LoopResult:
    """Serve ``n_visits`` visits through Kafka and Redis; the trainer consumes every ``batch`` visits."""
    n = integer("n_visits", n_visits, low=1)
    batch = integer("batch", batch, low=1)
    alpha = number("alpha", alpha, low=0)
    rng = np.random.default_rng(seed)
    K, d = world.n_products, world.context_dim
    users = rng.integers(0, world.n_users, size=n)
    ts = random_timestamps(n, rng)
    X = np.round(world.context(users, ts), 4)
    P = world.click_probability(users[:, None], np.arange(K)[None], np.asarray(ts)[:, None])
    u01 = rng.random(n)
    lat = {k: [] for k in ("serve", "produce", "consume", "train", "publish")}

    def publish(A_inv, theta, state):
        t0 = time.perf_counter()
        store.publish(A_inv, theta, alpha, state.n_events)
        lat["publish"].append(time.perf_counter() - t0)

    trainer = Trainer(K, d, refresh_every=refresh_every, on_refresh=publish)
    trainer.refresh()  # version 1: the prior, so that serving has a model from the first visit
    scorer = Scorer(store, epsilon=epsilon)
    producer = log.producer(**{"linger.ms": 0})
    parts = log.ensure_topic(topic)
    consumer = log.consumer(f"loop-{topic}", **{"fetch.wait.max.ms": 5})  # latency over batching
    consumer.assign([TopicPartition(topic, p, 0) for p in range(parts)])
    arms = np.empty(n, dtype=int)
    props = np.empty(n)
    versions = np.empty(n, dtype=int)
    clicks = np.empty(n, dtype=int)
    consumed = 0
    try:
        for i in range(n):
            t0 = time.perf_counter()
            rec = scorer.recommend(X[i], k=1, rng=rng)
            t1 = time.perf_counter()
            a = int(rec.arms[0])
            arms[i], props[i], versions[i] = a, rec.propensity, rec.version
            clicks[i] = int(u01[i] < P[i, a])
            producer.produce(topic, encode_event(i, float(i), users[i], a, rec.propensity, clicks[i], X[i]),
                             key=str(users[i]).encode())
            t2 = time.perf_counter()
            lat["serve"].append(t1 - t0)
            lat["produce"].append(t2 - t1)
            if (i + 1) % batch == 0 or i == n - 1:
                producer.flush(10)
                values = []
                t0 = time.perf_counter()
                while consumed + len(values) < i + 1:
                    for m in consumer.consume(i + 1 - consumed - len(values), timeout=1.0):
                        if m.error() is not None:
                            raise RuntimeError(f"Kafka error: {m.error()}")
                        values.append(m.value())
                t1 = time.perf_counter()
                trainer.handle(values)  # one batch: refreshes fall on the same events in every run
                t2 = time.perf_counter()
                lat["consume"].append((t1 - t0) / len(values))
                lat["train"].append((t2 - t1) / len(values))
                consumed += len(values)
    finally:
        consumer.close()
    return LoopResult(users, np.asarray(ts), X, arms, clicks, props, versions, trainer,
                      {k: np.array(v) for k, v in lat.items()})


def refresh_tradeoff(refresh_every, events_per_s: float, refresh_seconds: float):
    """Freshness against cost of refreshing every N events (N may be an array).

    Staleness: on average the served model misses ``(N - 1) / 2`` of the events already in the log
    (uniform position within a refresh interval).  Cost: refreshes per second ``R / N`` times the
    measured wall-clock seconds per refresh (slow path plus model publish): a share of the trainer's time.
    """
    N = np.asarray(refresh_every, dtype=float)
    if np.any(N < 1):
        raise ValueError(f"refresh_every must be >= 1, got {refresh_every}")
    rate = number("events_per_s", events_per_s, low=0, low_open=True)
    cost = number("refresh_seconds", refresh_seconds, low=0)
    return (N - 1) / 2, rate / N * cost
