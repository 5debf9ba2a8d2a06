"""Lesson 08: the exactly-once test: a trainer process killed with SIGKILL at random points.

The log holds ``n_events`` events with ids 0..n-1.  A trainer process (``trainer_process``) starts,
restores its checkpoint, says "ready" once it receives events, and is killed after a random delay; again and again, until
``n_kills`` kills, then it runs to the end of the log (a trainer that reaches the end first ends the test
with fewer kills, which the report counts: restarting it would find nothing to do).  Its final state is compared with an
uninterrupted run over the same events: ``A`` and ``b`` to 1e-9, the per-arm counts exactly, and
the audit of how often each event id entered the sums (0: lost, 2 or more: counted twice).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_lib.streaming.events import encode_events, make_events
from course_lib.streaming.kafka_log import EventLog
from course_lib.streaming.trainer import TrainerState, fast_path, load_checkpoint, load_state_file
from course_lib.validate import integer, number

__all__ = ["CrashReport", "run_crash_test", "uninterrupted_state"]


@dataclass
class CrashReport:
    """Outcome of one crash test."""

    mode: str
    n_events: int
    kills: int
    restarts: int
    lost: int            # events whose id never entered the final sums
    duplicated: int      # extra times events entered the sums (an event counted twice adds 1)
    counts_equal: bool   # per-arm counts equal the uninterrupted run's
    max_diff_A: float    # max |A - A_ref|
    max_diff_b: float
    seconds: float
    redelivered: int = 0  # Redis Streams: redelivered entries the trainer recognised and skipped

    @property
    def exact(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.counts_equal and \
            self.max_diff_A <= 1e-9 and self.max_diff_b <= 1e-9


def uninterrupted_state(events: dict, n_arms: int, n_features: int) -> TrainerState:
    """The reference: every event once, in id order, in this process."""
    ref = TrainerState.fresh(n_arms, n_features, audit_size=len(events["id"]))
    fast_path(ref, events["arm"], events["r"], events["x"], events["id"])
    return ref


def _wait_ready(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait for the trainer's "ready" line; False when it exited or timed out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], 0.1)
        if r:
            line = proc.stdout.readline()
            if line.strip() == b"ready":
                return True
            if not line:
                return False
        elif proc.poll() is not None:
            return False
    return False


def run_crash_test(n_events: int = 100_000, n_kills: int = 20, mode: str = "atomic", n_arms: int = 20,
                   n_features: int = 6, checkpoint_every: int = 1000, gap_ms: float = 20.0,
                   max_delay_s: float = 0.5, seed: int = 0, log: EventLog | None = None,
                   workdir: str | Path | None = None) -> CrashReport:
    """Kill a trainer process ``n_kills`` times (random delay in [0, max_delay_s] after it is ready)."""
    n = integer("n_events", n_events, low=1)
    kills_wanted = integer("n_kills", n_kills, low=0)
    number("max_delay_s", max_delay_s, low=0, low_open=True)
    rng = np.random.default_rng(seed)
    events = make_events(n, n_arms, n_features, seed=seed)
    own_log = log is None
    log = log or EventLog.start()
    topic = f"crash-{mode}-{uuid.uuid4().hex[:8]}"
    tmp = tempfile.TemporaryDirectory(prefix="course-crash-") if workdir is None else None
    ckpt = Path(workdir or tmp.name)
    t0 = time.perf_counter()
    try:
        log.produce(topic, encode_events(events["id"], events["ts"], events["user"], events["arm"], events["p"],
                                         events["r"], events["x"]), keys=events["user"])
        cmd = [sys.executable, "-m", "course_lib.streaming.trainer_process", "--bootstrap", log.bootstrap,
               "--topic", topic, "--dir", str(ckpt), "--arms", str(n_arms), "--features", str(n_features),
               "--mode", mode, "--checkpoint-every", str(checkpoint_every), "--gap-ms", str(gap_ms),
               "--audit-size", str(n), "--group", f"g-{topic}"]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]) + os.pathsep +
               os.environ.get("PYTHONPATH", "")}
        kills = restarts = 0
        while True:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            restarts += 1
            try:
                if kills < kills_wanted and _wait_ready(proc, 60):
                    time.sleep(rng.uniform(0, max_delay_s))
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGKILL)
                        proc.wait()
                        kills += 1
                        continue
                out, err = proc.communicate(timeout=300)
                if proc.returncode != 0:
                    raise RuntimeError(f"trainer exited with {proc.returncode}: {err.decode()[-2000:]}")
                break  # a clean exit means the trainer reached the end of the log: a restart would find nothing
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
                proc.stderr.close()
        if mode == "atomic":
            state = load_checkpoint(ckpt / "checkpoint.npz").state
        else:
            state = load_state_file(ckpt / "state.npz")
        ref = uninterrupted_state(events, n_arms, n_features)
        seen = state.seen
        return CrashReport(mode, n, kills, restarts, int((seen == 0).sum()), int(np.maximum(seen - 1, 0).sum()),
                           bool(np.array_equal(state.n, ref.n)), float(np.abs(state.A - ref.A).max()),
                           float(np.abs(state.b - ref.b).max()), time.perf_counter() - t0)
    finally:
        if tmp is not None:
            tmp.cleanup()
        if own_log:
            log.close()
