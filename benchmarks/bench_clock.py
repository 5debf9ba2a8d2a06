"""Lesson 05 benchmark: Interest Clock updates and reads per second, and bytes per user, at scale.

A stream of ``--users`` users (default 100,000) with ``--rate`` events per user per day over ``--days``
days is fed to the clock in time order, one batch per ``--batch-minutes`` of stream time, with a
30-day window (events leave the window as time passes).  Then random (user, hour) reads are timed in
batches.  Beside it: the seed's bucketed clock and a non-temporal profile, and a plain per-event
Python loop (dict of per-user clocks) on a sample of the stream, for scale.  No peer library
implements the Interest Clock.  Usage: python benchmarks/bench_clock.py [--users N] [--days D]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from course_lib import clock as ck


def make_stream(n_users: int, days: int, rate: float, n_categories: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = rng.poisson(n_users * days * rate)
    t = np.sort(rng.uniform(0, days * 24, n))
    users = rng.integers(0, n_users, n)
    cats = rng.integers(0, n_categories, n)
    return users, np.floor(t % 24).astype(np.int64), cats, t


def feed(model, users, hours, cats, times, batch_hours):
    batch = np.floor(times / batch_hours).astype(np.int64)
    bounds = np.flatnonzero(np.r_[True, batch[1:] != batch[:-1], True])
    start = time.perf_counter()
    for a, b in zip(bounds[:-1], bounds[1:]):
        model.update(users[a:b], hours[a:b], cats[a:b], times[a:b])
    return time.perf_counter() - start, len(bounds) - 1


def loop_clock(users, hours, cats, n_categories):
    """A per-event Python loop: a dict of per-user 24 x C lists (no window), for comparison."""
    clocks: dict[int, list[list[float]]] = {}
    start = time.perf_counter()
    for u, h, c in zip(users.tolist(), hours.tolist(), cats.tolist()):
        clock = clocks.get(u)
        if clock is None:
            clock = clocks[u] = [[0.0] * n_categories for _ in range(24)]
        clock[h][c] += 1.0
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=35)
    ap.add_argument("--rate", type=float, default=1.5, help="events per user per day")
    ap.add_argument("--categories", type=int, default=8)
    ap.add_argument("--window", type=float, default=30.0, help="clock window in days")
    ap.add_argument("--batch-minutes", type=float, default=10.0)
    ap.add_argument("--read-batch", type=int, default=10_000)
    args = ap.parse_args()
    C = args.categories
    users, hours, cats, times = make_stream(args.users, args.days, args.rate, C)
    n = len(users)
    print(f"stream: {args.users:,} users, {args.days} days, {n:,} events, {C} categories, "
          f"batches of {args.batch_minutes:g} min of stream time")

    clock = ck.InterestClock(args.users, C, window_days=args.window)
    secs, n_batches = feed(clock, users, hours, cats, times, args.batch_minutes / 60)
    print(f"Interest Clock updates : {n / secs:12,.0f} events/s  ({n_batches:,} batches of "
          f"{n / n_batches:,.0f} events, {args.window:g}-day window with expiry)")

    rng = np.random.default_rng(1)
    q_users = rng.integers(0, args.users, 200 * args.read_batch)
    q_hours = rng.integers(0, 24, len(q_users))
    start = time.perf_counter()
    for a in range(0, len(q_users), args.read_batch):
        clock.read(q_users[a:a + args.read_batch], q_hours[a:a + args.read_batch])
    secs = time.perf_counter() - start
    print(f"Interest Clock reads   : {len(q_users) / secs:12,.0f} reads/s   (batches of {args.read_batch:,} "
          f"(user, hour) pairs, each a {C}-vector smoothed over 24 hours)")
    live = clock.tail - clock.head
    print(f"Interest Clock memory  : {clock.memory_bytes() / args.users:12,.0f} bytes/user "
          f"({clock.counts.nbytes / args.users:,.0f} for the 24 x {C} float32 clock + "
          f"{12 * live / args.users:,.0f} for the {live / args.users:.1f} events per user inside the window)")

    bucket = ck.BucketClock(args.users, C, alpha=0.1, decay=0.98)
    secs, _ = feed(bucket, users, hours, cats, times, args.batch_minutes / 60)
    print(f"bucketed clock updates : {n / secs:12,.0f} events/s  ({bucket.memory_bytes() / args.users:,.0f} bytes/user)")
    profile = ck.UserProfile(args.users, C, half_life=72.0)
    secs, _ = feed(profile, users, hours, cats, times, args.batch_minutes / 60)
    print(f"decayed profile updates: {n / secs:12,.0f} events/s  ({profile.memory_bytes() / args.users:,.0f} bytes/user)")

    m = min(n, 1_000_000)
    secs = loop_clock(users[:m], hours[:m], cats[:m], C)
    print(f"per-event Python loop  : {m / secs:12,.0f} events/s  (dict of lists, no window, first {m:,} events)")


if __name__ == "__main__":
    main()
