"""Lesson 08: the trainer's state, its fast and slow paths, and checkpoints with offsets.

State per arm a (lesson 03's disjoint LinUCB, kept as sums so that it can be replayed):

- fast path, per event (FP):  ``A_a <- A_a + x x^T``,  ``b_a <- b_a + r x``,  ``n_a <- n_a + 1``;
- slow path, every N events or T ms (SP):  ``A_a^{-1}`` and ``theta_a = A_a^{-1} b_a`` for every arm,
  what serving reads (a batched inverse: d^3 per arm per refresh instead of d^2 per event).

``A_a`` starts at ``lambda I`` and ``b_a`` at 0, as in ``course_lib.contextual.LinUCB``.  A checkpoint
holds the state *and* the log offsets it reflects in one file, written to a temporary name and
renamed (``os.replace`` is atomic on POSIX): after a crash the trainer restores both and replays
the log from those offsets, so every event is counted exactly once.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from course_lib.streaming.events import REASONS, DeadLetter, decode_event
from course_lib.validate import integer, number

__all__ = ["TrainerState", "Trainer", "Checkpoint", "save_checkpoint", "load_checkpoint",
           "save_state_file", "load_state_file", "refresh_model"]


@dataclass
class TrainerState:
    """Per-arm sums ``A (K, d, d)``, ``b (K, d)``, counts ``n (K,)``; dead-letter counts; optional audit.

    ``seen[i]`` counts how often event ``i`` entered the sums (audit of the exactly-once test; a
    production trainer leaves it out).
    """

    A: np.ndarray
    b: np.ndarray
    n: np.ndarray
    dead: dict[str, int] = field(default_factory=lambda: {r: 0 for r in REASONS})
    seen: np.ndarray | None = None

    @classmethod
    def fresh(cls, n_arms: int, n_features: int, l2_lambda: float = 1.0, audit_size: int = 0) -> TrainerState:
        """The prior: ``A_a = lambda I``, ``b_a = 0``; ``audit_size > 0`` keeps a seen-count per event id."""
        k = integer("n_arms", n_arms, low=1)
        d = integer("n_features", n_features, low=1)
        lam = number("l2_lambda", l2_lambda, low=0, low_open=True)
        A = np.broadcast_to(np.eye(d) * lam, (k, d, d)).copy()
        seen = np.zeros(int(audit_size), dtype=np.int32) if audit_size else None
        return cls(A, np.zeros((k, d)), np.zeros(k, dtype=np.int64), seen=seen)

    @property
    def n_arms(self) -> int:
        return self.b.shape[0]

    @property
    def n_features(self) -> int:
        return self.b.shape[1]

    @property
    def n_events(self) -> int:
        return int(self.n.sum())

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"A": self.A, "b": self.b, "n": self.n,
               "dead": np.array([self.dead.get(r, 0) for r in REASONS], dtype=np.int64)}
        if self.seen is not None:
            out["seen"] = self.seen
        return out

    @classmethod
    def from_arrays(cls, z: Mapping[str, np.ndarray]) -> TrainerState:
        dead = {r: int(c) for r, c in zip(REASONS, z["dead"])}
        seen = np.array(z["seen"]) if "seen" in z else None
        return cls(np.array(z["A"]), np.array(z["b"]), np.array(z["n"]), dead, seen)


def fast_path(state: TrainerState, arms: np.ndarray, rewards: np.ndarray, X: np.ndarray,
              ids: np.ndarray | None = None) -> None:
    """Equation FP for a batch of events: ``A_a += x x^T``, ``b_a += r x``, ``n_a += 1``.

    The batch is grouped by arm (a stable sort keeps each arm's events in time order) and each
    group's terms are summed before they are added to ``A_a``: the same terms as one event at a
    time, 1.5 to 2 times faster than ``np.add.at``, equal up to floating-point rounding.
    """
    if len(arms) == 0:
        return
    order = np.argsort(arms, kind="stable")
    a, Xo = arms[order], X[order]
    starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
    state.A[a[starts]] += np.add.reduceat(Xo[:, :, None] * Xo[:, None, :], starts, axis=0)
    state.b[a[starts]] += np.add.reduceat(rewards[order, None] * Xo, starts, axis=0)
    state.n += np.bincount(arms, minlength=len(state.n))
    if state.seen is not None and ids is not None:
        np.add.at(state.seen, ids, 1)


def refresh_model(state: TrainerState) -> tuple[np.ndarray, np.ndarray]:
    """Equation SP: ``A_a^{-1}`` for every arm and ``theta_a = A_a^{-1} b_a``; shapes (K, d, d), (K, d)."""
    A_inv = np.linalg.inv(state.A)
    theta = np.einsum("kij,kj->ki", A_inv, state.b)
    return A_inv, theta


class Trainer:
    """Consumes raw messages: validates (dead letters counted), fast path, slow-path refresh.

    ``refresh_every`` events or ``refresh_ms`` milliseconds (whichever first; 0 disables one)
    trigger ``on_refresh(A_inv, theta, state)`` (the model store's publish, for example).
    """

    def __init__(self, n_arms: int, n_features: int, l2_lambda: float = 1.0, refresh_every: int = 1000,
                 refresh_ms: float = 0.0, on_refresh=None, audit_size: int = 0,
                 state: TrainerState | None = None):
        self.state = state if state is not None else TrainerState.fresh(n_arms, n_features, l2_lambda, audit_size)
        self.refresh_every = integer("refresh_every", refresh_every, low=0)
        self.refresh_ms = number("refresh_ms", refresh_ms, low=0)
        self.on_refresh = on_refresh
        self.since_refresh = 0
        self.last_refresh = time.perf_counter()
        self.n_refreshes = 0

    def handle(self, values: Iterable[bytes]) -> list[tuple[int, DeadLetter]]:
        """Validate and learn from a batch of message values, in order; return ``(index, DeadLetter)``s."""
        k, d = self.state.n_arms, self.state.n_features
        ids, arms, rewards, xs, dead = [], [], [], [], []
        for i, raw in enumerate(values):
            e = decode_event(raw, k, d)
            if type(e) is DeadLetter:
                dead.append((i, e))
                self.state.dead[e.reason] += 1
                continue
            ids.append(e[0])
            arms.append(e[1])
            rewards.append(e[2])
            xs.append(e[3])
        if ids:
            self.learn(np.array(arms), np.array(rewards), np.array(xs, dtype=float), np.array(ids))
        return dead

    def learn(self, arms: np.ndarray, rewards: np.ndarray, X: np.ndarray, ids: np.ndarray | None = None) -> None:
        """Fast path on validated arrays, then a refresh when one is due."""
        fast_path(self.state, arms, rewards, X, ids)
        self.since_refresh += len(arms)
        due = self.refresh_every and self.since_refresh >= self.refresh_every
        if self.refresh_ms and (time.perf_counter() - self.last_refresh) * 1e3 >= self.refresh_ms:
            due = True
        if due:
            self.refresh()

    def refresh(self) -> tuple[np.ndarray, np.ndarray]:
        """Slow path now (equation SP); calls ``on_refresh``; returns ``(A_inv, theta)``."""
        A_inv, theta = refresh_model(self.state)
        self.since_refresh = 0
        self.last_refresh = time.perf_counter()
        self.n_refreshes += 1
        if self.on_refresh is not None:
            self.on_refresh(A_inv, theta, self.state)
        return A_inv, theta


@dataclass
class Checkpoint:
    """A trainer state and the next log offset per partition it reflects."""

    state: TrainerState
    offsets: dict[int, int]


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to ``path.tmp``, flush to disk, rename over ``path`` (atomic), sync the folder."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(path: str | Path, state: TrainerState, offsets: Mapping[int, int]) -> None:
    """State and offsets in ONE file, replaced atomically: a reader sees the old pair or the new pair."""
    arrays = dict(state.arrays())
    arrays["offsets"] = np.array(sorted((int(p), int(o)) for p, o in offsets.items()), dtype=np.int64).reshape(-1, 2)
    _write_atomically(Path(path), _npz_bytes(arrays))


def load_checkpoint(path: str | Path) -> Checkpoint | None:
    """The last checkpoint, or ``None`` when there is none yet."""
    path = Path(path)
    if not path.exists():
        return None
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    offsets = {int(p): int(o) for p, o in arrays.pop("offsets")}
    return Checkpoint(TrainerState.from_arrays(arrays), offsets)


def save_state_file(path: str | Path, state: TrainerState) -> None:
    """The state alone (the non-atomic variants keep offsets elsewhere)."""
    _write_atomically(Path(path), _npz_bytes(state.arrays()))


def load_state_file(path: str | Path) -> TrainerState | None:
    path = Path(path)
    if not path.exists():
        return None
    with np.load(path) as z:
        return TrainerState.from_arrays({k: z[k] for k in z.files})


def offsets_json(offsets: Mapping[int, int]) -> str:
    return json.dumps({str(p): int(o) for p, o in offsets.items()})
