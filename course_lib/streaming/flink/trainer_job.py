"""Lesson 08 on Flink: the keyed LinUCB trainer as a DataStream job, with checkpoints and restarts.

The job::

    FileSource(events, text lines) -> flat_map(decode_event; dead letters dropped and counted)
      -> key_by(arm) -> ArmTrainer (KeyedProcessFunction) -> collect sink

``ArmTrainer`` keeps, per arm (the key), ``A_a`` (d x d), ``b_a`` (d,) and ``n_a`` in keyed
``ValueState`` and applies lesson 08's fast path (equation FP: ``A_a += x x^T``, ``b_a += r x``,
``n_a += 1``) to every event; every ``refresh_every`` events of an arm it solves
``theta_a = A_a^{-1} b_a`` (equation SP) and emits it (what the model store publishes); at the end of
the input (the final watermark fires a timer registered per arm) it emits the arm's final state.
Flink shards the keyed state by arm over the parallel subtasks: with parallelism 2 each subtask owns
about half of the arms, as lesson 08's scaling section does by hand with partitions.

Exactly-once.  Checkpoints (barriers through the stream, every ``checkpoint_ms``) snapshot the
source's file offsets together with every arm's keyed state; the restart strategy
(``restart-strategy.type: fixed-delay``) restarts the job after a failure from the last completed
checkpoint, so the events after it are replayed into the state as it was then: each event enters
``A`` and ``b`` exactly once.  ``fail_after`` injects a ``RuntimeError`` in one subtask after that
many events and a completed checkpoint (once: a marker file remembers it), lesson 08's crash test
on Flink; the events before it are slowed to about 1 ms each so that checkpoints complete mid-stream.

The same job on a cluster, by configuration only: submit this module with
``flink run --python course_lib/streaming/flink/__main__.py trainer ...`` (the ``flink`` CLI of a
Flink 2.3 distribution, ``-m jobmanager:8081`` or ``execution.target: remote``, ``rest.address``,
``rest.port`` in its ``config.yaml``), or pass those keys in ``extra_config`` (the CLI's ``--conf``)
with ``python.files`` (this package, shipped to the workers) and ``python.executable`` (a Python
with ``apache-flink`` on the task managers; here it defaults to this process's interpreter);
``parallelism.default``, ``state.backend.type: rocksdb`` and ``execution.checkpointing.dir:
s3://bucket/checkpoints`` (durable checkpoints) change, the code does not.  The production source is
the Kafka connector (``flink-connector-kafka`` jar in ``pipeline.jars``)::

    KafkaSource.builder()
        .set_bootstrap_servers("broker-1:9092,broker-2:9092")
        .set_topics("events").set_group_id("linucb-trainer")
        .set_starting_offsets(KafkaOffsetsInitializer.committed_offsets(KafkaOffsetResetStrategy.EARLIEST))
        .set_value_only_deserializer(SimpleStringSchema())
        .set_property("isolation.level", "read_committed")
        .set_property("commit.offsets.on.checkpoint", "true")
        .build()

(offsets are part of Flink's checkpoint; the commit back to Kafka is only for monitoring).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["run_trainer_job"]

#: Event-time of the per-arm "end of input" timer: only the final watermark reaches it.
END_OF_INPUT_MS = 2 ** 62


def _decoder(n_arms: int, n_features: int):
    from course_lib.streaming.events import DeadLetter, decode_event

    def decode(line: str):
        e = decode_event(line.encode(), n_arms, n_features)
        if type(e) is DeadLetter:
            return
        eid, arm, r, x = e
        yield arm, r, np.asarray(x, dtype=float)

    return decode


def _checkpoint_completed(checkpoint_dir: str) -> bool:
    """Whether a checkpoint of this job has completed (its ``_metadata`` file is written last)."""
    return any(Path(checkpoint_dir).glob("*/chk-*/_metadata"))


def _arm_trainer(n_features: int, l2_lambda: float, refresh_every: int, fail_after: int, fail_marker: str,
                 log_path: str, checkpoint_dir: str):
    from pyflink.common.typeinfo import Types
    from pyflink.datastream import KeyedProcessFunction
    from pyflink.datastream.state import ValueStateDescriptor

    class ArmTrainer(KeyedProcessFunction):
        """Per arm: ``A``, ``b``, ``n`` in keyed ValueState; FP per event, SP every ``refresh_every``."""

        def open(self, runtime_context):
            self.A = runtime_context.get_state(ValueStateDescriptor("A", Types.PICKLED_BYTE_ARRAY()))
            self.b = runtime_context.get_state(ValueStateDescriptor("b", Types.PICKLED_BYTE_ARRAY()))
            self.n = runtime_context.get_state(ValueStateDescriptor("n", Types.LONG()))
            self.subtask = runtime_context.get_index_of_this_subtask()
            self.processed = 0
            self.first_seen: set[int] = set()   # arms seen in this attempt (since the last (re)start)

        def process_element(self, value, ctx):
            arm, r, x = value
            n = self.n.value()
            if n is None:
                A, b, n = np.eye(n_features) * l2_lambda, np.zeros(n_features), 0
            else:
                A, b = self.A.value(), self.b.value()
            if arm not in self.first_seen:
                # The end-of-input timer, registered again in every attempt (a timer of the same key and
                # time is kept once): PyFlink's timer registrations travel apart from its state writes, and
                # a checkpoint taken between the two can restore an arm's state without its timer.
                ctx.timer_service().register_event_time_timer(END_OF_INPUT_MS)
                self.first_seen.add(arm)
                if log_path:   # evidence of a restore: n > 0 before this attempt's first event of the arm
                    with open(log_path, "a") as f:
                        f.write(json.dumps({"subtask": self.subtask, "arm": int(arm), "n_at_first_event": int(n)}) + "\n")
            A = A + np.outer(x, x)
            b = b + r * x
            n += 1
            self.A.update(A)
            self.b.update(b)
            self.n.update(n)
            self.processed += 1
            if fail_after and not os.path.exists(fail_marker):
                # The failure demo: slowed to ~1 ms an event until it has failed, so that checkpoints
                # complete mid-stream, and failing only once one has (a restart from a checkpoint, not
                # from the beginning).
                time.sleep(0.001)
                if (self.processed >= fail_after and self.processed % 20 == 0
                        and _checkpoint_completed(checkpoint_dir)):
                    Path(fail_marker).write_text(f"subtask {self.subtask} failed after {self.processed} events\n")
                    raise RuntimeError(f"injected failure after {self.processed} events (lesson 08 on Flink)")
            if refresh_every and n % refresh_every == 0:
                theta = np.linalg.solve(A, b)
                yield json.dumps({"kind": "theta", "arm": int(arm), "n": int(n), "theta": theta.tolist()})

        def on_timer(self, timestamp, ctx):
            arm = ctx.get_current_key()
            A, b, n = self.A.value(), self.b.value(), self.n.value()
            yield json.dumps({"kind": "final", "arm": int(arm), "n": int(n), "A": A.tolist(), "b": b.tolist(),
                              "theta": np.linalg.solve(A, b).tolist()})

    return ArmTrainer()


def run_trainer_job(events_path: str | Path, out_path: str | Path, n_arms: int, n_features: int,
                    l2_lambda: float = 1.0, refresh_every: int = 1000, parallelism: int = 2,
                    checkpoint_ms: int = 200, fail_after: int = 0, work_dir: str | Path | None = None,
                    extra_config: dict[str, str] | None = None) -> dict:
    """Run the keyed trainer on the local mini-cluster (or where ``extra_config`` points it).

    Writes one JSON object to ``out_path``: per arm ``A``, ``b``, ``n``, ``theta``, the number of
    theta refreshes emitted, the restore log and the wall time; returns the same dict.
    """
    from pyflink.common import Configuration, WatermarkStrategy
    from pyflink.common.typeinfo import Types
    from pyflink.datastream import CheckpointingMode, StreamExecutionEnvironment
    from pyflink.datastream.connectors.file_system import FileSource, StreamFormat

    work = Path(work_dir) if work_dir else Path(out_path).parent
    work.mkdir(parents=True, exist_ok=True)
    fail_marker = str(work / "failed.marker")
    log_path = str(work / "restore_log.jsonl")
    checkpoint_dir = (work / "checkpoints").resolve()
    for p in (fail_marker, log_path):
        if os.path.exists(p):
            os.remove(p)
    if checkpoint_dir.exists():
        import shutil
        shutil.rmtree(checkpoint_dir)

    config = Configuration()
    config.set_string("python.executable", sys.executable)
    config.set_string("python.client.executable", sys.executable)
    config.set_string("restart-strategy.type", "fixed-delay")
    config.set_string("restart-strategy.fixed-delay.attempts", "3")
    config.set_string("restart-strategy.fixed-delay.delay", "200 ms")
    config.set_string("execution.checkpointing.dir", checkpoint_dir.as_uri())
    for k, v in (extra_config or {}).items():
        config.set_string(k, str(v))
    env = StreamExecutionEnvironment.get_execution_environment(config)
    env.set_parallelism(int(parallelism))
    env.enable_checkpointing(int(checkpoint_ms), CheckpointingMode.EXACTLY_ONCE)

    source = FileSource.for_record_stream_format(StreamFormat.text_line_format(),
                                                 str(Path(events_path).resolve())).build()
    lines = env.from_source(source, WatermarkStrategy.no_watermarks(), "events")
    events = lines.flat_map(_decoder(n_arms, n_features), output_type=Types.PICKLED_BYTE_ARRAY())
    out = (events.key_by(lambda e: int(e[0]), key_type=Types.INT())
           .process(_arm_trainer(n_features, float(l2_lambda), int(refresh_every), int(fail_after),
                                 fail_marker, log_path, str(checkpoint_dir)), output_type=Types.STRING()))
    t0 = time.perf_counter()
    final, refreshes = {}, 0
    with out.execute_and_collect("lesson08-linucb-trainer") as results:
        for s in results:
            rec = json.loads(s)
            if rec["kind"] == "theta":
                refreshes += 1
            else:
                final[rec["arm"]] = rec
    wall = time.perf_counter() - t0
    restores = [json.loads(l) for l in Path(log_path).read_text().splitlines()] if os.path.exists(log_path) else []
    result = {"n_arms": n_arms, "n_features": n_features, "parallelism": int(parallelism),
              "fail_after": int(fail_after), "failed": os.path.exists(fail_marker),
              "theta_refreshes": refreshes, "wall_s": wall,
              "restored_arms": [r for r in restores if r["n_at_first_event"] > 0],
              "arms": {str(a): final[a] for a in sorted(final)}}
    Path(out_path).write_text(json.dumps(result))
    return result
