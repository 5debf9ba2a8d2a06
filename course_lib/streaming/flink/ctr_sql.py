"""Lesson 08 on Flink: per-user click-through rate over one-minute tumbling event-time windows (SQL).

The query (window table-valued function, Flink >= 1.13)::

    SELECT `user`, window_start, window_end,
           CAST(SUM(r) AS BIGINT)                          AS clicks,
           COUNT(*)                                        AS `views`,
           CAST(SUM(r) AS DOUBLE) / NULLIF(COUNT(*), 0)    AS ctr
    FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(rowtime), INTERVAL '1' MINUTE))
    GROUP BY `user`, window_start, window_end

What the seed's query got wrong, and the fix:

1. it grouped by the window but did not select its bounds, so a result row could not say which
   minute it counts (two rows of one user were indistinguishable): ``window_start``/``window_end``
   are selected here and are part of the sink's key;
2. it divided clicks by a view count that can be zero and did so in integers (``1 / 3 = 0``):
   ``CAST(... AS DOUBLE) / NULLIF(views, 0)`` gives a real ratio, and NULL instead of a division
   error where a window has no view.  (In lesson 08's format every event is an impression, so a
   result row here always has views >= 1; the guard matters as soon as clicks arrive as events of
   their own, as with the delayed feedback of lesson 08, where a window can hold clicks only.)

Event time and lateness.  ``rowtime`` is the event's ``ts`` (seconds, as a millisecond
``TIMESTAMP_LTZ(3)``) and the watermark is ``rowtime - INTERVAL 'delay' SECOND``: after an event of
time t the job believes no event older than t - delay is still coming.  A tumbling window
[s, s + 60 s) fires when the watermark reaches s + 60 s - 1 ms; an event that arrives after its
window fired is *late* and dropped (Flink's window aggregation drops, it does not update a result
already emitted).  With ``pipeline.auto-watermark-interval = 0`` and parallelism 1 the watermark
advances after every event, so which events are late is a deterministic function of the file's
order: the event at position i is dropped iff ``end(window(t_i)) - 1 ms <= max_{j<i} t_j - delay``
(``course_lib.streaming.flink_results.pandas_ctr`` computes exactly this with pandas).

Source and sink.  Here the source is a file of lesson 08 events (JSON lines, filesystem connector
with the ``json`` format, bundled with PyFlink) and the results are collected by the job's client
and written to a JSON-lines file the course reads back.  In production the same query reads the
``events`` topic with the Kafka connector (``flink-sql-connector-kafka`` jar on the class path,
``pipeline.jars``); only the table's WITH clause changes::

    'connector' = 'kafka',
    'topic' = 'events',
    'properties.bootstrap.servers' = 'broker-1:9092,broker-2:9092',
    'properties.group.id' = 'ctr-windows',
    'scan.startup.mode' = 'group-offsets',
    'properties.auto.offset.reset' = 'earliest',
    'format' = 'json',
    'json.fail-on-missing-field' = 'false',
    'json.ignore-parse-errors' = 'true'

and the sink is an ``upsert-kafka`` table (``'connector' = 'upsert-kafka'``, ``'topic' = 'ctr'``,
``'key.format' = 'json'``, ``'value.format' = 'json'``, PRIMARY KEY (``user``, window_start) NOT
ENFORCED) or a JDBC table; with Kafka's watermarks per partition, set ``'scan.watermark.idle-timeout'``
so that an idle partition does not hold every window back.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["CTR_QUERY", "source_ddl", "run_ctr_job"]

CTR_QUERY = """
SELECT `user`, CAST(window_start AS STRING) AS window_start, CAST(window_end AS STRING) AS window_end,
       CAST(SUM(r) AS BIGINT) AS clicks,
       COUNT(*) AS `views`,
       CAST(SUM(r) AS DOUBLE) / NULLIF(COUNT(*), 0) AS ctr
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(rowtime), INTERVAL '1' MINUTE))
GROUP BY `user`, window_start, window_end
"""


def source_ddl(events_path: str | Path, delay_s: float) -> str:
    """The ``events`` table over a JSON-lines file, event time from ``ts`` and a bounded-delay watermark."""
    delay_ms = int(round(float(delay_s) * 1000))
    return f"""
CREATE TABLE events (
    id BIGINT, ts DOUBLE, `user` BIGINT, arm INT, p DOUBLE, r DOUBLE,
    rowtime AS TO_TIMESTAMP_LTZ(CAST(ts * 1000 AS BIGINT), 3),
    WATERMARK FOR rowtime AS rowtime - INTERVAL '{delay_ms / 1000:.3f}' SECOND
) WITH (
    'connector' = 'filesystem',
    'path' = '{Path(events_path).resolve()}',
    'format' = 'json',
    'json.fail-on-missing-field' = 'true'
)"""


def run_ctr_job(events_path: str | Path, out_path: str | Path, delay_s: float = 5.0) -> int:
    """Run the windowed CTR query on a local mini-cluster; write one JSON line per (user, window).

    Returns the number of result rows.  Parallelism 1 (one file, one split) and a watermark after
    every event make the set of late events deterministic (see the module docstring).
    """
    from pyflink.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    conf.set("parallelism.default", "1")
    conf.set("pipeline.auto-watermark-interval", "0 ms")
    conf.set("table.local-time-zone", "UTC")
    conf.set("table.optimizer.agg-phase-strategy", "ONE_PHASE")
    t_env.execute_sql(source_ddl(events_path, delay_s))
    rows = []
    with t_env.execute_sql(CTR_QUERY).collect() as results:
        for row in results:
            user, start, end, clicks, views, ctr = row
            rows.append({"user": int(user), "window_start": str(start), "window_end": str(end),
                         "clicks": int(clicks), "views": int(views), "ctr": None if ctr is None else float(ctr)})
    rows.sort(key=lambda d: (d["window_start"], d["user"]))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tmp.replace(out)
    return len(rows)
