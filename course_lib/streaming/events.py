"""Lesson 08: the event format of the log, and its validation at the trainer's door.

One event is one impression with its reward, a flat JSON object (easy to read from any stream
processor, Flink included)::

    {"id": 17, "ts": 1700000000.25, "user": 42, "arm": 3, "p": 0.95, "r": 1, "x": [0.1, ...]}

``id`` is unique per event (de-duplication and the exactly-once audit key on it), ``ts`` is in
seconds, ``p`` the propensity serving logged for ``arm``, ``r`` the reward in {0, 1}, ``x`` the
context of width d.  ``decode_event`` returns the parsed event or a ``DeadLetter`` with the reason:
a bad event is never silently dropped and never crashes the trainer.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from course_lib.validate import integer

__all__ = ["EVENT_FIELDS", "DeadLetter", "decode_event", "encode_event", "encode_events", "make_events",
           "REASONS"]

EVENT_FIELDS = ("id", "ts", "user", "arm", "p", "r", "x")
#: Every reason a message can be rejected for (the dead-letter topic's counts are keyed by these).
REASONS = ("malformed", "missing_field", "bad_id", "unknown_arm", "bad_reward", "bad_propensity",
           "wrong_width", "non_finite_context")


@dataclass(frozen=True)
class DeadLetter:
    """A rejected message: why (one of ``REASONS``), a readable detail, the raw bytes."""

    reason: str
    detail: str
    raw: bytes

    def to_json(self, partition: int = -1, offset: int = -1) -> bytes:
        """The dead-letter topic's message: reason, detail, where it came from and the raw text."""
        return json.dumps({"reason": self.reason, "detail": self.detail, "partition": partition,
                           "offset": offset, "raw": self.raw.decode("utf-8", errors="replace")}).encode()


def encode_event(event_id: int, ts: float, user: int, arm: int, propensity: float, reward: float,
                 context) -> bytes:
    """One event as JSON bytes (the message value; the key is the user id)."""
    return json.dumps({"id": int(event_id), "ts": float(ts), "user": int(user), "arm": int(arm),
                       "p": float(propensity), "r": float(reward),
                       "x": [float(v) for v in context]}, separators=(",", ":")).encode()


def encode_events(ids, ts, users, arms, propensities, rewards, contexts) -> list[bytes]:
    """Many events at once (arrays of equal length, ``contexts`` of shape (n, d))."""
    X = np.asarray(contexts, dtype=float)
    return [encode_event(i, t, u, a, p, r, x) for i, t, u, a, p, r, x in
            zip(ids, ts, users, arms, propensities, rewards, X.tolist())]


def decode_event(raw: bytes, n_arms: int, n_features: int):
    """Parse and validate one message: ``(id, arm, reward, context list)`` or a ``DeadLetter``.

    Checks, in order: JSON object, all fields present, integer id >= 0, arm in [0, n_arms),
    reward in {0, 1}, propensity in (0, 1], context of width ``n_features``, all finite.
    """
    try:
        e = json.loads(raw)
    except (ValueError, UnicodeDecodeError, TypeError) as err:
        return DeadLetter("malformed", f"not JSON: {err}", bytes(raw or b""))
    if not isinstance(e, dict):
        return DeadLetter("malformed", f"not a JSON object but {type(e).__name__}", raw)
    try:
        eid, arm, r, p, x = e["id"], e["arm"], e["r"], e["p"], e["x"]
        e["ts"], e["user"]
    except KeyError as err:
        return DeadLetter("missing_field", f"field {err} is missing", raw)
    if type(eid) is not int or eid < 0:
        return DeadLetter("bad_id", f"id must be an integer >= 0, got {eid!r}", raw)
    if type(arm) is not int or not 0 <= arm < n_arms:
        return DeadLetter("unknown_arm", f"arm must be an integer in [0, {n_arms}), got {arm!r}", raw)
    if r not in (0, 1) or type(r) is bool:
        return DeadLetter("bad_reward", f"reward must be 0 or 1, got {r!r}", raw)
    if type(p) not in (int, float) or not 0 < p <= 1:
        return DeadLetter("bad_propensity", f"propensity must be in (0, 1], got {p!r}", raw)
    if not isinstance(x, list) or len(x) != n_features:
        got = len(x) if isinstance(x, list) else type(x).__name__
        return DeadLetter("wrong_width", f"context must be a list of {n_features} numbers, got {got}", raw)
    try:
        if not all(math.isfinite(v) for v in x):
            return DeadLetter("non_finite_context", "context contains NaN or infinity", raw)
    except TypeError:
        return DeadLetter("non_finite_context", "context contains a non-number", raw)
    return eid, arm, float(r), x


def make_events(n_events: int, n_arms: int, n_features: int, seed: int = 0):
    """A synthetic stream for tests and benchmarks: ids 0..n-1, uniform arms, linear-logistic clicks.

    Returns a dict of arrays ``id, ts, user, arm, p, r, x`` (``x`` of shape (n, d), first column 1,
    rounded to 4 decimals: short messages, as feature pipelines ship them).
    """
    n = integer("n_events", n_events, low=1)
    k = integer("n_arms", n_arms, low=1)
    d = integer("n_features", n_features, low=1)
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, d)) / np.sqrt(d), 4)
    X[:, 0] = 1.0
    theta = rng.normal(size=(k, d))
    arms = rng.integers(0, k, size=n)
    logits = np.einsum("nd,nd->n", X, theta[arms]) - 1.5
    r = (rng.random(n) < 1 / (1 + np.exp(-logits))).astype(float)
    return {"id": np.arange(n), "ts": 1.7e9 + np.arange(n) * 0.01, "user": rng.integers(0, 1000, size=n),
            "arm": arms, "p": np.full(n, 1.0 / k), "r": r, "x": X}
