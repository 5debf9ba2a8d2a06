"""Lesson 08 on Apache Flink: the windowed click-through job and the keyed LinUCB trainer.

Imported only inside the Flink environment (``.venv-flink``, made by ``make flink``: PyFlink pins
older NumPy and pandas than the course and needs a Java 17 runtime).  The main environment reaches
these jobs through ``python -m course_lib.streaming.flink`` in a subprocess and reads their result
files back with ``course_lib.streaming.flink_results``.

- ``ctr_sql``: Flink SQL, per user clicks, views and CTR over one-minute tumbling windows of event
  time with a watermark (late events dropped as the watermark says).
- ``trainer_job``: the DataStream trainer, events keyed by arm, ``A_a`` and ``b_a`` in keyed
  ``ValueState`` (equation FP), ``theta_a`` refreshed every N events of an arm (equation SP),
  checkpoints and a restart strategy (exactly-once after an injected failure).

Both read a file of lesson 08 events (one JSON object a line, ``course_lib.streaming.events``),
since no Kafka connector jar can be downloaded here; each module's docstring gives the Kafka
source's production configuration.
"""
