"""Lesson 08: a per-user feature store in Redis: views and clicks in a sliding time window.

The stream writes, serving reads.  Each user has two sorted sets, ``<prefix>:<user>:views`` and
``<prefix>:<user>:clicks``, whose members are event ids and whose scores are event times.  A write
adds the event (ZADD: adding the same id twice changes nothing, so a replay after a crash does not
double-count) and trims entries older than the window (ZREMRANGEBYSCORE); keys expire when a user
is idle for two windows.  A read counts the entries in ``(now - window, now]`` (ZCOUNT), two
commands in one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_lib.validate import number

__all__ = ["FeatureStore"]


class FeatureStore:
    """Recent views and clicks per user, kept in Redis by the stream and read at serving time."""

    def __init__(self, client, window_s: float = 3600.0, prefix: str = "fs"):
        self.r = client
        self.window = number("window_s", window_s, low=0, low_open=True)
        self.prefix = prefix

    def _keys(self, user) -> tuple[str, str]:
        return f"{self.prefix}:{user}:views", f"{self.prefix}:{user}:clicks"

    def update(self, ids: Sequence[int], users: Sequence[int], ts: Sequence[float], rewards: Sequence[float]) -> None:
        """Add a batch of events (impressions with their click) in one pipelined round trip."""
        ttl = int(np.ceil(2 * self.window))
        with self.r.pipeline(transaction=False) as p:
            for i, u, t, r in zip(ids, users, ts, rewards):
                keys = self._keys(int(u))[: 2 if r == 1 else 1]
                for key in keys:
                    p.zadd(key, {str(int(i)): float(t)})
                    p.zremrangebyscore(key, "-inf", f"({float(t) - self.window}")
                    p.expire(key, ttl)
            p.execute()

    def read(self, user: int, now: float) -> tuple[int, int]:
        """``(views, clicks)`` of ``user`` in the window ``(now - window_s, now]``."""
        views, clicks = self._keys(int(user))
        lo = f"({float(now) - self.window}"
        with self.r.pipeline(transaction=False) as p:
            p.zcount(views, lo, float(now))
            p.zcount(clicks, lo, float(now))
            v, c = p.execute()
        return int(v), int(c)
