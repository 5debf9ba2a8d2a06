"""Lesson 08: Redis Streams as the event log, with a consumer group and an idempotent trainer.

Many teams start with Redis Streams instead of Kafka.  A consumer group gives at-least-once
delivery: an entry read with XREADGROUP stays *pending* for its consumer until XACK; when a
consumer dies, another one takes its pending entries over with XAUTOCLAIM.  Redelivery means
duplicates, so the trainer de-duplicates by event id:

1. restore the checkpoint: the sums *and* the set of event ids they contain (one atomic file);
2. take over pending entries (XAUTOCLAIM, also from dead consumers), then read new ones ('>');
3. apply an event only if its id is not in the set (exercise 2 of the lesson);
4. every ``checkpoint_every`` entries: write the checkpoint, *then* XACK the entries it covers.

A crash before 4 leaves the entries pending (they come back, and are not in the restored set);
a crash between the write and the XACK brings back entries that are in the set (skipped).  Either
way every event enters the sums exactly once.

``python -m course_lib.streaming.redis_streams --url URL --stream S --dir D --arms K --features d``
runs the trainer as its own process (used by ``run_stream_crash_test``).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from course_lib.streaming.crash import CrashReport, _wait_ready, uninterrupted_state
from course_lib.streaming.events import DeadLetter, decode_event, encode_events, make_events
from course_lib.streaming.trainer import TrainerState, _npz_bytes, _write_atomically, fast_path
from course_lib.validate import integer

__all__ = ["add_events", "run_stream_trainer", "run_stream_crash_test"]

GROUP = "trainers"


def add_events(client, stream: str, values, chunk: int = 5000) -> int:
    """XADD every message value (field ``v``) in pipelined chunks; create the consumer group."""
    for s in range(0, len(values), chunk):
        with client.pipeline(transaction=False) as p:
            for v in values[s:s + chunk]:
                p.xadd(stream, {"v": v})
            p.execute()
    try:
        client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except Exception as err:  # BUSYGROUP: it exists already
        if "BUSYGROUP" not in str(err):
            raise
    return len(values)


def _save(path: Path, state: TrainerState, applied: set[int], skipped: int) -> None:
    arrays = dict(state.arrays())
    arrays["applied"] = np.fromiter(applied, dtype=np.int64, count=len(applied))
    arrays["skipped"] = np.array([skipped], dtype=np.int64)
    _write_atomically(path, _npz_bytes(arrays))


def _load(path: Path):
    if not path.exists():
        return None, set(), 0
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    applied = set(arrays.pop("applied").tolist())
    skipped = int(arrays.pop("skipped")[0])
    return TrainerState.from_arrays(arrays), applied, skipped


def run_stream_trainer(url: str, stream: str, ckpt_dir: str | Path, n_arms: int, n_features: int,
                       consumer: str, checkpoint_every: int = 1000, audit_size: int = 0, on_ready=None,
                       batch: int = 500, dedup: bool = True, gap_ms: float = 0.0,
                       min_idle_ms: int = 0) -> TrainerState:
    """Train from the checkpoint until every entry of ``stream`` is applied (steps 1-4 above).

    ``dedup=False`` is the broken variant (applies redeliveries again), for the lesson's contrast;
    ``gap_ms`` sleeps between the checkpoint and the XACK, widening the window in which a crash
    makes the group redeliver entries the sums already contain (a slow network round trip).
    ``min_idle_ms``: XAUTOCLAIM takes only entries pending that long.  0 suits this single-owner
    design (a restart replaces a dead trainer); with live peers set it above the worst processing
    time of a batch, or a slow but healthy consumer has its entries stolen.  Rejected entries are
    XADDed to ``<stream>.dlq`` before their XACK.
    """
    import redis
    r = redis.Redis.from_url(url)
    path = Path(ckpt_dir) / "stream_checkpoint.npz"
    Path(ckpt_dir).mkdir(parents=True, exist_ok=True)
    state, applied, skipped = _load(path)
    state = state or TrainerState.fresh(n_arms, n_features, audit_size=audit_size)
    total = r.xlen(stream)
    unacked: list[bytes] = []
    dead = sum(state.dead.values())   # dead letters already in the checkpoint count as done

    def apply(entries) -> None:
        nonlocal dead, skipped
        ids, arms, rewards, xs = [], [], [], []
        for entry_id, fields in entries:
            unacked.append(entry_id)
            e = decode_event(fields[b"v"], n_arms, n_features)
            if type(e) is DeadLetter:      # kept in <stream>.dlq before its XACK: never dropped silently
                r.xadd(stream + ".dlq", {"v": e.to_json(-1, -1), "entry": entry_id})
                state.dead[e.reason] += 1
                dead += 1
                continue
            if e[0] in applied:           # a redelivery
                if dedup:                  # ... already in the sums: skip it
                    skipped += 1
                    continue
            applied.add(e[0])
            ids.append(e[0]); arms.append(e[1]); rewards.append(e[2]); xs.append(e[3])
        if ids:
            fast_path(state, np.array(arms), np.array(rewards), np.array(xs, dtype=float), np.array(ids))

    def checkpoint() -> None:
        _save(path, state, applied, skipped)   # first the state with its ids ...
        time.sleep(gap_ms / 1e3)
        if unacked:                      # ... then acknowledge what it covers
            r.xack(stream, GROUP, *unacked)
            unacked.clear()

    since = 0
    start = "0-0"
    while True:  # step 2a: take over pending entries, ours and dead consumers'
        res = r.xautoclaim(stream, GROUP, consumer, min_idle_time=min_idle_ms, start_id=start, count=batch)
        start, entries = res[0], res[1]
        if entries:
            if on_ready is not None:
                on_ready(); on_ready = None
            apply(entries)
            since += len(entries)
            if since >= checkpoint_every:
                checkpoint(); since = 0
        if start in (b"0-0", "0-0"):
            break
    while len(applied) + dead < total:  # step 2b: new entries
        res = r.xreadgroup(GROUP, consumer, {stream: ">"}, count=batch, block=200)
        if not res:
            continue
        entries = res[0][1]
        if on_ready is not None:
            on_ready(); on_ready = None
        apply(entries)
        since += len(entries)
        if since >= checkpoint_every:
            checkpoint(); since = 0
    checkpoint()
    return state


def run_stream_crash_test(url: str, n_events: int = 20_000, n_kills: int = 10, n_arms: int = 20,
                          n_features: int = 6, checkpoint_every: int = 1000, max_delay_s: float = 0.5,
                          seed: int = 0, dedup: bool = True, gap_ms: float = 100.0) -> CrashReport:
    """Kill the Redis Streams trainer ``n_kills`` times; each restart is a new consumer (a new pod)."""
    import redis
    n = integer("n_events", n_events, low=1)
    rng = np.random.default_rng(seed)
    events = make_events(n, n_arms, n_features, seed=seed)
    stream = f"events-{uuid.uuid4().hex[:8]}"
    r = redis.Redis.from_url(url)
    t0 = time.perf_counter()
    add_events(r, stream, encode_events(events["id"], events["ts"], events["user"], events["arm"], events["p"],
                                        events["r"], events["x"]))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]) + os.pathsep +
           os.environ.get("PYTHONPATH", "")}
    kills = restarts = 0
    with tempfile.TemporaryDirectory(prefix="course-stream-") as tmp:
        try:
            while True:
                cmd = [sys.executable, "-m", "course_lib.streaming.redis_streams", "--url", url, "--stream", stream,
                       "--dir", tmp, "--arms", str(n_arms), "--features", str(n_features), "--consumer",
                       f"pod-{restarts}", "--checkpoint-every", str(checkpoint_every), "--audit-size", str(n)]
                cmd += ["--gap-ms", str(gap_ms)] + ([] if dedup else ["--no-dedup"])
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                restarts += 1
                try:
                    if kills < n_kills and _wait_ready(proc, 60):
                        time.sleep(rng.uniform(0, max_delay_s))
                        if proc.poll() is None:
                            proc.send_signal(signal.SIGKILL)
                            proc.wait()
                            kills += 1
                            continue
                    _, err = proc.communicate(timeout=300)
                    if proc.returncode != 0:
                        raise RuntimeError(f"stream trainer exited with {proc.returncode}: {err.decode()[-2000:]}")
                    break  # a clean exit means every entry was applied: a restart would find nothing
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
                    proc.stdout.close()
                    proc.stderr.close()
            state, _, skipped = _load(Path(tmp) / "stream_checkpoint.npz")
            pending = r.xpending(stream, GROUP)["pending"]
        finally:
            r.delete(stream)
    if pending:
        raise RuntimeError(f"{pending} entries still pending after the final run")
    ref = uninterrupted_state(events, n_arms, n_features)
    seen = state.seen
    return CrashReport("redis_streams", n, kills, restarts, int((seen == 0).sum()), int(np.maximum(seen - 1, 0).sum()),
                       bool(np.array_equal(state.n, ref.n)), float(np.abs(state.A - ref.A).max()),
                       float(np.abs(state.b - ref.b).max()), time.perf_counter() - t0, skipped)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Lesson 08: the Redis Streams trainer process")
    ap.add_argument("--url", required=True)
    ap.add_argument("--stream", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--arms", type=int, required=True)
    ap.add_argument("--features", type=int, required=True)
    ap.add_argument("--consumer", required=True)
    ap.add_argument("--checkpoint-every", type=int, default=1000)
    ap.add_argument("--audit-size", type=int, default=0)
    ap.add_argument("--no-dedup", action="store_true", help="the broken variant: apply redeliveries again")
    ap.add_argument("--gap-ms", type=float, default=0.0)
    a = ap.parse_args(argv)
    run_stream_trainer(a.url, a.stream, a.dir, a.arms, a.features, a.consumer, a.checkpoint_every, a.audit_size,
                       on_ready=lambda: print("ready", flush=True), dedup=not a.no_dedup, gap_ms=a.gap_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
