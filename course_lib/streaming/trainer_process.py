"""Lesson 08: the trainer as its own OS process, consuming the Kafka log and checkpointing.

``python -m course_lib.streaming.trainer_process --bootstrap HOST:PORT --topic events --dir CKPT
--arms K --features d [--mode atomic|offsets_first|state_first]`` restores its last checkpoint,
seeks the log to the offsets stored with it, trains to the end of the log and exits 0.

Modes (how a checkpoint is written):

- ``atomic``: state and offsets in one file, renamed into place (``save_checkpoint``).
- ``offsets_first``: commit offsets to Kafka (consumer group), then write the state file;
  a crash in between loses the events of that interval (the offsets say done, the state lacks them).
- ``state_first``: write the state file, then commit offsets; a crash in between counts the
  events of that interval twice on replay.

``--gap-ms`` sleeps before the checkpoint write (atomic) or between the two writes (non-atomic),
standing in for a slow commit round trip, so that a short test hits the window often.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from confluent_kafka import OFFSET_INVALID, TopicPartition

from course_lib.streaming.kafka_log import EventLog
from course_lib.streaming.trainer import (Trainer, TrainerState, load_checkpoint, load_state_file,
                                          save_checkpoint, save_state_file)

MODES = ("atomic", "offsets_first", "state_first")


def restore(log: EventLog, consumer, topic: str, ckpt_dir: Path, mode: str, partitions, fresh) -> tuple:
    """The state and next offsets to resume from, per ``mode``."""
    if mode == "atomic":
        ck = load_checkpoint(ckpt_dir / "checkpoint.npz")
        if ck is None:
            return fresh(), {p: 0 for p in partitions}
        return ck.state, {p: ck.offsets.get(p, 0) for p in partitions}
    state = load_state_file(ckpt_dir / "state.npz") or fresh()
    committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
    offsets = {tp.partition: (tp.offset if tp.offset != OFFSET_INVALID and tp.offset >= 0 else 0)
               for tp in committed}
    return state, offsets


def checkpoint(consumer, topic: str, ckpt_dir: Path, mode: str, state: TrainerState, offsets: dict,
               gap_s: float) -> None:
    """Write one checkpoint per ``mode`` (see the module docstring)."""
    if mode == "atomic":
        time.sleep(gap_s)
        save_checkpoint(ckpt_dir / "checkpoint.npz", state, offsets)
        return
    commit = [TopicPartition(topic, p, o) for p, o in offsets.items()]
    if mode == "offsets_first":
        consumer.commit(offsets=commit, asynchronous=False)
        time.sleep(gap_s)
        save_state_file(ckpt_dir / "state.npz", state)
    else:
        save_state_file(ckpt_dir / "state.npz", state)
        time.sleep(gap_s)
        consumer.commit(offsets=commit, asynchronous=False)


def run(bootstrap: str, topic: str, ckpt_dir: str | Path, n_arms: int, n_features: int, mode: str = "atomic",
        checkpoint_every: int = 2000, gap_ms: float = 0.0, audit_size: int = 0, group: str = "trainer",
        batch: int = 500, on_ready=None, partitions=None) -> TrainerState:
    """Train from the last checkpoint to the end of ``topic`` (or of ``partitions``); return the final state."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    ckpt_dir = Path(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    log = EventLog(bootstrap)
    ends = log.end_offsets(topic)
    if partitions is not None:
        ends = {p: ends[p] for p in partitions}
    # "error", not "earliest": a checkpoint pointing before the log's start (retention deleted the
    # events) must stop the trainer, never skip silently to whatever is left.
    consumer = log.consumer(group, **{"auto.offset.reset": "error"})
    dlq = log.producer()
    try:
        state, offsets = restore(log, consumer, topic, ckpt_dir, mode, list(ends),
                                 lambda: TrainerState.fresh(n_arms, n_features, audit_size=audit_size))
        trainer = Trainer(n_arms, n_features, refresh_every=0, state=state)
        consumer.assign([TopicPartition(topic, p, o) for p, o in offsets.items()])
        since = 0
        while any(offsets[p] < ends[p] for p in ends):
            msgs = consumer.consume(batch, timeout=0.5)
            if msgs and on_ready is not None:  # restored and receiving: a kill from now on hits real work
                on_ready()
                on_ready = None
            for m in msgs:
                if m.error() is not None:
                    raise RuntimeError(f"Kafka error on {topic}[{m.partition()}]: {m.error()}")
            if not msgs:
                continue
            for i, dead in trainer.handle([m.value() for m in msgs]):
                dlq.produce(topic + ".dlq", dead.to_json(msgs[i].partition(), msgs[i].offset()))
            for m in msgs:
                offsets[m.partition()] = m.offset() + 1
            since += len(msgs)
            if since >= checkpoint_every:
                _flush_or_raise(dlq, topic)
                checkpoint(consumer, topic, ckpt_dir, mode, trainer.state, offsets, gap_ms / 1e3)
                since = 0
        _flush_or_raise(dlq, topic)
        checkpoint(consumer, topic, ckpt_dir, mode, trainer.state, offsets, 0.0)
        return trainer.state
    finally:
        consumer.close()


def _flush_or_raise(producer, topic: str, timeout: float = 10.0) -> None:
    """Deliver every queued dead letter before a checkpoint moves past them, or raise."""
    left = producer.flush(timeout)
    if left:
        raise RuntimeError(f"{left} dead letters for {topic}.dlq not delivered within {timeout} s; "
                           "not checkpointing past them (check the broker)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--arms", type=int, required=True)
    ap.add_argument("--features", type=int, required=True)
    ap.add_argument("--mode", default="atomic", choices=MODES)
    ap.add_argument("--checkpoint-every", type=int, default=2000)
    ap.add_argument("--gap-ms", type=float, default=0.0)
    ap.add_argument("--audit-size", type=int, default=0)
    ap.add_argument("--group", default="trainer")
    ap.add_argument("--partitions", default=None, help="comma-separated partitions to own (default: all)")
    a = ap.parse_args(argv)
    parts = None if a.partitions is None else [int(p) for p in a.partitions.split(",")]
    started = []
    state = run(a.bootstrap, a.topic, a.dir, a.arms, a.features, a.mode, a.checkpoint_every, a.gap_ms,
                a.audit_size, a.group, on_ready=lambda: (started.append(time.perf_counter()),
                                                         print("ready", flush=True)), partitions=parts)
    # a restart that finds nothing left to consume never becomes "ready": its run time is 0
    elapsed = time.perf_counter() - started[0] if started else 0.0
    print(f"done {state.n_events} {elapsed:.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
