"""Lesson 08: more consumers: partitions split between trainer processes, sums merged.

Kafka orders events within a partition only, and a consumer group gives each partition to one
consumer.  Each trainer process keeps the sums of its partitions; because ``A_a`` and ``b_a`` are
sums, the global model is their sum (minus the duplicated prior):
``A_a = sum_p A_a^(p) - (P - 1) lambda I``, ``b_a = sum_p b_a^(p)`` (equation MERGE).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from course_lib.streaming.kafka_log import EventLog
from course_lib.streaming.trainer import TrainerState, load_checkpoint
from course_lib.validate import integer

__all__ = ["merge_states", "parallel_trainers"]


def merge_states(states: list[TrainerState], l2_lambda: float = 1.0) -> TrainerState:
    """Equation MERGE: one state from the states of disjoint partitions."""
    d = states[0].n_features
    A = sum(s.A for s in states) - (len(states) - 1) * l2_lambda * np.eye(d)
    out = TrainerState(A, sum(s.b for s in states), sum(s.n for s in states))
    for s in states:
        for r, c in s.dead.items():
            out.dead[r] += c
    return out


def parallel_trainers(log: EventLog, topic: str, n_arms: int, n_features: int, n_processes: int):
    """Run ``n_processes`` trainer processes over disjoint partitions of ``topic`` at once.

    Returns ``(merged state, events per second)``: all events over the slowest process's time
    from its "ready" (after imports and restore) to the end of its partitions.
    """
    n_proc = integer("n_processes", n_processes, low=1)
    parts = sorted(log.end_offsets(topic))
    if n_proc > len(parts):
        raise ValueError(f"n_processes must be <= the {len(parts)} partitions of {topic!r}, got {n_proc}")
    groups = [parts[i::n_proc] for i in range(n_proc)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]) + os.pathsep +
           os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory(prefix="course-scale-") as tmp:
        procs = []
        try:
            for i, g in enumerate(groups):
                cmd = [sys.executable, "-m", "course_lib.streaming.trainer_process", "--bootstrap", log.bootstrap,
                       "--topic", topic, "--dir", f"{tmp}/{i}", "--arms", str(n_arms), "--features",
                       str(n_features), "--partitions", ",".join(map(str, g)), "--group", f"scale-{i}",
                       "--checkpoint-every", "1000000000"]
                procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env))
            seconds, events = [], 0
            for p in procs:
                out, err = p.communicate(timeout=300)
                if p.returncode != 0:
                    raise RuntimeError(f"trainer exited with {p.returncode}: {err.decode()[-2000:]}")
                done = [ln for ln in out.decode().splitlines() if ln.startswith("done")][0].split()
                events += int(done[1])
                seconds.append(float(done[2]))
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        states = [load_checkpoint(Path(tmp) / str(i) / "checkpoint.npz").state for i in range(n_proc)]
    return merge_states(states), events / max(seconds)
