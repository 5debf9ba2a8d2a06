"""Lesson 08: the event log on Kafka, through the real client API (``confluent-kafka``).

``EventLog.start()`` uses the broker in ``KAFKA_BOOTSTRAP_SERVERS`` when it is set; otherwise it
starts librdkafka's built-in mock cluster (``test.mock.num.brokers``) inside this process.  The
mock brokers listen on loopback ports, so other OS processes (a trainer, a server) connect to
``log.bootstrap`` exactly as they would to a real broker; the cluster lives as long as the process
that owns it (the notebook kernel, the test) and ``close()`` ends it.  Mock topics are created on
first use with 4 partitions; on a real broker ``ensure_topic`` creates them with the admin API.
The mock keeps about 5 MB per partition and deletes older messages beyond that, like a broker's
retention: keep messages short (the lesson rounds contexts to 4 decimals) and never let a consumer
reset silently past deleted events (the trainer sets ``auto.offset.reset=error``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

__all__ = ["EventLog", "client_config", "MOCK_PARTITIONS"]

#: Partitions of a topic the mock cluster auto-creates (librdkafka's default).
MOCK_PARTITIONS = 4
_QUIET = {"log_level": 3}  # errors only: the mock cluster announces itself at level 5


def client_config(bootstrap: str, **extra) -> dict:
    """Kafka client settings for ``bootstrap`` (quiet logging plus ``extra``)."""
    return {"bootstrap.servers": bootstrap, **_QUIET, **extra}


class EventLog:
    """A Kafka cluster to talk to: its ``bootstrap`` servers, producers, consumers, topic helpers."""

    def __init__(self, bootstrap: str, owner: Producer | None = None):
        self.bootstrap = bootstrap
        self._owner = owner
        self.is_mock = owner is not None

    @classmethod
    def start(cls, bootstrap: str | None = None) -> EventLog:
        """Connect to ``bootstrap`` or ``$KAFKA_BOOTSTRAP_SERVERS``; else start a one-broker mock cluster."""
        bootstrap = bootstrap or os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if bootstrap:
            return cls(bootstrap)
        owner = Producer({"test.mock.num.brokers": 1, **_QUIET})
        brokers = owner.list_topics(timeout=10).brokers.values()
        return cls(",".join(f"{b.host}:{b.port}" for b in brokers), owner)

    def close(self) -> None:
        """End the mock cluster (a no-op for a real broker)."""
        if self._owner is not None:
            self._owner.flush(5)
            self._owner = None

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def producer(self, **extra) -> Producer:
        return Producer(client_config(self.bootstrap, **{"linger.ms": 5, "enable.idempotence": True, **extra}))

    def consumer(self, group: str = "course", **extra) -> Consumer:
        return Consumer(client_config(self.bootstrap, **{"group.id": group, "enable.auto.commit": False,
                                                         "auto.offset.reset": "earliest", **extra}))

    def ensure_topic(self, topic: str, partitions: int = MOCK_PARTITIONS) -> int:
        """Create ``topic`` if needed; return its number of partitions."""
        if not self.is_mock:
            from confluent_kafka.admin import AdminClient, NewTopic
            admin = AdminClient(client_config(self.bootstrap))
            for fut in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
                try:
                    fut.result(10)
                except KafkaException as err:
                    if "TOPIC_ALREADY_EXISTS" not in str(err):
                        raise
        p = self.producer()
        for _ in range(50):
            md = p.list_topics(topic, timeout=10).topics[topic]
            if md.error is None and md.partitions:
                return len(md.partitions)
            time.sleep(0.1)
        raise RuntimeError(f"topic {topic!r} did not appear on {self.bootstrap}")

    def produce(self, topic: str, values: Sequence[bytes], keys: Sequence | None = None) -> int:
        """Produce messages (keyed by ``keys``, e.g. user ids, so one user's events keep their order)."""
        p = self.producer()
        for i, v in enumerate(values):
            key = None if keys is None else str(keys[i]).encode()
            while True:
                try:
                    p.produce(topic, value=v, key=key)
                    break
                except BufferError:
                    p.poll(0.05)
            if i % 10_000 == 0:
                p.poll(0)
        left = p.flush(30)
        if left:
            raise RuntimeError(f"{left} messages were not delivered to {topic!r}")
        return len(values)

    def end_offsets(self, topic: str) -> dict[int, int]:
        """The high watermark (next offset) of every partition of ``topic``."""
        c = self.consumer()
        try:
            parts = c.list_topics(topic, timeout=10).topics[topic].partitions
            return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
        finally:
            c.close()

    def read_all(self, topic: str, timeout: float = 10.0) -> list[bytes]:
        """Every message value of ``topic`` (for small topics: dead letters, checks)."""
        ends = self.end_offsets(topic)
        c = self.consumer()
        c.assign([TopicPartition(topic, p, 0) for p in ends])
        out, pos = [], {p: 0 for p in ends}
        deadline = time.monotonic() + timeout
        try:
            while any(pos[p] < ends[p] for p in ends) and time.monotonic() < deadline:
                for m in c.consume(1000, timeout=0.2):
                    if m.error() is None:
                        out.append(m.value())
                        pos[m.partition()] = m.offset() + 1
        finally:
            c.close()
        return out
